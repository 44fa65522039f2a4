package sched

import (
	"bytes"
	"testing"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

func TestSetLengthField(t *testing.T) {
	tests := []struct {
		id, off uint64
		n       int
		fin     bool
	}{
		{0, 0, 0, true},
		{4, 0, 10, false},
		{4, 1, 63, false},
		{4, 1 << 20, 64, true},
		{1 << 40, 1<<62 - 20000, 16383, false},
		{7, 99, 16384, true},
	}
	for _, tt := range tests {
		prefix := []byte{0xaa, 0xbb}
		b := wire.AppendStreamFrameHeader(append([]byte(nil), prefix...), tt.id, tt.off, tt.n, tt.fin, false)
		k := patternStart(tt.id, tt.off)
		data := pattern[k : k+tt.n]
		b = append(b, data...)
		b = setLengthField(b, len(prefix))
		if !bytes.Equal(b[:len(prefix)], prefix) {
			t.Fatalf("%+v: bytes before the frame changed", tt)
		}
		f, n, err := wire.ParseStreamFrame(b[len(prefix):])
		if err != nil {
			t.Fatalf("%+v: %v", tt, err)
		}
		if b[len(prefix)]&streamBitLen == 0 || n != len(b)-len(prefix) {
			t.Fatalf("%+v: Length field not set or wrong (frame %d of %d bytes)", tt, n, len(b)-len(prefix))
		}
		if f.StreamID != tt.id || f.Offset != tt.off || f.Fin != tt.fin || !bytes.Equal(f.Data, data) {
			t.Fatalf("%+v: parsed %d %d %v, %d bytes", tt, f.StreamID, f.Offset, f.Fin, len(f.Data))
		}
	}
}

func TestSetLengthFieldLeavesOthersAlone(t *testing.T) {
	tests := [][]byte{
		nil,
		{},
		{0x01},                   // PING
		{0x0a, 0x04, 0x01, 0xff}, // STREAM with Length already
		{0x08},                   // truncated stream ID
		{0x0c, 0x04},             // truncated offset
		{0x0c, 0x04, 0x40},       // truncated two-byte offset
	}
	for _, in := range tests {
		before := append([]byte(nil), in...)
		if out := setLengthField(in, 0); !bytes.Equal(out, before) {
			t.Errorf("% x became % x", before, out)
		}
	}
	if out := setLengthField([]byte{0x08, 0x00}, 5); len(out) != 2 {
		t.Error("start past the end changed b")
	}
	if out := setLengthField([]byte{0x08, 0x00}, -1); len(out) != 2 {
		t.Error("negative start changed b")
	}
}

// FuzzSetLengthField checks that any bytes are either left alone or turned
// into a STREAM frame with a Length field carrying the same fields.
func FuzzSetLengthField(f *testing.F) {
	f.Add([]byte{0x08, 0x00})
	f.Add([]byte{0x0d, 0x04, 0x44, 0x00, 'h', 'i'})
	f.Add([]byte{0x0c, 0xc0, 0, 0, 0, 0, 0, 0, 1, 0x80, 0, 0, 1, 1, 2, 3})
	f.Add(append([]byte{0x0c, 0x01, 0x01}, pattern[:200]...))
	f.Add([]byte{0x0a, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, in []byte) {
		orig := append([]byte(nil), in...)
		before, _, errBefore := wire.ParseStreamFrame(orig)
		out := setLengthField(in, 0)
		isCandidate := len(orig) > 0 && wire.IsStreamFrameType(uint64(orig[0])) && orig[0]&streamBitLen == 0
		if !isCandidate {
			if !bytes.Equal(out, orig) {
				t.Fatalf("changed a frame it should leave: % x -> % x", orig, out)
			}
			return
		}
		if errBefore != nil {
			return // our streams never build such frames; no panic is enough
		}
		after, n, err := wire.ParseStreamFrame(out)
		if err != nil {
			t.Fatalf("% x -> % x: %v", orig, out, err)
		}
		if n != len(out) || out[0]&streamBitLen == 0 {
			t.Fatalf("% x -> % x: frame of %d bytes", orig, out, n)
		}
		if after.StreamID != before.StreamID || after.Offset != before.Offset ||
			after.Fin != before.Fin || !bytes.Equal(after.Data, before.Data) {
			t.Fatalf("% x -> % x: fields changed", orig, out)
		}
	})
}
