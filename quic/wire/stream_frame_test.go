package wire

import (
	"bytes"
	"testing"
)

// streamFrameLen is a StreamFrame always encoded with its Length field, in
// the shape checkFrame wants.
type streamFrameLen StreamFrame

func (f *streamFrameLen) Len() int               { return (*StreamFrame)(f).Len(true) }
func (f *streamFrameLen) Append(b []byte) []byte { return (*StreamFrame)(f).Append(b, true) }

func parseStreamFrameLen(b []byte) (streamFrameLen, int, error) {
	f, n, err := ParseStreamFrame(b)
	return streamFrameLen(f), n, err
}

// checkStreamFrameNoLength checks f encoded without a Length field: it parses
// back when it ends the payload, a shorter payload gives shorter data, and a
// payload shorter than the header fails.
func checkStreamFrameNoLength(t *testing.T, f StreamFrame) {
	t.Helper()
	b := f.Append(nil, false)
	if len(b) != f.Len(false) {
		t.Fatalf("%+v: Len(false) = %d, encoding has %d bytes", f, f.Len(false), len(b))
	}
	hdr := StreamFrameHeaderLen(f.StreamID, f.Offset, len(f.Data), false)
	for i := 0; i <= len(b); i++ {
		g, n, err := ParseStreamFrame(b[:i:i])
		if i < hdr {
			if err == nil {
				t.Fatalf("%+v: %d-byte prefix parsed", f, i)
			}
			checkFrameError(t, err, FrameEncodingError, 0, false)
			continue
		}
		if err != nil || n != i || g.StreamID != f.StreamID || g.Offset != f.Offset ||
			g.Fin != f.Fin || !bytes.Equal(g.Data, f.Data[:i-hdr]) {
			t.Fatalf("%+v: %d-byte prefix parsed as %+v, %d, %v", f, i, g, n, err)
		}
	}
}

func TestStreamFrameRoundTrip(t *testing.T) {
	for _, id := range edgeValues {
		for _, off := range edgeValues {
			for _, dl := range []int{0, 1, 64} {
				if off+uint64(dl) > MaxVarint {
					continue
				}
				for _, fin := range []bool{false, true} {
					f := StreamFrame{StreamID: id, Offset: off, Data: byteSeq(dl), Fin: fin}
					checkFrame(t, streamFrameLen(f), parseStreamFrameLen)
					checkStreamFrameNoLength(t, f)
				}
			}
		}
	}
	for _, dl := range []int{63, 16383, 16384} {
		for _, off := range []uint64{0, 1 << 30, MaxVarint - uint64(dl)} {
			f := StreamFrame{StreamID: 7, Offset: off, Data: byteSeq(dl), Fin: true}
			checkFrame(t, streamFrameLen(f), parseStreamFrameLen)
			checkStreamFrameNoLength(t, f)
		}
	}
	checkNoAllocs(t, streamFrameLen{StreamID: 4, Offset: 1 << 20, Data: byteSeq(1200)}, parseStreamFrameLen)
}

func TestStreamFrameGolden(t *testing.T) {
	hi := []byte("hi")
	for _, tc := range []struct {
		f       StreamFrame
		withLen bool
		hex     string
	}{
		{StreamFrame{StreamID: 4, Data: hi, Fin: true}, true, "0b 04 02 6869"},
		{StreamFrame{StreamID: 4, Data: hi}, false, "08 04 6869"},
		{StreamFrame{StreamID: 4, Offset: 64, Data: hi}, true, "0e 04 4040 02 6869"},
		{StreamFrame{StreamID: 1 << 30, Offset: 5, Fin: true}, false, "0d c000000040000000 05"},
		{StreamFrame{StreamID: 0, Fin: true}, true, "0b 00 00"},
	} {
		w := mustHex(t, tc.hex)
		if got := tc.f.Append(nil, tc.withLen); !bytes.Equal(got, w) {
			t.Errorf("Append(%+v, %v) = %x, want %x", tc.f, tc.withLen, got, w)
		}
		g, n, err := ParseStreamFrame(w)
		if err != nil || n != len(w) || !sameFrame(g, tc.f) {
			t.Errorf("parse(%x) = %+v, %d, %v", w, g, n, err)
		}
	}
	// A 2-byte offset of 0 with the OFF bit set is legal: offset 0.
	g, n, err := ParseStreamFrame(mustHex(t, "0e 04 4000 01 ff"))
	if err != nil || n != 6 || g.Offset != 0 || !bytes.Equal(g.Data, []byte{0xff}) {
		t.Errorf("explicit zero offset: %+v, %d, %v", g, n, err)
	}
}

func TestStreamFrameErrors(t *testing.T) {
	for _, tc := range []struct {
		name, hex string
		ft        FrameType
	}{
		{"empty", "", FrameTypeStream},
		{"not STREAM", "06 00 00", FrameTypeStream},
		{"not STREAM (0x10)", "10 00", FrameTypeStream},
		{"length past the packet", "0a 04 03 6869", 0x0a},
		// RFC 9000 §19.8: offset + length must not exceed 2^62-1.
		{"offset+length beyond 2^62-1", "0e 04 ffffffffffffffff 01 00", 0x0e},
		{"offset+rest beyond 2^62-1", "0c 04 fffffffffffffffe 0000", 0x0c},
		{"huge length", "0a 04 ffffffffffffffff", 0x0a},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, n, err := ParseStreamFrame(mustHex(t, tc.hex))
			if err == nil {
				t.Fatalf("parsed %+v, %d", f, n)
			}
			checkFrameError(t, err, FrameEncodingError, tc.ft, true)
		})
	}
	// Offset exactly 2^62-1 with no data is fine.
	if _, _, err := ParseStreamFrame(mustHex(t, "0e 04 ffffffffffffffff 00")); err != nil {
		t.Errorf("empty frame at offset 2^62-1: %v", err)
	}
}

// checkStreamDataFit checks StreamDataFit's promises for one input and
// returns its result.
func checkStreamDataFit(t testing.TB, id, off uint64, want, space int) (int, bool) {
	t.Helper()
	n, withLen := StreamDataFit(id, off, want, space)
	hdr0 := StreamFrameHeaderLen(id, off, 0, false)
	want = max(want, 0)
	if n < 0 {
		if space >= hdr0 {
			t.Fatalf("StreamDataFit(%d, %d, %d, %d) = %d but an empty frame (%d bytes) fits", id, off, want, space, n, hdr0)
		}
		return n, withLen
	}
	if n > want {
		t.Fatalf("StreamDataFit(%d, %d, %d, %d) = %d > want", id, off, want, space, n)
	}
	size := StreamFrameHeaderLen(id, off, n, withLen) + n
	if !withLen && size != space {
		t.Fatalf("StreamDataFit(%d, %d, %d, %d) = %d without Length: frame is %d bytes, not exactly space", id, off, want, space, n, size)
	}
	if withLen && size > space {
		t.Fatalf("StreamDataFit(%d, %d, %d, %d) = %d with Length: frame is %d bytes > space", id, off, want, space, n, size)
	}
	if withLen && n < want {
		// Largest: one more byte does not fit with a Length field, and a
		// frame without one would need more data than want.
		if StreamFrameHeaderLen(id, off, n+1, true)+n+1 <= space {
			t.Fatalf("StreamDataFit(%d, %d, %d, %d) = %d, but %d fit", id, off, want, space, n, n+1)
		}
		if want >= space-hdr0 {
			t.Fatalf("StreamDataFit(%d, %d, %d, %d) = %d with Length, but all %d fit without one", id, off, want, space, n, space-hdr0)
		}
	}
	if withLen && n == want && want >= space-hdr0 {
		t.Fatalf("StreamDataFit(%d, %d, %d, %d): kept a Length though the data fills space", id, off, want, space)
	}
	return n, withLen
}

func TestStreamDataFit(t *testing.T) {
	// Explicit cases, id 0 and offset 0: a 2-byte header without Length.
	for _, tc := range []struct {
		want, space int
		n           int
		withLen     bool
	}{
		{0, 0, -1, false},
		{0, 1, -1, false},
		{0, 2, 0, false}, // FIN only, fills space
		{0, 3, 0, true},
		{1, 2, 0, false}, // no room for data: an empty frame filling space
		{1, 3, 1, false},
		{1, 4, 1, true},
		{10, 12, 10, false},
		{10, 13, 10, true},
		{62, 65, 62, true},
		{63, 66, 63, true},
		{64, 66, 64, false},
		{64, 67, 63, true}, // a 2-byte Length does not fit beside 64
		{64, 68, 64, true},
		{1000, 500, 498, false},
		// The 16384 boundary: 16383 bytes with a 2-byte Length fit in
		// 16387; the old formula gave 16382.
		{16384, 16388, 16383, true},
		{16384, 16390, 16384, true},
		{16384, 16386, 16384, false},
		{-5, 10, 0, true},
	} {
		n, withLen := checkStreamDataFit(t, 0, 0, tc.want, tc.space)
		if n != tc.n || withLen != tc.withLen {
			t.Errorf("StreamDataFit(0, 0, %d, %d) = %d, %v; want %d, %v", tc.want, tc.space, n, withLen, tc.n, tc.withLen)
		}
	}
	// Around every varint boundary of the data length, for headers of
	// several sizes: every space, and want near what fits.
	ids := []uint64{0, 63, 64, 16384, 1 << 30}
	offs := []uint64{0, 1, 64, 16384, 1 << 30}
	for _, id := range ids {
		for _, off := range offs {
			hdr := StreamFrameHeaderLen(id, off, 0, false)
			for _, b := range []int{0, 63, 16383, 1<<30 - 1} {
				for space := b - 12; space <= b+24; space++ {
					s := space + hdr
					if space < 0 {
						s = space + 12
					}
					for _, want := range []int{0, 1, 2, b - 2, b - 1, b, b + 1, b + 2, b + 3, b + 4, b + 8, s - hdr - 1, s - hdr, s - hdr + 1, 1 << 40} {
						checkStreamDataFit(t, id, off, want, s)
					}
				}
			}
		}
	}
	// Small spaces exhaustively.
	for space := -2; space < 200; space++ {
		for want := -1; want < 210; want++ {
			checkStreamDataFit(t, 9, 70, want, space)
		}
	}
}

// The frames StreamDataFit sizes encode and parse back as promised.
func TestStreamDataFitFramesParse(t *testing.T) {
	data := byteSeq(20000)
	for space := 0; space < 20000; space += 97 {
		for _, want := range []int{0, 10, space / 2, space - 5, space, 20000} {
			id, off := uint64(space), uint64(want)*3
			n, withLen := StreamDataFit(id, off, want, space)
			if n < 0 {
				continue
			}
			b := AppendStreamFrameHeader(nil, id, off, n, false, withLen)
			b = append(b, data[:n]...)
			if len(b) > space || (!withLen && len(b) != space) {
				t.Fatalf("space %d want %d: frame of %d bytes (withLen %v)", space, want, len(b), withLen)
			}
			f, m, err := ParseStreamFrame(b)
			if err != nil || m != len(b) || f.StreamID != id || f.Offset != off || !bytes.Equal(f.Data, data[:n]) {
				t.Fatalf("space %d want %d: parse = %+v, %d, %v", space, want, f, m, err)
			}
		}
	}
}

func FuzzStreamDataFit(f *testing.F) {
	f.Add(uint64(0), uint64(0), 64, 67)
	f.Add(uint64(4), uint64(1000), 16384, 16388)
	f.Add(uint64(1<<30), uint64(1<<62-1), 0, 9)
	f.Add(uint64(63), uint64(64), 1<<30, 1<<30+12)
	f.Add(uint64(0), uint64(0), -1, 1)
	f.Fuzz(func(t *testing.T, id, off uint64, want, space int) {
		id &= MaxVarint
		off &= MaxVarint
		n, withLen := checkStreamDataFit(t, id, off, want, space)
		if n < 0 || space > 1<<16 {
			return
		}
		// Build the frame and parse it back.
		data := make([]byte, n)
		b := AppendStreamFrameHeader(make([]byte, 0, space), id, off, n, false, withLen)
		b = append(b, data...)
		if len(b) > space {
			t.Fatalf("frame of %d bytes > space %d", len(b), space)
		}
		if off+uint64(n) > MaxVarint {
			return // the caller's flow control never allows this
		}
		g, m, err := ParseStreamFrame(b)
		if err != nil || m != len(b) || len(g.Data) != n {
			t.Fatalf("parse = %+v, %d, %v", g, m, err)
		}
	})
}

// BenchmarkStreamFrameAppendParse sizes (StreamDataFit), encodes and parses
// a STREAM frame filling a 1200-byte packet payload: 0 allocs/op.
func BenchmarkStreamFrameAppendParse(b *testing.B) {
	data := byteSeq(1500)
	buf := make([]byte, 0, 1500)
	const space = 1200
	b.ReportAllocs()
	b.SetBytes(space)
	for b.Loop() {
		n, withLen := StreamDataFit(4, 1<<20, len(data), space)
		buf = AppendStreamFrameHeader(buf[:0], 4, 1<<20, n, false, withLen)
		buf = append(buf, data[:n]...)
		f, m, err := ParseStreamFrame(buf)
		if err != nil || m != space || len(f.Data) != n {
			b.Fatal(err)
		}
	}
}
