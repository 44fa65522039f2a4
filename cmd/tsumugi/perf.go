package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"strings"
	"time"

	"github.com/tsumugi-quic/tsumugi/metrics"
	"github.com/tsumugi-quic/tsumugi/quic"
)

const perfSynopsis = "-mode bulk|streams|handshakes|memory [-size N] [-n N] [-c N] [-streams N] [-proc] [-metrics]"

const perfDescription = `
Perf runs a client and a server on loopback, in this process (or, with
-proc, the server in a child process) and prints one line per result:

	RESULT bulk secs=S gbps=G cpu_s_per_GB=C
	    one stream carries -size bytes (default 1 GiB)
	RESULT streams secs=S streams_per_s=R cpu_us_per_stream=C
	    -n streams (default 10000), -c at a time (default 100) on one
	    connection: a 32 B request, a 1 KiB answer each
	RESULT handshakes secs=S hs_per_s=R cpu_us_per_hs=C p50_us=P p99_us=Q
	    -n connections (default 2000), -c at a time (default 1): a full
	    handshake each, without resumption; p50 and p99 of Dial's latency
	RESULT memory conn_heap_B=H stream_heap_B=S
	    live heap per idle connection (-n, default 100) and per open
	    stream (-streams on one connection, default 1000), per side: the
	    heap growth of both sides divided by two

CPU is user plus system time of both sides (this process, and the child
with -proc), from getrusage (GetProcessTimes on Windows; NaN where neither
exists). The server side is "tsumugi serve"'s HTTP/0.9 code over generated
bytes, so figures line up with other stacks' hq-interop servers.`

// perfOptions configure a perf run.
type perfOptions struct {
	mode        string
	size        int64
	n, c        int
	streams     int
	proc        bool
	withMetrics bool
	cpuProfile  string
	memProfile  string
	traceFile   string
}

// perfIdleTimeout keeps perf's idle connections up for the whole run.
const perfIdleTimeout = 5 * time.Minute

// Defaults of -n and -c per mode.
var perfDefaults = map[string]struct{ n, c int }{
	"bulk":       {1, 1},
	"streams":    {10000, 100},
	"handshakes": {2000, 1},
	"memory":     {100, 1},
}

// runPerf is `tsumugi perf`.
func runPerf(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o perfOptions
	fs := newFlagSet("perf", perfSynopsis, perfDescription, stderr)
	fs.StringVar(&o.mode, "mode", "", "what to measure: bulk, streams, handshakes or memory")
	fs.Int64Var(&o.size, "size", 1<<30, "bulk: bytes to transfer")
	fs.IntVar(&o.n, "n", 0, "streams: streams; handshakes: connections; memory: idle connections (default per mode)")
	fs.IntVar(&o.c, "c", 0, "streams, handshakes: how many at a time (default per mode)")
	fs.IntVar(&o.streams, "streams", 1000, "memory: open streams")
	fs.BoolVar(&o.proc, "proc", false, "run the server in a child process")
	fs.BoolVar(&o.withMetrics, "metrics", false, "attach a metrics Collector on both sides (to measure its cost)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of this process to `file`")
	fs.StringVar(&o.memProfile, "memprofile", "", "write a heap profile of this process to `file` at the end")
	fs.StringVar(&o.traceFile, "trace", "", "write an execution trace of this process to `file` (go tool trace)")
	if code, stop := parseFlags(fs, args); stop {
		return code
	}
	def, ok := perfDefaults[o.mode]
	if !ok || fs.NArg() > 0 {
		fmt.Fprintf(stderr, "tsumugi perf: -mode must be bulk, streams, handshakes or memory\n")
		fs.Usage()
		return 2
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["n"] {
		o.n = def.n
	}
	if !set["c"] {
		o.c = def.c
	}
	if o.n < 1 || o.c < 1 || o.size < 0 || o.size > maxSynthSize || o.streams < 1 {
		fmt.Fprintf(stderr, "tsumugi perf: -n, -c and -streams must be positive, -size between 0 and %d\n", int64(maxSynthSize))
		return 2
	}
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "tsumugi perf: %v\n", err)
			return 1
		}
		defer f.Close()
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	if o.traceFile != "" {
		f, err := os.Create(o.traceFile)
		if err != nil {
			fmt.Fprintf(stderr, "tsumugi perf: %v\n", err)
			return 1
		}
		defer f.Close()
		if err := trace.Start(f); err != nil {
			fmt.Fprintf(stderr, "tsumugi perf: %v\n", err)
			return 1
		}
		defer trace.Stop()
	}
	heapProfile = o.memProfile
	if heapProfile != "" {
		runtime.MemProfileRate = 1 // every allocation, for exact figures
	}
	line, err := perf(ctx, o)
	if o.mode != "memory" {
		writeHeapProfile()
	}
	if err != nil {
		fmt.Fprintf(stderr, "tsumugi perf: %s: %v\n", o.mode, err)
		return 1
	}
	fmt.Fprintln(stdout, line)
	return 0
}

// heapProfile is where -memprofile writes: at the end of a run, or for
// -mode memory while the idle connections are held.
var heapProfile string

func writeHeapProfile() {
	if heapProfile == "" {
		return
	}
	if f, err := os.Create(heapProfile); err == nil {
		runtime.GC()
		pprof.WriteHeapProfile(f)
		f.Close()
	}
}

// perf runs one measurement and returns its RESULT line.
func perf(ctx context.Context, o perfOptions) (string, error) {
	maxStreams := int64(max(o.c, 100))
	if o.mode == "memory" {
		maxStreams = int64(o.streams)
	}
	var peer perfPeer
	if o.proc {
		p, err := startChildPeer(o.mode, maxStreams, o.withMetrics)
		if err != nil {
			return "", err
		}
		peer = p
	} else {
		s, err := startPerfServer(o.mode, maxStreams, o.withMetrics)
		if err != nil {
			return "", err
		}
		peer = localPeer{s}
	}
	defer peer.close()

	conf := &quic.Config{HandshakeTimeout: 10 * time.Second, MaxIdleTimeout: perfIdleTimeout}
	if o.withMetrics {
		conf = withCollector(conf, metrics.New())
	}
	cl := &perfClient{
		addr: peer.addr(),
		tls:  &tls.Config{InsecureSkipVerify: true, ServerName: "localhost", NextProtos: []string{alpn}},
		conf: conf,
		peer: peer,
	}
	switch o.mode {
	case "bulk":
		return cl.bulk(ctx, o.size)
	case "streams":
		return cl.streams(ctx, o.n, o.c)
	case "handshakes":
		return cl.handshakes(ctx, o.n, o.c)
	default:
		return cl.memory(ctx, o.n, o.streams)
	}
}

// perfClient is the client side of perf.
type perfClient struct {
	addr string
	tls  *tls.Config
	conf *quic.Config
	peer perfPeer
}

func (cl *perfClient) dial(ctx context.Context) (*quic.Conn, error) {
	return quic.Dial(ctx, "udp", cl.addr, cl.tls, cl.conf)
}

// cpuMeter measures the CPU both sides use between start and stop.
type cpuMeter struct {
	peer        perfPeer
	self, peer0 time.Duration
	ok          bool
}

func startCPU(peer perfPeer) *cpuMeter {
	m := &cpuMeter{peer: peer}
	var ok bool
	m.self, ok = cpuTime()
	p, err := peer.cpu()
	m.peer0, m.ok = p, ok && err == nil
	return m
}

// stop returns the CPU time used since start, NaN seconds when unknown.
func (m *cpuMeter) stop() float64 {
	self, ok := cpuTime()
	p, err := m.peer.cpu()
	if !m.ok || !ok || err != nil {
		return math.NaN()
	}
	return (self - m.self + p - m.peer0).Seconds()
}

// result formats a RESULT line from alternating keys and values.
func result(mode string, kv ...any) string {
	var b strings.Builder
	b.WriteString("RESULT ")
	b.WriteString(mode)
	for i := 0; i+1 < len(kv); i += 2 {
		fmt.Fprintf(&b, " %s=", kv[i])
		switch v := kv[i+1].(type) {
		case float64:
			b.WriteString(formatFloat(v))
		default:
			fmt.Fprint(&b, v)
		}
	}
	return b.String()
}

// formatFloat prints up to 4 significant digits, without exponent for the
// usual ranges.
func formatFloat(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "NaN"
	case math.Abs(v) >= 1000:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 1:
		return fmt.Sprintf("%.3f", v)
	default:
		return fmt.Sprintf("%.4g", v)
	}
}
