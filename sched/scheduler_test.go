package sched

import (
	"testing"
)

// build builds one 1-RTT packet and checks it.
func build(t testing.TB, s *Scheduler, p *Packet, rec *Record) []parsed {
	t.Helper()
	rec.Reset()
	b := s.Build(nil, p, rec)
	frames, err := checkPacket(b, p.Budget, rec)
	if err != nil {
		t.Fatal(err)
	}
	return frames
}

// streamBytes sums the STREAM data per stream in frames.
func streamBytes(frames []parsed, into map[uint64]uint64) {
	for _, f := range frames {
		if f.Kind == FrameStream {
			into[f.StreamID] += f.Length
		}
	}
}

func TestActivateIsIdempotent(t *testing.T) {
	s := New(Config{})
	a := newFakeStream(0, 1<<30, false)
	c := newFakeStream(4, 1<<30, false)
	for range 3 {
		s.Activate(a, 3, true)
		s.ActivateControl(a)
		s.ActivateRetransmit(a)
	}
	s.Activate(c, 3, true)
	if len(s.nodes) != 2 {
		t.Fatalf("%d nodes for 2 streams", len(s.nodes))
	}
	// a is in the ring once: a and c alternate, getting equal bytes.
	got := map[uint64]uint64{}
	rec := &Record{}
	for range 100 {
		streamBytes(build(t, s, &Packet{Space: AppData, Budget: 1200}, rec), got)
	}
	if got[0] != got[4] {
		t.Fatalf("stream 0 sent %d, stream 4 sent %d: activating twice doubled a share", got[0], got[4])
	}
}

func TestRemoveDropsEveryQueue(t *testing.T) {
	s := New(Config{})
	a := newFakeStream(0, 1000, true)
	a.ctrlPending = 2
	a.lose(0, 10, false)
	s.Activate(a, 2, false)
	s.ActivateControl(a)
	s.ActivateRetransmit(a)
	b := newFakeStream(4, 1000, true)
	s.Activate(b, 2, true)
	s.Remove(0)
	s.Remove(0)  // again: no-op
	s.Remove(99) // unknown: no-op
	if len(s.nodes) != 1 {
		t.Fatalf("%d nodes after Remove, want 1", len(s.nodes))
	}
	rec := &Record{}
	frames := build(t, s, &Packet{Space: AppData, Budget: 1200}, rec)
	for _, f := range frames {
		if f.StreamID == 0 {
			t.Fatalf("removed stream sent %+v", f.FrameRecord)
		}
	}
	for len(build(t, s, &Packet{Space: AppData, Budget: 1200}, rec)) > 0 {
	}
	if s.HasStreamWork() || len(s.nodes) != 0 {
		t.Fatalf("work left after everything was sent: %d nodes", len(s.nodes))
	}
	if len(s.levels[2].heap) != 0 || s.levels[2].head != nil || s.mask != 0 {
		t.Fatal("level 2 not empty")
	}
}

func TestSetPriority(t *testing.T) {
	s := New(Config{})
	lo := newFakeStream(0, 1<<30, false)
	hi := newFakeStream(4, 1<<30, false)
	s.Activate(lo, 5, true)
	s.Activate(hi, 3, true)
	rec := &Record{}
	p := &Packet{Space: AppData, Budget: 1200}
	if f := build(t, s, p, rec); f[0].StreamID != 4 {
		t.Fatalf("urgency 3 lost to urgency 5: %+v", f[0].FrameRecord)
	}
	s.SetPriority(0, 1, false)
	for range 5 {
		if f := build(t, s, p, rec); len(f) != 1 || f[0].StreamID != 0 {
			t.Fatalf("after SetPriority(0, 1): %+v", f)
		}
	}
	// Activate with a new priority moves the stream too.
	s.Activate(lo, 7, true)
	if f := build(t, s, p, rec); f[0].StreamID != 4 {
		t.Fatalf("after Activate at 7: %+v", f[0].FrameRecord)
	}
	// Priority of an unknown stream: no-op; out-of-range urgency: 7.
	s.SetPriority(99, 0, true)
	s.Activate(newFakeStream(8, 1, true), 200, true)
	if s.nodes[8].urgency != 7 {
		t.Fatalf("urgency 200 stored as %d", s.nodes[8].urgency)
	}
}

func TestBookkeepingDoesNotAllocate(t *testing.T) {
	s := New(Config{Quantum: 300})
	streams := make([]*fakeStream, 64)
	for i := range streams {
		streams[i] = newFakeStream(uint64(4*i), 0, false)
	}
	rec := &Record{Frames: make([]FrameRecord, 0, 64)}
	buf := make([]byte, 0, 1500)
	credit := uint64(1 << 60)
	p := &Packet{Space: AppData, Budget: 1452, Credit: &credit}
	round := func() {
		for i, st := range streams {
			st.size += 700
			st.ctrlPending = 1
			s.Activate(st, uint8(i%8), i%3 == 0)
			s.ActivateControl(st)
			if i%5 == 0 {
				s.SetPriority(st.id, uint8((i+1)%8), i%2 == 0)
			}
		}
		for s.HasStreamWork() {
			rec.Reset()
			buf = s.Build(buf[:0], p, rec)
		}
	}
	for range 10 {
		round() // warm up: nodes, heaps, map
	}
	if n := testing.AllocsPerRun(50, round); n != 0 {
		t.Fatalf("%v allocations per round of activations and packets", n)
	}
}
