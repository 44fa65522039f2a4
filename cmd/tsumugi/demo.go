package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"math/rand/v2"
	"net/url"
	"time"

	"github.com/tsumugi-quic/tsumugi/internal/certs"
	"github.com/tsumugi-quic/tsumugi/metrics"
	"github.com/tsumugi-quic/tsumugi/quic"
)

const demoDescription = `
Demo shows Tsumugi working, with no arguments, no files and no network
beyond loopback. It starts an HTTP/0.9 server on 127.0.0.1 over a generated
set of files held in memory, fetches them all at once over one QUIC
connection (one stream and one goroutine per file), checks every byte
against its SHA-256, prints a summary and exits 0.`

// Demo file set: demoFiles files from demoMinSize to demoMaxSize bytes,
// sizes spaced geometrically (about 33 MiB in all).
const (
	demoFiles   = 64
	demoMinSize = 1 << 10
	demoMaxSize = 4 << 20
)

// runDemo is `tsumugi demo`.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("demo", "", demoDescription, stderr)
	if code, stop := parseFlags(fs, args); stop {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "tsumugi demo: takes no arguments\n")
		return 2
	}
	if err := demo(ctx, stdout); err != nil {
		fmt.Fprintf(stderr, "tsumugi demo: %v\n", err)
		return 1
	}
	return 0
}

// demoFileSet generates the files and their SHA-256 sums.
func demoFileSet() (memFiles, map[string][sha256.Size]byte) {
	files := make(memFiles, demoFiles)
	sums := make(map[string][sha256.Size]byte, demoFiles)
	rng := rand.NewChaCha8([32]byte{'t', 's', 'u', 'm', 'u', 'g', 'i'})
	ratio := math.Pow(float64(demoMaxSize)/demoMinSize, 1.0/(demoFiles-1))
	for i := range demoFiles {
		size := int(math.Round(demoMinSize * math.Pow(ratio, float64(i))))
		b := make([]byte, size)
		rng.Read(b)
		name := fmt.Sprintf("file%02d.bin", i)
		files[name] = b
		sums[name] = sha256.Sum256(b)
	}
	return files, sums
}

func demo(ctx context.Context, stdout io.Writer) error {
	files, sums := demoFileSet()
	cert, pool, err := certs.Localhost()
	if err != nil {
		return err
	}
	mc := metrics.New()
	ln, err := quic.Listen("udp", "127.0.0.1:0",
		&tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{alpn}},
		withCollector(nil, mc))
	if err != nil {
		return err
	}
	defer ln.Close()
	srv := newHQServer(files, 1000, nil)
	srvCtx, stopServer := context.WithCancel(ctx)
	served := make(chan struct{})
	go func() {
		srv.serve(srvCtx, ln)
		close(served)
	}()
	defer func() {
		stopServer()
		<-served
		srv.shutdown(time.Second)
	}()

	var items []*fetch
	var total int64
	for name, b := range files {
		u := &url.URL{Scheme: "https", Host: ln.Addr().String(), Path: "/" + name}
		items = append(items, &fetch{url: u, sink: &hashSink{h: sha256.New(), want: sums[name]}})
		total += int64(len(b))
	}
	var snap metrics.Totals
	f := &fetcher{
		tls:  &tls.Config{RootCAs: pool, ServerName: "localhost"},
		conf: withCollector(&quic.Config{HandshakeTimeout: 5 * time.Second}, mc),
		connDone: func(_ string, c *quic.Conn) {
			// Before the connection closes, while its RTT is live.
			snap = mc.Snapshot()
		},
	}
	start := time.Now()
	f.run(ctx, items)
	elapsed := time.Since(start)

	var errs []error
	for _, it := range items {
		if it.err != nil {
			errs = append(errs, fmt.Errorf("%s: %s", it.url.Path, why(it.err, 5*time.Second)))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}

	fmt.Fprintf(stdout, "tsumugi demo: fetched %d files, %.1f MiB, over one QUIC connection on %s\n",
		len(items), float64(total)/(1<<20), ln.Addr())
	fmt.Fprintf(stdout, "  %d streams at once, one goroutine each; every byte checked against its SHA-256\n", len(items))
	fmt.Fprintf(stdout, "  time %v, goodput %.0f Mbit/s\n",
		elapsed.Round(time.Millisecond), float64(total)*8/elapsed.Seconds()/1e6)
	printDemoMetrics(stdout, &snap)
	return nil
}

// printDemoMetrics prints a few values of the Collector, taken while the
// connection was still open.
func printDemoMetrics(w io.Writer, t *metrics.Totals) {
	var streams uint64
	for _, n := range t.StreamsOpened {
		streams += n
	}
	fmt.Fprintf(w, "  metrics, both sides: %d packets sent, %d received, %d lost; %d streams (each counted by both sides); smoothed RTT %v; %d handshakes\n",
		t.AllPacketsSent(), t.AllPacketsReceived(), t.PacketsLost, streams,
		t.SmoothedRTTMean.Round(time.Microsecond), t.Handshakes[metrics.Client]+t.Handshakes[metrics.Server])
}

// hashSink checks a body against its SHA-256.
type hashSink struct {
	h    hash.Hash
	want [sha256.Size]byte
}

func (s *hashSink) Write(b []byte) (int, error) { return s.h.Write(b) }

func (s *hashSink) commit() error {
	if !bytes.Equal(s.h.Sum(nil), s.want[:]) {
		return errors.New("SHA-256 mismatch")
	}
	return nil
}

func (s *hashSink) abort() {}
