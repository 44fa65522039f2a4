package integration_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tsumugi-quic/tsumugi/quic"
)

// The soak test is opt-in: it runs only with TSUMUGI_SOAK=1, for
// TSUMUGI_SOAK_DURATION (default 10m). From integration_test:
//
//	TSUMUGI_SOAK=1 go test -run TestSoak -timeout 30m -v .
//
// Other knobs: TSUMUGI_SOAK_CONNS (100), TSUMUGI_SOAK_STREAMS (streams in
// flight per connection, 100), TSUMUGI_SOAK_LOSS (per direction, 0.01),
// TSUMUGI_SOAK_MAXSIZE (largest payload of a stream, 64 KiB),
// TSUMUGI_SOAK_INTERVAL (between samples, 5s), TSUMUGI_SOAK_HEAPPROFILE
// (a path prefix: heap profiles after the warm-up and at the end).

// soakEnv reads an environment knob, or def.
func soakEnv[T any](t *testing.T, name string, def T, parse func(string) (T, error)) T {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := parse(s)
	if err != nil {
		t.Fatalf("%s=%q: %v", name, s, err)
	}
	return v
}

// deadlineConn is our connection whose streams fail if an operation on
// them takes longer than d: a stalled stream ends the soak with an error
// instead of hanging it.
type deadlineConn struct {
	c *quic.Conn
	d time.Duration
}

func (c deadlineConn) OpenStream(ctx context.Context) (peerStream, error) {
	s, err := c.c.OpenStream(ctx)
	if err != nil {
		return nil, err
	}
	s.SetDeadline(time.Now().Add(c.d))
	return s, nil
}

func (c deadlineConn) AcceptStream(ctx context.Context) (peerStream, error) {
	return oursConn{c.c}.AcceptStream(ctx)
}

func (c deadlineConn) Close() error { return c.c.Close() }

// soakSample is one reading of the process.
type soakSample struct {
	at         time.Duration
	heap       uint64 // live heap after a collection
	goroutines int
	streams    int64 // streams completed so far
}

// slope fits y = a + b·x by least squares and returns b.
func slope(xs, ys []float64) float64 {
	n := float64(len(xs))
	var sx, sy, sxx, sxy float64
	for i := range xs {
		sx += xs[i]
		sy += ys[i]
		sxx += xs[i] * xs[i]
		sxy += xs[i] * ys[i]
	}
	d := n*sxx - sx*sx
	if d == 0 {
		return 0
	}
	return (n*sxy - sx*sy) / d
}

// trend returns the mean of ys and the growth the fitted line predicts over
// the span of xs.
func trend(xs, ys []float64) (mean, growth float64) {
	for _, y := range ys {
		mean += y
	}
	mean /= float64(len(ys))
	return mean, slope(xs, ys) * (xs[len(xs)-1] - xs[0])
}

// TestSoak runs TSUMUGI_SOAK_CONNS connections with TSUMUGI_SOAK_STREAMS
// streams in flight each through the impairment proxy at 1% loss each
// way, for TSUMUGI_SOAK_DURATION. Every stream fetches or echoes a payload
// of up to TSUMUGI_SOAK_MAXSIZE whose SHA-256 is checked. Every few seconds it samples
// the live heap and the goroutine count; after a warm-up of a fifth of the
// run, neither may trend upwards: the least-squares line over the samples
// may not grow by more than a quarter of the mean heap (or 32 MiB) nor by
// more than 5% of the goroutines (or 100) across the window.
func TestSoak(t *testing.T) {
	if os.Getenv("TSUMUGI_SOAK") != "1" {
		t.Skip("opt-in: set TSUMUGI_SOAK=1 (and -timeout above TSUMUGI_SOAK_DURATION, default 10m)")
	}
	duration := soakEnv(t, "TSUMUGI_SOAK_DURATION", 10*time.Minute, time.ParseDuration)
	interval := soakEnv(t, "TSUMUGI_SOAK_INTERVAL", 5*time.Second, time.ParseDuration)
	conns := soakEnv(t, "TSUMUGI_SOAK_CONNS", 100, strconv.Atoi)
	streams := soakEnv(t, "TSUMUGI_SOAK_STREAMS", 100, strconv.Atoi)
	loss := soakEnv(t, "TSUMUGI_SOAK_LOSS", 0.01, func(s string) (float64, error) { return strconv.ParseFloat(s, 64) })
	maxSize := soakEnv(t, "TSUMUGI_SOAK_MAXSIZE", 64<<10, strconv.Atoi)
	// With 10,000 streams in flight on a small machine an operation can
	// take a while; a stall is what this catches.
	const opTimeout = 5 * time.Minute
	if dl, ok := t.Deadline(); ok && time.Until(dl) < duration+opTimeout+time.Minute {
		t.Fatalf("the test deadline is %v away: run with -timeout above %v", time.Until(dl).Round(time.Second), duration+opTimeout+time.Minute)
	}

	stc, ctc := testTLS(t)
	_, addr := attackServer(t, stc, &quic.Config{MaxIncomingStreams: int64(streams)})
	px := newProxy(t, addr.String(), proxyConfig{Seed: 1, ToServer: impairment{Loss: loss}, ToClient: impairment{Loss: loss}})
	ctx, cancel := context.WithTimeout(context.Background(), duration+opTimeout+time.Minute)
	defer cancel()

	var (
		stop      atomic.Bool
		completed atomic.Int64
		verified  atomic.Int64 // payload bytes checked
		errMu     sync.Mutex
		firstErr  error
		wg        sync.WaitGroup
	)
	fail := func(err error) {
		errMu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		errMu.Unlock()
		stop.Store(true)
	}
	cs := make([]*quic.Conn, conns)
	for i := range cs {
		c, err := clientEndpoint(t, stc).Dial(ctx, px.addr(), ctc)
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		cs[i] = c
	}
	start := time.Now()
	for i, c := range cs {
		dc := deadlineConn{c, opTimeout}
		for j := range streams {
			wg.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(i), uint64(j)))
				for n := uint64(0); !stop.Load(); n++ {
					size := uint64(1 + rng.IntN(maxSize))
					seed := uint64(i)<<40 | uint64(j)<<20 | n
					var err error
					if n%2 == 0 {
						err = get(ctx, dc, size, seed)
					} else {
						err = echo(ctx, dc, size, seed)
					}
					if err != nil {
						fail(fmt.Errorf("connection %d, worker %d, operation %d (%d bytes): %w", i, j, n, size, err))
						return
					}
					completed.Add(1)
					verified.Add(int64(size))
				}
			})
		}
	}

	// TSUMUGI_SOAK_HEAPPROFILE=prefix writes heap profiles of the live
	// connections at the end of the warm-up and of the run, for
	// go tool pprof -base prefix.warm.pprof prefix.end.pprof.
	profile := os.Getenv("TSUMUGI_SOAK_HEAPPROFILE")
	writeProfile := func(suffix string) {
		if profile == "" {
			return
		}
		f, err := os.Create(profile + suffix)
		if err != nil {
			t.Error(err)
			return
		}
		defer f.Close()
		runtime.GC()
		if err := pprof.WriteHeapProfile(f); err != nil {
			t.Error(err)
		}
	}
	warmProfiled := false
	var samples []soakSample
	sample := func() {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		s := soakSample{at: time.Since(start), heap: ms.HeapAlloc, goroutines: runtime.NumGoroutine(), streams: completed.Load()}
		samples = append(samples, s)
		if !warmProfiled && s.at >= duration/5 {
			writeProfile(".warm.pprof")
			warmProfiled = true
		}
		t.Logf("%7v heap %6.1f MiB  goroutines %6d  streams %8d", s.at.Round(time.Second), float64(s.heap)/(1<<20), s.goroutines, s.streams)
	}
	tick := time.NewTicker(interval)
	end := time.After(duration)
loop:
	for !stop.Load() {
		select {
		case <-tick.C:
			sample()
		case <-end:
			break loop
		}
	}
	tick.Stop()
	writeProfile(".end.pprof")
	stop.Store(true)
	wg.Wait()
	for _, c := range cs {
		c.Close()
	}
	logProxy(t, px)
	if firstErr != nil {
		t.Fatal(firstErr)
	}
	elapsed := time.Since(start)
	t.Logf("%d connections × %d streams in flight for %v at %.1f%% loss: %d streams, %.1f MiB checked byte for byte",
		conns, streams, elapsed.Round(time.Second), loss*100, completed.Load(), float64(verified.Load())/(1<<20))

	// The trend after the warm-up.
	var xs, heap, gor []float64
	for _, s := range samples {
		if s.at < duration/5 {
			continue
		}
		xs = append(xs, s.at.Seconds())
		heap = append(heap, float64(s.heap))
		gor = append(gor, float64(s.goroutines))
	}
	if len(xs) < 4 {
		t.Fatalf("only %d samples after the warm-up: run longer or sample more often", len(xs))
	}
	hMean, hGrowth := trend(xs, heap)
	gMean, gGrowth := trend(xs, gor)
	var b strings.Builder
	fmt.Fprintf(&b, "after the warm-up (%d samples): heap mean %.1f MiB, trend %+.1f MiB over %v; goroutines mean %.0f, trend %+.0f",
		len(xs), hMean/(1<<20), hGrowth/(1<<20), time.Duration((xs[len(xs)-1]-xs[0])*float64(time.Second)).Round(time.Second), gMean, gGrowth)
	t.Log(b.String())
	if hGrowth > max(hMean/4, 32<<20) {
		t.Errorf("the heap grows: %+.1f MiB across the window (mean %.1f MiB)", hGrowth/(1<<20), hMean/(1<<20))
	}
	if gGrowth > max(gMean/20, 100) {
		t.Errorf("goroutines grow: %+.0f across the window (mean %.0f)", gGrowth, gMean)
	}
}
