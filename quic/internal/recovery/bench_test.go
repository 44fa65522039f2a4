package recovery

import (
	"testing"
	"time"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
	"github.com/tsumugi-quic/tsumugi/sched"
)

// steadyFlow sends a packet per iteration (one every 10 µs) and receives an
// ACK frame every second packet acknowledging up to the packet sent `lag`
// packets earlier, as a peer would with a 1 ms RTT. Records are recycled
// through a sched.RecordPool by the callbacks.
func steadyFlow(b *testing.B, alg Algorithm, lag uint64, gapEvery uint64) {
	var pool sched.RecordPool
	var lost int
	r := New(Config{
		IsServer:   true,
		Congestion: alg,
		OnAcked:    func(rec *sched.Record) { pool.Put(rec) },
		OnLost:     func(rec *sched.Record) { lost++; pool.Put(rec) },
	}, testBase)
	r.SetHandshakeConfirmed()
	ack := &wire.AckFrame{Ranges: make([]wire.AckRange, 0, 4)}
	now := testBase
	var pn uint64
	step := func() {
		rec := pool.Get()
		rec.PacketNumber = pn
		rec.Space = sched.AppData
		rec.SentBytes = 1200
		rec.Add(sched.FrameRecord{Kind: sched.FrameStream, StreamID: 4, Offset: pn * 1150, Length: 1150})
		r.OnPacketSent(rec, now)
		if pn >= lag && pn%2 == 1 {
			largest := pn - lag
			ack.Ranges = ack.Ranges[:0]
			if gapEvery > 0 && (largest/2)%gapEvery == 0 {
				// The peer never gets largest-1: the next ACK frames
				// leave a hole and it is declared lost.
				ack.Ranges = append(ack.Ranges, wire.AckRange{Smallest: largest, Largest: largest})
			} else {
				ack.Ranges = append(ack.Ranges, wire.AckRange{Smallest: largest - 1, Largest: largest})
			}
			if err := r.OnAckReceived(sched.AppData, ack, 3, now); err != nil {
				b.Fatal(err)
			}
		}
		pn++
		now = now.Add(10 * time.Microsecond)
	}
	// Warm up: the history ring, the scratch lists and the pool reach
	// their steady size.
	for i := 0; i < 10000; i++ {
		step()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		step()
	}
	b.StopTimer()
	b.ReportMetric(float64(r.CongestionWindow()), "cwnd_B")
	if gapEvery > 0 && lost == 0 {
		b.Fatal("no loss detected")
	}
}

// BenchmarkSteadyFlow measures OnPacketSent plus half an OnAckReceived
// per packet (ACK every second packet), 100 packets in flight.
func BenchmarkSteadyFlow(b *testing.B) {
	b.Run("cubic", func(b *testing.B) { steadyFlow(b, AlgorithmCubic, 100, 0) })
	b.Run("newreno", func(b *testing.B) { steadyFlow(b, AlgorithmNewReno, 100, 0) })
	// With a lost packet every 100: loss detection and congestion events.
	b.Run("cubic-loss", func(b *testing.B) { steadyFlow(b, AlgorithmCubic, 100, 50) })
}

// BenchmarkReceived measures the receiver: a packet recorded per
// iteration, an ACK frame built and sent every second packet.
func BenchmarkReceived(b *testing.B) {
	var r Received
	r.Init(ReceivedConfig{MaxAckDelay: 25 * time.Millisecond})
	f := wire.AckFrame{Ranges: make([]wire.AckRange, 0, DefaultMaxAckRanges)}
	now := testBase
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		pn := uint64(i)
		r.OnPacket(pn, true, NotECT, now)
		if r.AckNeeded(now) {
			r.AppendAck(&f, now, 3)
			r.OnAckSent()
			if pn >= 64 {
				r.OnAckOfAck(pn - 64) // the peer acknowledges our ACK frames
			}
		}
		now = now.Add(10 * time.Microsecond)
	}
}
