package wire

import "testing"

func TestNewTokenFrameRoundTrip(t *testing.T) {
	for _, l := range []int{1, 2, 63, 64, 16383, 16384} {
		checkFrame(t, NewTokenFrame{Token: byteSeq(l)}, ParseNewTokenFrame)
	}
	checkGolden(t, NewTokenFrame{Token: []byte("abc")}, "07 03 616263", ParseNewTokenFrame)
	checkNoAllocs(t, NewTokenFrame{Token: byteSeq(60)}, ParseNewTokenFrame)
}

func TestNewTokenFrameErrors(t *testing.T) {
	for _, tc := range []struct{ name, hex string }{
		{"empty input", ""},
		{"not NEW_TOKEN", "06 01 00"},
		// RFC 9000 §19.7: an empty token is a FRAME_ENCODING_ERROR.
		{"empty token", "07 00"},
		{"empty token (2-byte length)", "07 4000 61"},
		{"token past the packet", "07 05 6162"},
		{"truncated length", "07 40"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, n, err := ParseNewTokenFrame(mustHex(t, tc.hex))
			if err == nil {
				t.Fatalf("parsed %+v, %d", f, n)
			}
			checkFrameError(t, err, FrameEncodingError, FrameTypeNewToken, true)
		})
	}
}
