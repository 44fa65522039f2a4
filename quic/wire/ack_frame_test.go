package wire

import (
	"runtime"
	"slices"
	"testing"
)

func parseAckNoReuse(b []byte) (AckFrame, int, error) { return ParseAckFrame(b, nil) }

// ackRangesFrom builds descending ranges from a largest packet number and
// alternating (ack range length, gap) values, as on the wire.
func ackRangesFrom(largest uint64, first uint64, gapsAndLens ...uint64) []AckRange {
	r := []AckRange{{Smallest: largest - first, Largest: largest}}
	for i := 0; i+1 < len(gapsAndLens); i += 2 {
		lg := r[len(r)-1].Smallest - gapsAndLens[i] - 2
		r = append(r, AckRange{Smallest: lg - gapsAndLens[i+1], Largest: lg})
	}
	return r
}

func TestAckFrameGolden(t *testing.T) {
	for _, tc := range []struct {
		f   AckFrame
		hex string
	}{
		{AckFrame{Ranges: []AckRange{{5, 10}}}, "02 0a 00 00 05"},
		{AckFrame{Ranges: []AckRange{{0, 0}}, AckDelay: 100}, "02 00 4064 00 00"},
		// largest 10, first range 2 (8..10), gap 1 (6,7 missing), range 3 (2..5)
		{AckFrame{Ranges: []AckRange{{8, 10}, {2, 5}}, AckDelay: 1}, "02 0a 01 01 02 01 03"},
		{AckFrame{Ranges: []AckRange{{8, 10}, {2, 5}}, ECN: true, ECT0: 1, ECT1: 0, ECNCE: 64},
			"03 0a 00 01 02 01 03 01 00 4040"},
		{AckFrame{Ranges: []AckRange{{0, MaxVarint}}}, "02 ffffffffffffffff 00 00 ffffffffffffffff"},
	} {
		checkGolden(t, tc.f, tc.hex, parseAckNoReuse)
	}
}

func TestAckFrameRoundTrip(t *testing.T) {
	var frames []AckFrame
	for _, largest := range edgeValues {
		for _, first := range edgeValues {
			if first > largest {
				continue
			}
			frames = append(frames, AckFrame{Ranges: []AckRange{{largest - first, largest}}, AckDelay: first})
		}
	}
	// Gaps and lengths at every varint boundary, from the top of the
	// packet number space down.
	for _, gap := range edgeValues[:len(edgeValues)-1] {
		for _, l := range edgeValues[:len(edgeValues)-1] {
			frames = append(frames, AckFrame{Ranges: ackRangesFrom(MaxVarint, 0, gap, l, l, gap, 0, 0)})
		}
	}
	// Ranges reaching exactly packet 0.
	frames = append(frames,
		AckFrame{Ranges: ackRangesFrom(10, 2, 1, 5)},                  // ..., 0..5
		AckFrame{Ranges: ackRangesFrom(10, 0, 8, 0)},                  // 10, 0
		AckFrame{Ranges: ackRangesFrom(MaxVarint, 0, MaxVarint-2, 0)}, // top and 0
	)
	// Many ranges: the Range Count field crosses its 1-byte boundary.
	frames = append(frames, AckFrame{Ranges: ackRangesFrom(1_000_000, 3, slices.Repeat([]uint64{1, 2}, 99)...)})
	for _, f := range frames {
		checkFrame(t, f, parseAckNoReuse)
		ecn := f
		ecn.ECN = true
		for _, v := range edgeValues {
			ecn.ECT0, ecn.ECT1, ecn.ECNCE = v, MaxVarint-v, v/2
			checkFrame(t, ecn, parseAckNoReuse)
		}
	}
}

func TestAckFrameErrors(t *testing.T) {
	for _, tc := range []struct {
		name, hex string
		ft        FrameType
	}{
		{"empty", "", FrameTypeAck},
		{"not an ACK", "04 00 00 00", FrameTypeAck},
		{"first range below 0", "02 05 00 00 06", FrameTypeAck},
		{"first range below 0 (ECN)", "03 00 00 00 01 00 00 00", FrameTypeAckECN},
		// largest 10, first 2 -> smallest 8; gap 7 -> largest = 8-7-2 < 0
		{"gap below 0", "02 0a 00 01 02 07 00", FrameTypeAck},
		// gap 6 -> largest 0, fine; then length 1 -> smallest < 0
		{"range below 0", "02 0a 00 01 02 06 01", FrameTypeAck},
		// gap 5 -> largest 1, length 1 -> smallest 0; a further gap 0 -> below 0
		{"second gap below 0", "02 0a 00 02 02 05 01 00 00", FrameTypeAck},
		{"count exceeds frame", "02 0a 00 02 02 00 00", FrameTypeAck},
		{"count 2^62-1 in a short frame", "02 0a 00 ffffffffffffffff 00 00 00 00 00 00 00 00 00", FrameTypeAck},
		{"ECN counts missing", "03 0a 00 00 00", FrameTypeAckECN},
		{"ECN-CE truncated", "03 0a 00 00 00 00 00 40", FrameTypeAckECN},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, n, err := ParseAckFrame(mustHex(t, tc.hex), nil)
			if err == nil {
				t.Fatalf("parsed %+v, %d", f, n)
			}
			checkFrameError(t, err, FrameEncodingError, tc.ft, true)
			if n != 0 || len(f.Ranges) != 0 {
				t.Fatalf("error with n=%d, %d ranges", n, len(f.Ranges))
			}
		})
	}
}

// A hostile range count never sizes an allocation: the parser fails before
// it allocates anything but the error.
func TestAckFrameHugeCountDoesNotAllocate(t *testing.T) {
	b := mustHex(t, "02 0a 00 ffffffffffffffff 00 0000 0000 0000 0000 0000 0000 0000 0000")
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 100 {
		if _, _, err := ParseAckFrame(b, nil); err == nil {
			t.Fatal("parsed a frame with 2^62-1 ranges")
		}
	}
	runtime.ReadMemStats(&after)
	if d := after.TotalAlloc - before.TotalAlloc; d > 100*1024 {
		t.Fatalf("100 failed parses allocated %d bytes", d)
	}
	// The largest count the input can hold parses, with one allocation of
	// the ranges (here none: the slice has room).
	b = mustHex(t, "02 7fff 00 08 00 0000 0000 0000 0000 0000 0000 0000 0000")
	ranges := make([]AckRange, 0, 9)
	f, n, err := ParseAckFrame(b, ranges)
	if err != nil || n != len(b) || len(f.Ranges) != 9 {
		t.Fatalf("9 ranges: %+v, %d, %v", f, n, err)
	}
	if &f.Ranges[0] != &ranges[:1][0] {
		t.Error("ranges with enough room were not reused")
	}
}

func TestAckFrameReusesRanges(t *testing.T) {
	f := AckFrame{Ranges: ackRangesFrom(1000, 2, 1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19)}
	b := f.Append(nil)
	ranges := make([]AckRange, 3, 32) // stale content is overwritten
	allocs := testing.AllocsPerRun(100, func() {
		g, _, err := ParseAckFrame(b, ranges)
		if err != nil {
			panic(err)
		}
		ranges = g.Ranges
	})
	if allocs != 0 {
		t.Errorf("ParseAckFrame with a reused slice allocates %v times", allocs)
	}
	if !slices.Equal(ranges, f.Ranges) {
		t.Errorf("ranges = %v, want %v", ranges, f.Ranges)
	}
	checkNoAllocs(t, f, func(b []byte) (AckFrame, int, error) {
		g, n, err := ParseAckFrame(b, ranges)
		ranges = g.Ranges
		return g, n, err
	})
}

func TestAppendAckFrameLimit(t *testing.T) {
	frames := []AckFrame{
		{Ranges: ackRangesFrom(100, 0)},
		{Ranges: ackRangesFrom(1<<40, 5, 1, 2, 100, 200, 20000, 3, 1<<31, 1)},
		{Ranges: ackRangesFrom(1<<40, 5, 1, 2, 100, 200, 20000, 3, 1<<31, 1), ECN: true, ECT0: 1 << 20, ECNCE: 5},
	}
	// 100 ranges: the Range Count field grows from 1 to 2 bytes at 64.
	var gl []uint64
	for i := range 99 {
		gl = append(gl, uint64(i%3), uint64(i%70))
	}
	frames = append(frames, AckFrame{Ranges: ackRangesFrom(1<<20, 1, gl...), AckDelay: 1000})
	for _, f := range frames {
		full := f.Len()
		for limit := -1; limit <= full+2; limit++ {
			pre := []byte{0xee}
			out, ok := AppendAckFrameLimit(pre, &f, limit)
			one := AckFrame{Ranges: f.Ranges[:1], AckDelay: f.AckDelay, ECN: f.ECN, ECT0: f.ECT0, ECT1: f.ECT1, ECNCE: f.ECNCE}
			if !ok {
				if len(out) != 1 || limit >= one.Len() {
					t.Fatalf("limit %d (single range takes %d): ok=false, out=%x", limit, one.Len(), out)
				}
				continue
			}
			body := out[1:]
			if len(body) > limit {
				t.Fatalf("limit %d: wrote %d bytes", limit, len(body))
			}
			g, n, err := ParseAckFrame(body, nil)
			if err != nil || n != len(body) {
				t.Fatalf("limit %d: parse: %v (n=%d of %d)", limit, err, n, len(body))
			}
			k := len(g.Ranges)
			if !slices.Equal(g.Ranges, f.Ranges[:k]) || g.AckDelay != f.AckDelay || g.ECN != f.ECN ||
				g.ECT0 != f.ECT0 || g.ECT1 != f.ECT1 || g.ECNCE != f.ECNCE {
				t.Fatalf("limit %d: got %+v, want a prefix of %+v", limit, g, f)
			}
			// Maximal: one more range would not fit.
			if k < len(f.Ranges) {
				more := g
				more.Ranges = f.Ranges[:k+1]
				if more.Len() <= limit {
					t.Fatalf("limit %d: wrote %d ranges, but %d fit in %d bytes", limit, k, k+1, more.Len())
				}
			}
			if limit >= full && k != len(f.Ranges) {
				t.Fatalf("limit %d >= Len %d but only %d of %d ranges written", limit, full, k, len(f.Ranges))
			}
		}
	}
	if out, ok := AppendAckFrameLimit(nil, &AckFrame{}, 100); ok || out != nil {
		t.Error("a frame without ranges was written")
	}
}

func TestAckFrameLargestAcked(t *testing.T) {
	f := AckFrame{Ranges: ackRangesFrom(77, 3, 1, 1)}
	if f.LargestAcked() != 77 {
		t.Errorf("LargestAcked = %d", f.LargestAcked())
	}
	if (&AckFrame{}).LargestAcked() != 0 {
		t.Error("LargestAcked of an empty frame is not 0")
	}
}

func TestAckFrameInvalidRangesPanic(t *testing.T) {
	for _, ranges := range [][]AckRange{
		nil,
		{{Smallest: 5, Largest: 4}},
		{{10, 12}, {9, 9}}, // adjacent: no gap to encode
		{{10, 12}, {11, 20}},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Append of ranges %v did not panic", ranges)
				}
			}()
			f := AckFrame{Ranges: ranges}
			f.Append(nil)
		}()
	}
}

func FuzzParseAckFrame(f *testing.F) {
	for _, s := range []string{
		"02 0a 00 00 05",
		"02 0a 01 01 02 01 03",
		"03 0a 00 01 02 01 03 01 00 4040",
		"02 ffffffffffffffff 00 00 ffffffffffffffff",
		"02 0a 00 02 02 05 01 00 00",
		"02 0a 00 ffffffffffffffff 00 00 00 00 00 00 00 00 00",
		"02 7fff 00 08 00 0000 0000 0000 0000 0000 0000 0000 0000",
	} {
		f.Add(mustHex(f, s), 12)
	}
	many := AckFrame{Ranges: ackRangesFrom(1<<20, 1, slices.Repeat([]uint64{0, 3, 70, 1}, 40)...)}
	f.Add(many.Append(nil), 100)
	f.Fuzz(func(t *testing.T, b []byte, limit int) {
		ranges := make([]AckRange, 0, 4)
		ack, n, err := ParseAckFrame(b, ranges)
		if err != nil {
			checkFrameError(t, err, FrameEncodingError, 0, false)
			if n != 0 || len(ack.Ranges) != 0 {
				t.Fatalf("error with n=%d and %d ranges", n, len(ack.Ranges))
			}
			return
		}
		if n < 5 || n > len(b) || len(ack.Ranges) == 0 || len(ack.Ranges) > n/2 {
			t.Fatalf("n=%d of %d bytes, %d ranges", n, len(b), len(ack.Ranges))
		}
		for i, r := range ack.Ranges {
			if r.Smallest > r.Largest || r.Largest > MaxVarint ||
				(i > 0 && r.Largest+2 > ack.Ranges[i-1].Smallest) {
				t.Fatalf("invalid range %d: %+v", i, ack.Ranges)
			}
		}
		checkReencode(t, ack)
		out, ok := AppendAckFrameLimit(nil, &ack, limit)
		if !ok {
			one := ack
			one.Ranges = ack.Ranges[:1]
			if out != nil || one.Len() <= limit {
				t.Fatalf("limit %d: ok=false, but one range takes %d bytes", limit, one.Len())
			}
			return
		}
		if len(out) > limit {
			t.Fatalf("limit %d: wrote %d bytes", limit, len(out))
		}
		g, m, err := ParseAckFrame(out, nil)
		if err != nil || m != len(out) || !slices.Equal(g.Ranges, ack.Ranges[:len(g.Ranges)]) {
			t.Fatalf("limit %d: %x parses as %+v, %d, %v", limit, out, g, m, err)
		}
	})
}

// BenchmarkAckFrameAppendParse encodes and parses an ACK frame with 10
// ranges, reusing the buffer and the ranges slice: 0 allocs/op.
func BenchmarkAckFrameAppendParse(b *testing.B) {
	f := AckFrame{Ranges: ackRangesFrom(1_000_000, 20, 1, 30, 2, 100, 0, 5, 7, 1000, 1, 1, 3, 40, 2, 2, 10, 60, 1, 9), AckDelay: 250}
	if len(f.Ranges) != 10 {
		b.Fatalf("%d ranges", len(f.Ranges))
	}
	buf := make([]byte, 0, 256)
	ranges := make([]AckRange, 0, 16)
	b.ReportAllocs()
	for b.Loop() {
		buf = f.Append(buf[:0])
		g, _, err := ParseAckFrame(buf, ranges)
		if err != nil {
			b.Fatal(err)
		}
		ranges = g.Ranges
	}
	b.SetBytes(int64(len(buf)))
}
