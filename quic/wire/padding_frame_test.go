package wire

import (
	"bytes"
	"testing"
)

func TestPadding(t *testing.T) {
	for _, tc := range []struct {
		hex string
		n   int
	}{
		{"", 0},
		{"01", 0},
		{"00", 1},
		{"0000 00", 3},
		{"0000 01 00", 2},
		{"00 06", 1},
	} {
		if n := ParsePadding(mustHex(t, tc.hex)); n != tc.n {
			t.Errorf("ParsePadding(%s) = %d, want %d", tc.hex, n, tc.n)
		}
		f, n, err := ParsePaddingFrame(mustHex(t, tc.hex))
		if tc.n == 0 {
			if err == nil {
				t.Errorf("ParsePaddingFrame(%s) parsed %+v", tc.hex, f)
			} else {
				checkFrameError(t, err, FrameEncodingError, FrameTypePadding, true)
			}
		} else if err != nil || n != tc.n || f.N != tc.n {
			t.Errorf("ParsePaddingFrame(%s) = %+v, %d, %v", tc.hex, f, n, err)
		}
	}
	for _, n := range []int{-1, 0, 1, 1200} {
		f := PaddingFrame{N: n}
		b := f.Append([]byte{7})
		want := max(n, 0)
		if len(b) != 1+want || f.Len() != want || !bytes.Equal(b[1:], make([]byte, want)) || ParsePadding(b[1:]) != want {
			t.Errorf("PaddingFrame{%d}: Append = %d bytes, Len %d", n, len(b)-1, f.Len())
		}
	}
	// Appending padding into room that held other bytes still writes zeros.
	buf := bytes.Repeat([]byte{0xff}, 64)[:1]
	buf = AppendPadding(buf, 40)
	if ParsePadding(buf[1:]) != 40 {
		t.Errorf("AppendPadding over old bytes: %x", buf)
	}
	checkNoAllocs(t, PaddingFrame{N: 100}, ParsePaddingFrame)
}

func TestPingAndHandshakeDone(t *testing.T) {
	checkFrame(t, PingFrame{}, ParsePingFrame)
	checkGolden(t, PingFrame{}, "01", ParsePingFrame)
	checkFrame(t, HandshakeDoneFrame{}, ParseHandshakeDoneFrame)
	checkGolden(t, HandshakeDoneFrame{}, "1e", ParseHandshakeDoneFrame)
	for _, in := range []string{"", "00", "1e"} {
		_, _, err := ParsePingFrame(mustHex(t, in))
		checkFrameError(t, err, FrameEncodingError, FrameTypePing, true)
	}
	for _, in := range []string{"", "01"} {
		_, _, err := ParseHandshakeDoneFrame(mustHex(t, in))
		checkFrameError(t, err, FrameEncodingError, FrameTypeHandshakeDone, true)
	}
	checkNoAllocs(t, PingFrame{}, ParsePingFrame)
	checkNoAllocs(t, HandshakeDoneFrame{}, ParseHandshakeDoneFrame)
}
