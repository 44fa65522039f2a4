package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"runtime/trace"
	"strings"
	"time"

	"github.com/quic-go/quic-go"
)

const perfUsage = `usage: quicgo perf -mode bulk|streams|handshakes|memory [-size N] [-n N] [-c N] [-streams N] [-proc]

Perf runs tsumugi perf's workloads with quic-go as client and server on
loopback, in this process (or, with -proc, the server in a child
process), and prints the same lines as tsumugi perf:

	RESULT bulk secs=S gbps=G cpu_s_per_GB=C
	RESULT streams secs=S streams_per_s=R cpu_us_per_stream=C
	RESULT handshakes secs=S hs_per_s=R cpu_us_per_hs=C p50_us=P p99_us=Q
	RESULT memory conn_heap_B=H stream_heap_B=S

The flags, their defaults, the TLS setup, the HTTP/0.9 exchange and the
way time, CPU (getrusage, both processes with -proc) and heap (after GC)
are measured are those of tsumugi perf; see "tsumugi perf -h".
tsumugi perf's -metrics has no counterpart here.`

// perfOptions configure a perf run.
type perfOptions struct {
	mode    string
	size    int64
	n, c    int
	streams int
	proc    bool
}

// perfIdleTimeout keeps perf's idle connections up for the whole run.
const perfIdleTimeout = 5 * time.Minute

// perfHandshakeTimeout is tsumugi perf's client HandshakeTimeout; quic-go's
// nearest setting is HandshakeIdleTimeout.
const perfHandshakeTimeout = 10 * time.Second

// Defaults of -n and -c per mode, as in tsumugi perf.
var perfDefaults = map[string]struct{ n, c int }{
	"bulk":       {1, 1},
	"streams":    {10000, 100},
	"handshakes": {2000, 1},
	"memory":     {100, 1},
}

// runPerf is `quicgo perf`.
func runPerf(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o perfOptions
	fs := flag.NewFlagSet("quicgo perf", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "%s\n\nFlags:\n", perfUsage)
		fs.PrintDefaults()
	}
	fs.StringVar(&o.mode, "mode", "", "what to measure: bulk, streams, handshakes or memory")
	fs.Int64Var(&o.size, "size", 1<<30, "bulk: bytes to transfer")
	fs.IntVar(&o.n, "n", 0, "streams: streams; handshakes: connections; memory: idle connections (default per mode)")
	fs.IntVar(&o.c, "c", 0, "streams, handshakes: how many at a time (default per mode)")
	fs.IntVar(&o.streams, "streams", 1000, "memory: open streams")
	fs.BoolVar(&o.proc, "proc", false, "run the server in a child process")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of this process to `file`")
	traceFile := fs.String("trace", "", "write an execution trace of this process to `file` (go tool trace)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	def, ok := perfDefaults[o.mode]
	if !ok || fs.NArg() > 0 {
		fmt.Fprintf(stderr, "quicgo perf: -mode must be bulk, streams, handshakes or memory\n")
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
		fmt.Fprintf(stderr, "quicgo perf: -n, -c and -streams must be positive, -size between 0 and %d\n", int64(maxSynthSize))
		return 2
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "quicgo perf: %v\n", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(stderr, "quicgo perf: %v\n", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	if *traceFile != "" {
		f, err := os.Create(*traceFile)
		if err != nil {
			fmt.Fprintf(stderr, "quicgo perf: %v\n", err)
			return 1
		}
		defer f.Close()
		if err := trace.Start(f); err != nil {
			fmt.Fprintf(stderr, "quicgo perf: %v\n", err)
			return 1
		}
		defer trace.Stop()
	}
	line, err := perf(ctx, o)
	if err != nil {
		fmt.Fprintf(stderr, "quicgo perf: %s: %v\n", o.mode, err)
		return 1
	}
	fmt.Fprintln(stdout, line)
	return 0
}

// perf runs one measurement and returns its RESULT line.
func perf(ctx context.Context, o perfOptions) (string, error) {
	maxStreams := int64(max(o.c, 100))
	if o.mode == "memory" {
		maxStreams = int64(o.streams)
	}
	var peer perfPeer
	if o.proc {
		p, err := startChildPeer(o.mode, maxStreams)
		if err != nil {
			return "", err
		}
		peer = p
	} else {
		s, err := startPerfServer(o.mode, maxStreams)
		if err != nil {
			return "", err
		}
		peer = localPeer{s}
	}
	defer peer.close()

	cl := &perfClient{
		addr: peer.addr(),
		tls:  &tls.Config{InsecureSkipVerify: true, ServerName: "localhost", NextProtos: []string{alpn}},
		conf: &quic.Config{HandshakeIdleTimeout: perfHandshakeTimeout, MaxIdleTimeout: perfIdleTimeout},
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

// dial opens a connection from a new UDP socket, as tsumugi's quic.Dial
// does: quic.DialAddr makes a Transport of its own, closed with the
// connection.
func (cl *perfClient) dial(ctx context.Context) (*quic.Conn, error) {
	return quic.DialAddr(ctx, cl.addr, cl.tls, cl.conf)
}

// streamsRequest is the 32-byte request of the streams mode: a 1 KiB
// answer, and padding the server ignores.
var streamsRequest = "/1024/" + strings.Repeat("p", 32-len("GET /1024/\r\n"))
