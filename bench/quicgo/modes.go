package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quic-go/quic-go"
)

// bulk transfers size bytes on one stream.
func (cl *perfClient) bulk(ctx context.Context, size int64) (string, error) {
	c, err := cl.dial(ctx)
	if err != nil {
		return "", err
	}
	defer c.CloseWithError(0, "")
	cpu := startCPU(cl.peer)
	start := time.Now()
	n, err := cl.fetch(ctx, c, fmt.Sprintf("/%d", size), make([]byte, 256<<10))
	secs := time.Since(start).Seconds()
	cpuSecs := cpu.stop()
	if err != nil {
		return "", err
	}
	if n != size {
		return "", fmt.Errorf("received %d bytes, want %d", n, size)
	}
	gb := float64(size) / 1e9
	return result("bulk", "secs", secs, "gbps", gb*8/secs, "cpu_s_per_GB", cpuSecs/gb), nil
}

// fetch requests target on a new stream of c and reads the answer into buf
// (reused), returning its length. As in tsumugi perf: the request, then
// FIN (quic-go's Close closes the sending side only), then the answer up
// to the server's FIN.
func (cl *perfClient) fetch(ctx context.Context, c *quic.Conn, target string, buf []byte) (int64, error) {
	s, err := c.OpenStreamSync(ctx)
	if err != nil {
		return 0, err
	}
	// Tsumugi's Stream.Close also gives up the receiving side; after
	// io.EOF this does nothing in quic-go either.
	defer s.CancelRead(0)
	if _, err := io.WriteString(s, requestLine(target)); err != nil {
		return 0, err
	}
	s.Close()
	var n int64
	for {
		m, err := s.Read(buf)
		n += int64(m)
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// streams runs n request streams, c at a time, on one connection.
func (cl *perfClient) streams(ctx context.Context, n, c int) (string, error) {
	conn, err := cl.dial(ctx)
	if err != nil {
		return "", err
	}
	defer conn.CloseWithError(0, "")
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, c)
	cpu := startCPU(cl.peer)
	start := time.Now()
	for w := range c {
		wg.Go(func() {
			buf := make([]byte, 2048)
			for next.Add(1) <= int64(n) {
				got, err := cl.fetch(ctx, conn, streamsRequest, buf)
				if err == nil && got != 1024 {
					err = fmt.Errorf("answer of %d bytes, want 1024", got)
				}
				if err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	cpuSecs := cpu.stop()
	if err := errors.Join(errs...); err != nil {
		return "", err
	}
	return result("streams", "secs", secs, "streams_per_s", float64(n)/secs, "cpu_us_per_stream", cpuSecs*1e6/float64(n)), nil
}

// handshakes runs n full handshakes, c at a time, each on a new
// connection from a new socket; connections are closed in the background,
// as tsumugi perf does.
func (cl *perfClient) handshakes(ctx context.Context, n, c int) (string, error) {
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var wg, closing sync.WaitGroup
	defer closing.Wait()
	errs := make([]error, c)
	cpu := startCPU(cl.peer)
	start := time.Now()
	for w := range c {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				t := time.Now()
				conn, err := cl.dial(ctx)
				lat[i] = time.Since(t)
				if err != nil {
					errs[w] = err
					return
				}
				closing.Go(func() { conn.CloseWithError(0, "") })
			}
		})
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	cpuSecs := cpu.stop()
	if err := errors.Join(errs...); err != nil {
		return "", err
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds())
	}
	return result("handshakes", "secs", secs, "hs_per_s", float64(n)/secs,
		"cpu_us_per_hs", cpuSecs*1e6/float64(n), "p50_us", pct(0.50), "p99_us", pct(0.99)), nil
}

// idleSettle is how long memory waits before it measures: connections
// are idle once the exchange after the handshake (HANDSHAKE_DONE, session
// tickets, new connection IDs and their acknowledgments, delayed up to
// max_ack_delay) is over; measured earlier, the heap holds the buffers of
// packets still in flight.
const idleSettle = 200 * time.Millisecond

// memory measures the live heap of n idle connections, then of m open
// streams on one of them, each side counted once and the sum halved.
func (cl *perfClient) memory(ctx context.Context, n, m int) (string, error) {
	heap0, err := cl.heaps()
	if err != nil {
		return "", err
	}
	conns := make([]*quic.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.CloseWithError(0, "")
		}
	}()
	for range n {
		c, err := cl.dial(ctx)
		if err != nil {
			return "", err
		}
		conns = append(conns, c)
	}
	if err := cl.waitHeld(ctx, int64(n), 0); err != nil {
		return "", err
	}
	time.Sleep(idleSettle)
	heap1, err := cl.heaps()
	if err != nil {
		return "", err
	}

	streams := make([]*quic.Stream, 0, m)
	for range m {
		s, err := conns[0].OpenStreamSync(ctx)
		if err != nil {
			return "", err
		}
		// The peer learns of a stream with its first frame.
		if _, err := s.Write([]byte{'x'}); err != nil {
			return "", err
		}
		streams = append(streams, s)
	}
	if err := cl.waitHeld(ctx, int64(n), int64(m)); err != nil {
		return "", err
	}
	time.Sleep(idleSettle)
	heap2, err := cl.heaps()
	if err != nil {
		return "", err
	}
	runtime.KeepAlive(streams)
	perConn := (float64(heap1) - float64(heap0)) / float64(2*n)
	perStream := (float64(heap2) - float64(heap1)) / float64(2*m)
	return result("memory", "conn_heap_B", int64(perConn), "stream_heap_B", int64(perStream)), nil
}

// heaps returns the live heap of this process plus the child's.
func (cl *perfClient) heaps() (uint64, error) {
	own := heapAfterGC()
	peer, err := cl.peer.heap()
	return own + peer, err
}

// waitHeld waits until the memory-mode server holds conns connections and
// streams streams.
func (cl *perfClient) waitHeld(ctx context.Context, conns, streams int64) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, s, err := cl.peer.held()
		if err != nil {
			return err
		}
		if c >= conns && s >= streams {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the server holds %d connections and %d streams, want %d and %d", c, s, conns, streams)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}
