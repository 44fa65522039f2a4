package sched

import (
	"math/rand/v2"
	"testing"
)

func TestFillRatio(t *testing.T) {
	tests := []struct {
		name    string
		streams int
		quantum int
		finite  bool // streams of 1..5000 bytes, replaced as they finish
		random  bool // random budgets 20..1452
	}{
		{"1 stream", 1, 0, false, false},
		{"100 streams", 100, 0, false, false},
		{"100 streams, quantum 200", 100, 200, false, false},
		{"100 short streams", 100, 0, true, false},
		{"100 short streams, quantum 200", 100, 200, true, false},
		{"100 streams, random budgets", 100, 0, false, true},
		{"100 short streams, random budgets", 100, 0, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, 4))
			s := New(Config{Quantum: tt.quantum})
			size := func() uint64 {
				if tt.finite {
					return 1 + uint64(rng.IntN(5000))
				}
				return 1 << 40
			}
			live := map[uint64]*fakeStream{}
			next := uint64(0)
			start := func() {
				st := newFakeStream(next, size(), true)
				next += 4
				live[st.id] = st
				s.Activate(st, uint8(rng.IntN(2)), rng.IntN(2) == 0)
			}
			for range tt.streams {
				start()
			}
			rec := &Record{}
			buf := make([]byte, 0, 1500)
			var used, data, offered int
			for range 10000 {
				budget := 1452
				if tt.random {
					budget = 20 + rng.IntN(1433)
				}
				rec.Reset()
				buf = s.Build(buf[:0], &Packet{Space: AppData, Budget: budget}, rec)
				frames, err := checkPacket(buf, budget, rec)
				if err != nil {
					t.Fatal(err)
				}
				used += len(buf)
				for _, f := range frames {
					data += int(f.Length)
				}
				offered += budget
				for _, f := range frames {
					if st := live[f.StreamID]; st != nil && st.finSent {
						delete(live, f.StreamID)
						start()
					}
				}
			}
			ratio := float64(used) / float64(offered)
			t.Logf("frames fill %.4f of the budget, stream data %.4f", ratio, float64(data)/float64(offered))
			if ratio < 0.98 {
				t.Fatalf("packets %.4f full, want >= 0.98", ratio)
			}
		})
	}
}
