package udpio

import (
	"slices"
	"testing"
)

func TestNextChunk(t *testing.T) {
	cases := []struct {
		name           string
		remaining, seg int
		gso            bool
		wantN          int
		wantSegmented  bool
	}{
		{"single datagram", 1500, 0, true, 1500, false},
		{"negative seg", 1500, -5, true, 1500, false},
		{"shorter than a segment", 700, 1200, true, 700, false},
		{"exactly one segment", 1200, 1200, true, 1200, false},
		{"empty", 0, 1200, true, 0, false},
		{"no gso", 5000, 1200, false, 1200, false},
		{"a train", 5000, 1200, true, 5000, true},
		{"64-segment cap", 100 * 100, 100, true, 64 * 100, true},
		{"byte cap", 50 * 1452, 1452, true, 45 * 1452, true},
		{"segment too big for two", 80000, 40000, true, 40000, false},
		{"tail after cap", 1452 + 1, 1452, true, 1453, true},
	}
	for _, tc := range cases {
		n, seg := nextChunk(tc.remaining, tc.seg, tc.gso)
		if n != tc.wantN || seg != tc.wantSegmented {
			t.Errorf("%s: nextChunk(%d, %d, %v) = %d, %v; want %d, %v", tc.name, tc.remaining, tc.seg, tc.gso, n, seg, tc.wantN, tc.wantSegmented)
		}
		if seg && (n > MaxGSOBytes || (n+tc.seg-1)/tc.seg > MaxGSOSegments) {
			t.Errorf("%s: chunk of %d bytes breaks the GSO limits", tc.name, n)
		}
	}
}

func TestSegments(t *testing.T) {
	buf := make([]byte, 100)
	for i := range buf {
		buf[i] = byte(i)
	}
	cases := []struct {
		name string
		m    Message
		want []int // lengths
	}{
		{"whole", Message{Buf: buf, N: 60}, []int{60}},
		{"even", Message{Buf: buf, N: 60, SegSize: 20}, []int{20, 20, 20}},
		{"short tail", Message{Buf: buf, N: 65, SegSize: 20}, []int{20, 20, 20, 5}},
		{"segment not smaller", Message{Buf: buf, N: 60, SegSize: 60}, []int{60}},
		{"empty", Message{Buf: buf, N: 0, SegSize: 20}, []int{0}},
		{"N past the buffer", Message{Buf: buf[:10], N: 500, SegSize: 4}, []int{4, 4, 2}},
		{"negative N", Message{Buf: buf, N: -3, SegSize: 4}, []int{0}},
	}
	for _, tc := range cases {
		var lens []int
		off := 0
		for d := range tc.m.Segments() {
			lens = append(lens, len(d))
			if len(d) > 0 && &d[0] != &tc.m.Buf[off] {
				t.Errorf("%s: segment at the wrong offset", tc.name)
			}
			off += len(d)
		}
		if !slices.Equal(lens, tc.want) {
			t.Errorf("%s: segments %v, want %v", tc.name, lens, tc.want)
		}
	}
	// Stopping early stops.
	m := Message{Buf: buf, N: 100, SegSize: 10}
	count := 0
	for range m.Segments() {
		count++
		if count == 3 {
			break
		}
	}
	if count != 3 {
		t.Errorf("break after 3: %d", count)
	}
}
