package rangeset

import (
	"math/rand/v2"
	"testing"
)

// model is a trivially correct set of small values.
type model map[uint64]bool

func (m model) check(t *testing.T, s *Set, max uint64) {
	t.Helper()
	for v := uint64(0); v < max; v++ {
		if s.Contains(v) != m[v] {
			t.Fatalf("Contains(%d) = %v, want %v; ranges %v", v, s.Contains(v), m[v], s.r)
		}
	}
	for i := 0; i < len(s.r); i++ {
		if s.r[i].Start >= s.r[i].End {
			t.Fatalf("empty range %v in %v", s.r[i], s.r)
		}
		if i > 0 && s.r[i-1].End >= s.r[i].Start {
			t.Fatalf("ranges not disjoint and separated: %v", s.r)
		}
	}
}

func TestSetAgainstModel(t *testing.T) {
	const max = 200
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 200; round++ {
		var s Set
		m := model{}
		for op := 0; op < 100; op++ {
			a := rng.Uint64N(max)
			b := a + rng.Uint64N(20)
			switch rng.IntN(4) {
			case 0, 1:
				s.Add(a, b)
				for v := a; v < b; v++ {
					m[v] = true
				}
			case 2:
				s.Remove(a, b)
				for v := a; v < b; v++ {
					delete(m, v)
				}
			case 3:
				s.RemoveBelow(a / 4)
				for v := range m {
					if v < a/4 {
						delete(m, v)
					}
				}
			}
			m.check(t, &s, max+20)
			lo := rng.Uint64N(max)
			hi := lo + rng.Uint64N(10)
			want := true
			for v := lo; v < hi; v++ {
				want = want && m[v]
			}
			if got := s.ContainsRange(lo, hi); got != want {
				t.Fatalf("ContainsRange(%d,%d) = %v, want %v; %v", lo, hi, got, want, s.r)
			}
		}
	}
}

func TestSetAccessors(t *testing.T) {
	var s Set
	if !s.Empty() || s.End() != 0 {
		t.Fatal("zero Set not empty")
	}
	s.Add(10, 20)
	s.Add(30, 40)
	s.Add(20, 25) // adjacent: merges
	if s.NumRanges() != 2 || s.Range(0) != (Range{10, 25}) || s.Min() != 10 || s.Max() != 39 || s.End() != 40 {
		t.Fatalf("got %v", s.r)
	}
	if s.Range(1).Len() != 10 {
		t.Fatal("Len")
	}
	s.RemoveFirst()
	if s.NumRanges() != 1 || s.Min() != 30 {
		t.Fatalf("RemoveFirst: %v", s.r)
	}
	s.Clear()
	if !s.Empty() {
		t.Fatal("Clear")
	}
}

func BenchmarkAddInOrder(b *testing.B) {
	var s Set
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		v := uint64(i)
		s.Add(v, v+1)
		if s.NumRanges() > 1 {
			b.Fatal("not merged")
		}
	}
}
