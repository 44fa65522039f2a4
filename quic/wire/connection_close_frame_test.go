package wire

import "testing"

func TestConnectionCloseFrameRoundTrip(t *testing.T) {
	for _, code := range edgeValues {
		for _, ft := range edgeValues {
			for _, rl := range []int{0, 1, 64} {
				checkFrame(t, ConnectionCloseFrame{Code: code, FrameType: ft, Reason: byteSeq(rl)}, ParseConnectionCloseFrame)
			}
		}
		for _, rl := range []int{0, 63, 64, 16384} {
			checkFrame(t, ConnectionCloseFrame{App: true, Code: code, Reason: byteSeq(rl)}, ParseConnectionCloseFrame)
		}
	}
	checkNoAllocs(t, ConnectionCloseFrame{Code: 7, FrameType: 8, Reason: []byte("bad")}, ParseConnectionCloseFrame)
}

func TestConnectionCloseFrameGolden(t *testing.T) {
	checkGolden(t, ConnectionCloseFrame{Code: uint64(ProtocolViolation), FrameType: 0x08, Reason: []byte("bad")},
		"1c 0a 08 03 626164", ParseConnectionCloseFrame)
	checkGolden(t, ConnectionCloseFrame{App: true, Code: 0x100}, "1d 4100 00", ParseConnectionCloseFrame)
	checkGolden(t, ConnectionCloseFrame{}, "1c 00 00 00", ParseConnectionCloseFrame)
	// The application variant has no Frame Type field: one set is not written.
	f := ConnectionCloseFrame{App: true, Code: 1, FrameType: 0x1e}
	if got := f.Append(nil); string(got) != "\x1d\x01\x00" || f.Len() != 3 {
		t.Errorf("application close with FrameType set: %x (Len %d)", got, f.Len())
	}
}

func TestConnectionCloseFrameErrors(t *testing.T) {
	for _, tc := range []struct {
		name, hex string
		ft        FrameType
	}{
		{"empty", "", FrameTypeConnectionClose},
		{"not CONNECTION_CLOSE", "1e", FrameTypeConnectionClose},
		{"reason past the packet", "1c 00 00 04 616263", FrameTypeConnectionClose},
		{"app reason past the packet", "1d 00 02 61", FrameTypeConnectionCloseApp},
		{"huge reason length", "1d 00 bfffffff", FrameTypeConnectionCloseApp},
		{"missing frame type", "1c 00", FrameTypeConnectionClose},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, n, err := ParseConnectionCloseFrame(mustHex(t, tc.hex))
			if err == nil {
				t.Fatalf("parsed %+v, %d", f, n)
			}
			checkFrameError(t, err, FrameEncodingError, tc.ft, true)
		})
	}
}
