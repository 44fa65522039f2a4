package wire

import (
	"strings"
	"testing"
)

func TestNewConnectionIDFrameRoundTrip(t *testing.T) {
	var tok [16]byte
	copy(tok[:], byteSeq(16))
	for _, seq := range edgeValues {
		for _, rpt := range edgeValues {
			if rpt > seq {
				continue
			}
			for _, l := range []int{1, 8, 20} {
				checkFrame(t, NewConnectionIDFrame{Seq: seq, RetirePriorTo: rpt, ConnID: byteSeq(l), ResetToken: tok},
					ParseNewConnectionIDFrame)
			}
		}
	}
	checkNoAllocs(t, NewConnectionIDFrame{Seq: 5, RetirePriorTo: 2, ConnID: byteSeq(8), ResetToken: tok}, ParseNewConnectionIDFrame)
}

func TestNewConnectionIDFrameGolden(t *testing.T) {
	var tok [16]byte
	copy(tok[:], byteSeq(16))
	checkGolden(t, NewConnectionIDFrame{Seq: 1, RetirePriorTo: 0, ConnID: []byte{1, 2, 3, 4}, ResetToken: tok},
		"18 01 00 04 01020304 000102030405060708090a0b0c0d0e0f", ParseNewConnectionIDFrame)
}

func TestNewConnectionIDFrameErrors(t *testing.T) {
	tok := strings.Repeat("ab", 16)
	for _, tc := range []struct{ name, hex string }{
		{"empty", ""},
		{"not NEW_CONNECTION_ID", "19 01"},
		// RFC 9000 §19.15: length outside 1..20, Retire Prior To > Sequence Number.
		{"zero-length connection ID", "18 01 00 00 " + tok},
		{"21-byte connection ID", "18 01 00 15 " + strings.Repeat("00", 21) + tok},
		{"255-byte connection ID", "18 01 00 ff " + strings.Repeat("00", 255) + tok},
		{"retire prior to > sequence", "18 01 02 01 aa " + tok},
		{"retire prior to > sequence (0)", "18 00 01 01 aa " + tok},
		{"short token", "18 01 00 01 aa " + tok[:30]},
		{"short connection ID", "18 01 00 08 aabb"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, n, err := ParseNewConnectionIDFrame(mustHex(t, tc.hex))
			if err == nil {
				t.Fatalf("parsed %+v, %d", f, n)
			}
			checkFrameError(t, err, FrameEncodingError, FrameTypeNewConnectionID, true)
		})
	}
}

func TestNewConnectionIDFrameAppendPanics(t *testing.T) {
	for _, l := range []int{0, 21} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Append with a %d-byte connection ID did not panic", l)
				}
			}()
			f := NewConnectionIDFrame{Seq: 1, ConnID: make([]byte, l)}
			f.Append(nil)
		}()
	}
}

func TestRetireConnectionIDFrame(t *testing.T) {
	for _, v := range edgeValues {
		checkFrame(t, RetireConnectionIDFrame{Seq: v}, ParseRetireConnectionIDFrame)
	}
	checkGolden(t, RetireConnectionIDFrame{Seq: 2}, "19 02", ParseRetireConnectionIDFrame)
	for _, in := range []string{"", "18 02", "19", "19 80"} {
		_, _, err := ParseRetireConnectionIDFrame(mustHex(t, in))
		checkFrameError(t, err, FrameEncodingError, FrameTypeRetireConnectionID, true)
	}
	checkNoAllocs(t, RetireConnectionIDFrame{Seq: 9}, ParseRetireConnectionIDFrame)
}
