package quic

import (
	"context"
	"crypto/tls"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/tsumugi-quic/tsumugi/internal/certs"
)

// BenchmarkBulkLoopback sends b.N MiB on one stream over loopback, client
// to server, both in this process: throughput (MB/s) and allocations per
// MiB. The packet hot path allocates nothing in steady state.
func BenchmarkBulkLoopback(b *testing.B) {
	_, cc, sc := newTestPair(b, nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan int64, 1)
	go func() {
		s, err := sc.AcceptStream(ctx)
		if err != nil {
			done <- 0
			return
		}
		n, _ := io.Copy(io.Discard, s)
		s.Close()
		done <- n
	}()
	s, err := cc.OpenStream(ctx)
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 1<<20)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
	s.CloseWrite()
	if n := <-done; n != int64(b.N)*int64(len(buf)) {
		b.Fatalf("received %d bytes", n)
	}
	b.StopTimer()
	st := cc.Stats()
	b.ReportMetric(float64(st.PacketsLost), "lost")
	b.ReportMetric(float64(st.PacketsSent)/float64(b.N), "pkts/MiB")
}

// BenchmarkHandshakeLoopback dials b.N connections one at a time to a
// listener in this process, as `tsumugi perf -mode handshakes` does: the
// time and allocations per op cover both sides of a full handshake (TLS
// included) and the connection's close, which runs in the background.
func BenchmarkHandshakeLoopback(b *testing.B) {
	cert, pool, err := certs.Localhost()
	if err != nil {
		b.Fatal(err)
	}
	ln, err := Listen("udp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"bench"}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var closing sync.WaitGroup
	defer closing.Wait()
	go func() {
		for {
			c, err := ln.Accept(ctx)
			if err != nil {
				return
			}
			closing.Go(func() { <-c.Context().Done() })
		}
	}()
	clientTLS := &tls.Config{RootCAs: pool, NextProtos: []string{"bench"}, ServerName: "localhost"}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		c, err := Dial(ctx, "udp", ln.Addr().String(), clientTLS, nil)
		if err != nil {
			b.Fatal(err)
		}
		closing.Go(func() { c.Close() })
	}
}
