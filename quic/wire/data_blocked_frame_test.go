package wire

import "testing"

func TestDataBlockedFrameRoundTrip(t *testing.T) {
	for _, v := range edgeValues {
		checkFrame(t, DataBlockedFrame{Limit: v}, ParseDataBlockedFrame)
	}
}

func TestStreamDataBlockedFrameRoundTrip(t *testing.T) {
	for _, id := range edgeValues {
		for _, v := range edgeValues {
			checkFrame(t, StreamDataBlockedFrame{StreamID: id, Limit: v}, ParseStreamDataBlockedFrame)
		}
	}
}

func TestDataBlockedFramesGolden(t *testing.T) {
	checkGolden(t, DataBlockedFrame{Limit: 151288809941952652}, "14 c2197c5eff14e88c", ParseDataBlockedFrame)
	checkGolden(t, StreamDataBlockedFrame{StreamID: 0, Limit: 63}, "15 00 3f", ParseStreamDataBlockedFrame)
}

func TestDataBlockedFramesErrors(t *testing.T) {
	for _, in := range []string{"", "15 00 00", "10 00"} {
		_, _, err := ParseDataBlockedFrame(mustHex(t, in))
		checkFrameError(t, err, FrameEncodingError, FrameTypeDataBlocked, true)
	}
	for _, in := range []string{"", "14 00", "11 00 00"} {
		_, _, err := ParseStreamDataBlockedFrame(mustHex(t, in))
		checkFrameError(t, err, FrameEncodingError, FrameTypeStreamDataBlocked, true)
	}
	checkNoAllocs(t, DataBlockedFrame{Limit: 1 << 40}, ParseDataBlockedFrame)
	checkNoAllocs(t, StreamDataBlockedFrame{StreamID: 4, Limit: 1 << 20}, ParseStreamDataBlockedFrame)
}
