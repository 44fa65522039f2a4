package wire

import "testing"

func TestResetStreamFrameRoundTrip(t *testing.T) {
	for _, id := range edgeValues {
		for _, code := range edgeValues {
			for _, size := range edgeValues {
				checkFrame(t, ResetStreamFrame{StreamID: id, Code: code, FinalSize: size}, ParseResetStreamFrame)
			}
		}
	}
}

func TestResetStreamFrameGolden(t *testing.T) {
	checkGolden(t, ResetStreamFrame{StreamID: 4, Code: 0x1234, FinalSize: 16384}, "04 04 5234 80004000", ParseResetStreamFrame)
	checkGolden(t, ResetStreamFrame{}, "04 00 00 00", ParseResetStreamFrame)
}

func TestResetStreamFrameErrors(t *testing.T) {
	for _, in := range []string{"", "05 00 00 00", "0f"} {
		_, _, err := ParseResetStreamFrame(mustHex(t, in))
		checkFrameError(t, err, FrameEncodingError, FrameTypeResetStream, true)
	}
	checkNoAllocs(t, ResetStreamFrame{StreamID: 1 << 40, Code: 7, FinalSize: 1 << 20}, ParseResetStreamFrame)
}
