package wire

import "testing"

func TestStopSendingFrameRoundTrip(t *testing.T) {
	for _, id := range edgeValues {
		for _, code := range edgeValues {
			checkFrame(t, StopSendingFrame{StreamID: id, Code: code}, ParseStopSendingFrame)
		}
	}
}

func TestStopSendingFrameGolden(t *testing.T) {
	checkGolden(t, StopSendingFrame{StreamID: 3, Code: 0}, "05 03 00", ParseStopSendingFrame)
	checkGolden(t, StopSendingFrame{StreamID: 64, Code: MaxVarint}, "05 4040 ffffffffffffffff", ParseStopSendingFrame)
}

func TestStopSendingFrameErrors(t *testing.T) {
	for _, in := range []string{"", "04 00 00", "01"} {
		_, _, err := ParseStopSendingFrame(mustHex(t, in))
		checkFrameError(t, err, FrameEncodingError, FrameTypeStopSending, true)
	}
	checkNoAllocs(t, StopSendingFrame{StreamID: 8, Code: 0x100}, ParseStopSendingFrame)
}
