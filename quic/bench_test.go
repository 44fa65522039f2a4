package quic

import (
	"context"
	"io"
	"testing"
	"time"
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
