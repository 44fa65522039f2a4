package sched

import (
	"testing"
)

// benchBuild builds 1452-byte packets of STREAM data from n always-busy
// incremental streams, one packet per iteration.
func benchBuild(b *testing.B, n int, quantum int) {
	s := New(Config{Quantum: quantum})
	streams := make([]*fakeStream, n)
	for i := range streams {
		streams[i] = newFakeStream(uint64(4*i), 1<<61, false)
		s.Activate(streams[i], 3, true)
	}
	credit := uint64(1 << 62)
	p := &Packet{Space: AppData, Budget: 1452, Credit: &credit}
	rec := &Record{Frames: make([]FrameRecord, 0, 16)}
	buf := make([]byte, 0, 1500)
	b.SetBytes(1452)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rec.Reset()
		buf = s.Build(buf[:0], p, rec)
		if len(buf) != p.Budget {
			b.Fatalf("packet of %d bytes", len(buf))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/packet")
}

func BenchmarkBuild1Stream(b *testing.B)     { benchBuild(b, 1, 0) }
func BenchmarkBuild1000Streams(b *testing.B) { benchBuild(b, 1000, 0) }

// BenchmarkBuild1000StreamsQuantum200 has several frames per packet, one in
// three or so cut by its turn and given a Length field afterwards.
func BenchmarkBuild1000StreamsQuantum200(b *testing.B) { benchBuild(b, 1000, 200) }
