package sched

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

// workload is one random run: streams with random sizes, priorities and
// stream-level limits, random budgets, connection credit handed out in
// random steps, random losses fed back through ActivateRetransmit, and
// random control frames.
type workload struct {
	t       *testing.T
	rng     *rand.Rand
	s       *Scheduler
	streams []*fakeStream
	prio    map[uint64][2]int // urgency, incremental (0/1)

	sends   map[uint64][]int // per stream, per byte: times sent
	losses  map[uint64][]int // per stream, per byte: times declared lost
	finTx   map[uint64]int   // FINs sent
	finLost map[uint64]int   // FINs lost

	credit      uint64
	creditGiven uint64
	newSent     uint64
	ctrlQueued  int
	ctrlSent    int
	pool        RecordPool
}

func newWorkload(t *testing.T, seed uint64) *workload {
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	quanta := []int{0, 0, 64, 200, 1000, 5000}
	w := &workload{
		t: t, rng: rng,
		s:       New(Config{Quantum: quanta[rng.IntN(len(quanta))]}),
		prio:    map[uint64][2]int{},
		sends:   map[uint64][]int{},
		losses:  map[uint64][]int{},
		finTx:   map[uint64]int{},
		finLost: map[uint64]int{},
	}
	n := 1 + rng.IntN(30)
	for i := range n {
		id := uint64(i)*4 + uint64(rng.IntN(4))
		if rng.IntN(10) == 0 {
			id += 1 << 20 // long stream IDs too
		}
		size := uint64(rng.IntN(20000))
		if rng.IntN(8) == 0 {
			size = 0 // FIN only
		}
		st := newFakeStream(id, size, true)
		if rng.IntN(3) == 0 {
			st.limit = uint64(rng.IntN(int(size) + 1))
		}
		if rng.IntN(5) == 0 {
			st.sent = uint64(1) << (10 + rng.IntN(30)) // start at a large offset
			st.size += st.sent
			st.limit += st.sent
		}
		w.streams = append(w.streams, st)
		w.prio[id] = [2]int{rng.IntN(8), rng.IntN(2)}
		w.sends[id] = make([]int, st.size-st.sent)
		w.losses[id] = make([]int, st.size-st.sent)
		w.s.Activate(st, uint8(w.prio[id][0]), w.prio[id][1] == 1)
	}
	w.credit = uint64(rng.IntN(30000))
	w.creditGiven = w.credit
	return w
}

// base is the first offset a stream sends.
func (w *workload) base(st *fakeStream) uint64 {
	return st.size - uint64(len(w.sends[st.id]))
}

func (w *workload) stream(id uint64) *fakeStream {
	for _, st := range w.streams {
		if st.id == id {
			return st
		}
	}
	w.t.Fatalf("frame for unknown stream %d", id)
	return nil
}

func (w *workload) done() bool {
	for _, st := range w.streams {
		if st.sent < st.size || !st.finSent || len(st.lost) > 0 || st.ctrlPending > 0 {
			return false
		}
	}
	return !w.s.HasStreamWork()
}

// step builds one packet and plays the network and the application.
func (w *workload) step(buf []byte) []byte {
	rng := w.rng
	budget := 20 + rng.IntN(1433)
	p := &Packet{Space: AppData, Budget: budget, Credit: &w.credit}
	if rng.IntN(4) == 0 {
		p.Ack = &fakeFrames{typ: wire.FrameTypeAck, count: 1, off: uint64(rng.IntN(1 << 20))}
	}
	if rng.IntN(10) == 0 {
		p.Control = &fakeFrames{typ: wire.FrameTypeMaxData, count: 1 + rng.IntN(3)}
	}
	rec := w.pool.Get()
	creditBefore := w.credit
	buf = w.s.Build(buf[:0], p, rec)
	frames, err := checkPacket(buf, budget, rec)
	if err != nil {
		w.t.Fatal(err)
	}
	var newBytes uint64
	for _, f := range frames {
		switch f.Kind {
		case FrameStreamControl:
			w.ctrlSent++
		case FrameStream:
			st := w.stream(f.StreamID)
			base := w.base(st)
			if f.Offset < base || f.Offset+f.Length > st.size {
				w.t.Fatalf("stream %d: frame [%d, %d) outside [%d, %d)", st.id, f.Offset, f.Offset+f.Length, base, st.size)
			}
			fresh := true
			for o := f.Offset; o < f.Offset+f.Length; o++ {
				w.sends[st.id][o-base]++
				if w.sends[st.id][o-base] > 1 {
					fresh = false
				}
			}
			if f.Fin {
				w.finTx[st.id]++
				if f.Offset+f.Length != st.size {
					w.t.Fatalf("stream %d: FIN at %d, size %d", st.id, f.Offset+f.Length, st.size)
				}
			}
			if fresh {
				newBytes += f.Length
			}
		}
	}
	w.newSent += newBytes
	if creditBefore-w.credit != newBytes {
		w.t.Fatalf("credit went from %d to %d for %d new bytes", creditBefore, w.credit, newBytes)
	}
	if w.newSent > w.creditGiven {
		w.t.Fatalf("%d new bytes sent with %d credit given", w.newSent, w.creditGiven)
	}

	// The network loses one packet in eight.
	if rng.IntN(8) == 0 {
		for _, f := range rec.Frames {
			switch f.Kind {
			case FrameStream:
				st := w.stream(f.StreamID)
				base := w.base(st)
				for o := f.Offset; o < f.Offset+f.Length; o++ {
					w.losses[st.id][o-base]++
				}
				if f.Fin {
					w.finLost[st.id]++
				}
				st.lose(f.Offset, f.Length, f.Fin)
				w.s.ActivateRetransmit(st)
			case FrameStreamControl:
				st := w.stream(f.StreamID)
				st.ctrlPending++
				w.ctrlQueued++
				w.s.ActivateControl(st)
			}
		}
	}
	w.pool.Put(rec)

	// The peer hands out credit; streams raise their own limits; control
	// frames get queued.
	if rng.IntN(10) == 0 {
		more := uint64(rng.IntN(20000))
		w.credit += more
		w.creditGiven += more
	}
	if rng.IntN(5) == 0 {
		st := w.streams[rng.IntN(len(w.streams))]
		if st.limit < st.size {
			st.limit += uint64(1 + rng.IntN(5000))
			pr := w.prio[st.id]
			w.s.Activate(st, uint8(pr[0]), pr[1] == 1)
		}
	}
	if rng.IntN(20) == 0 {
		st := w.streams[rng.IntN(len(w.streams))]
		st.ctrlPending++
		w.ctrlQueued++
		w.s.ActivateControl(st)
	}
	if rng.IntN(50) == 0 {
		// Reprioritization mid-flight.
		st := w.streams[rng.IntN(len(w.streams))]
		pr := [2]int{rng.IntN(8), rng.IntN(2)}
		w.prio[st.id] = pr
		w.s.SetPriority(st.id, uint8(pr[0]), pr[1] == 1)
	}
	return buf
}

func (w *workload) finish() {
	// Enough credit and limits to finish.
	w.credit += 1 << 40
	w.creditGiven += 1 << 40
	for _, st := range w.streams {
		if st.limit < st.size {
			st.limit = st.size
			pr := w.prio[st.id]
			w.s.Activate(st, uint8(pr[0]), pr[1] == 1)
		}
	}
}

func (w *workload) verify() {
	for _, st := range w.streams {
		for i, n := range w.sends[st.id] {
			if want := 1 + w.losses[st.id][i]; n != want {
				w.t.Fatalf("stream %d byte %d: sent %d times, lost %d times", st.id, w.base(st)+uint64(i), n, w.losses[st.id][i])
			}
		}
		if want := 1 + w.finLost[st.id]; w.finTx[st.id] != want {
			w.t.Fatalf("stream %d: FIN sent %d times, lost %d times", st.id, w.finTx[st.id], w.finLost[st.id])
		}
		if st.badMax != 0 {
			w.t.Fatalf("stream %d offered a negative max", st.id)
		}
	}
	if w.ctrlSent != w.ctrlQueued {
		w.t.Fatalf("%d stream control frames sent, %d queued", w.ctrlSent, w.ctrlQueued)
	}
	if len(w.s.nodes) != 0 {
		w.t.Fatalf("%d nodes left when all work is done", len(w.s.nodes))
	}
}

func TestPropertyRandomWorkloads(t *testing.T) {
	seeds := 300
	if testing.Short() {
		seeds = 50
	}
	for seed := range uint64(seeds) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			w := newWorkload(t, seed)
			buf := make([]byte, 0, 1500)
			for i := 0; !w.done(); i++ {
				if i == 2000 {
					w.finish()
				}
				if i > 100000 {
					t.Fatal("no progress")
				}
				buf = w.step(buf)
			}
			w.verify()
		})
	}
}
