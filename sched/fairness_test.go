package sched

import (
	"math/rand/v2"
	"testing"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

// busy returns n always-busy streams with IDs 0, 4, 8, ... activated at
// urgency u.
func busy(s *Scheduler, n int, u uint8, incremental bool) []*fakeStream {
	out := make([]*fakeStream, n)
	for i := range out {
		out[i] = newFakeStream(uint64(4*i), 1<<40, false)
		s.Activate(out[i], u, incremental)
	}
	return out
}

func TestFairnessIncremental(t *testing.T) {
	tests := []struct {
		name    string
		quantum int
		budget  func(*rand.Rand) int
	}{
		{"default quantum, full packets", 0, func(*rand.Rand) int { return 1452 }},
		{"default quantum, random budgets", 0, func(r *rand.Rand) int { return 20 + r.IntN(1433) }},
		{"quantum 300", 300, func(*rand.Rand) int { return 1452 }},
		{"quantum 4000", 4000, func(*rand.Rand) int { return 1452 }},
		{"quantum 100, random budgets", 100, func(r *rand.Rand) int { return 20 + r.IntN(1433) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(Config{Quantum: tt.quantum})
			streams := busy(s, 100, 3, true)
			rng := rand.New(rand.NewPCG(1, 2))
			got := map[uint64]uint64{}
			rec := &Record{}
			var total uint64
			for range 10000 {
				frames := build(t, s, &Packet{Space: AppData, Budget: tt.budget(rng)}, rec)
				streamBytes(frames, got)
			}
			for _, st := range streams {
				total += got[st.id]
			}
			mean := float64(total) / float64(len(streams))
			lo, hi := mean, mean
			for _, st := range streams {
				v := float64(got[st.id])
				lo, hi = min(lo, v), max(hi, v)
				if v < 0.95*mean || v > 1.05*mean {
					t.Errorf("stream %d sent %.0f bytes, mean %.0f", st.id, v, mean)
				}
			}
			t.Logf("share per stream: min %.4f max %.4f of the mean", lo/mean, hi/mean)
		})
	}
}

func TestUrgencyOrder(t *testing.T) {
	s := New(Config{})
	low := newFakeStream(0, 50000, true)  // urgency 3
	high := newFakeStream(4, 50000, true) // urgency 1
	s.Activate(low, 3, true)
	s.Activate(high, 1, true)
	rec := &Record{}
	for s.HasStreamWork() {
		for _, f := range build(t, s, &Packet{Space: AppData, Budget: 1452}, rec) {
			if f.StreamID == 0 && !high.finSent {
				t.Fatalf("urgency 3 sent at %d while urgency 1 had data at %d", f.Offset, high.sent)
			}
		}
	}
	if !low.finSent || !high.finSent {
		t.Fatal("not everything sent")
	}
}

func TestNonIncrementalInIDOrder(t *testing.T) {
	s := New(Config{Quantum: 200}) // the quantum does not split non-incremental streams
	var streams []*fakeStream
	for _, id := range []uint64{12, 4, 8, 0} {
		st := newFakeStream(id, 5000, true)
		streams = append(streams, st)
		s.Activate(st, 2, false)
	}
	rec := &Record{}
	var order []uint64
	for s.HasStreamWork() {
		for _, f := range build(t, s, &Packet{Space: AppData, Budget: 1452}, rec) {
			if n := len(order); n == 0 || order[n-1] != f.StreamID {
				order = append(order, f.StreamID)
			}
		}
	}
	want := []uint64{0, 4, 8, 12}
	if len(order) != len(want) {
		t.Fatalf("streams took turns: %v, want one after the other %v", order, want)
	}
	for i := range want {
		if order[i] != want[i] {
			t.Fatalf("order %v, want %v", order, want)
		}
	}
}

func TestNonIncrementalShareARoundWithIncremental(t *testing.T) {
	s := New(Config{})
	busy(s, 3, 2, false)                    // 0, 4, 8: non-incremental
	inc := newFakeStream(101, 1<<40, false) // incremental, same urgency
	s.Activate(inc, 2, true)
	rec := &Record{}
	got := map[uint64]uint64{}
	for range 1000 {
		frames := build(t, s, &Packet{Space: AppData, Budget: 1452}, rec)
		streamBytes(frames, got)
	}
	nonInc := got[0] + got[4] + got[8]
	if got[4] != 0 || got[8] != 0 {
		t.Fatalf("non-incremental streams 4 and 8 sent while 0 was busy: %v", got)
	}
	if d := float64(nonInc) / float64(got[101]); d < 0.99 || d > 1.01 {
		t.Fatalf("non-incremental group sent %d bytes, incremental stream %d", nonInc, got[101])
	}
}

func TestControlNotStarved(t *testing.T) {
	for _, quantum := range []int{0, 300} {
		s := New(Config{Quantum: quantum})
		streams := busy(s, 100, 0, true)
		rec := &Record{}
		p := &Packet{Space: AppData, Budget: 1452}
		for i := range 500 {
			build(t, s, p, rec)
			if i%50 != 17 {
				continue
			}
			// A stream's control frame, and the connection's.
			st := streams[(i*7)%100]
			st.ctrlPending = 1
			s.ActivateControl(st)
			p.Control = &fakeFrames{typ: wire.FrameTypeMaxData, count: 1}
			frames := build(t, s, p, rec)
			p.Control = nil
			if len(frames) < 2 || frames[0].Kind != FrameControl ||
				frames[1].Kind != FrameStreamControl || frames[1].StreamID != st.id {
				t.Fatalf("quantum %d: control frames not first in the next packet: %+v", quantum, frames[:min(3, len(frames))])
			}
		}
	}
}
