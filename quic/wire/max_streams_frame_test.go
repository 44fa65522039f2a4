package wire

import "testing"

// streamCountValues are edge values for stream counts, which stop at 2^60.
var streamCountValues = []uint64{0, 1, 63, 64, 16383, 16384, 1<<30 - 1, 1 << 30, MaxStreamCount - 1, MaxStreamCount}

func TestMaxStreamsFrameRoundTrip(t *testing.T) {
	for _, bidi := range []bool{true, false} {
		for _, v := range streamCountValues {
			checkFrame(t, MaxStreamsFrame{Bidi: bidi, Max: v}, ParseMaxStreamsFrame)
		}
	}
}

func TestStreamsBlockedFrameRoundTrip(t *testing.T) {
	for _, bidi := range []bool{true, false} {
		for _, v := range streamCountValues {
			checkFrame(t, StreamsBlockedFrame{Bidi: bidi, Limit: v}, ParseStreamsBlockedFrame)
		}
	}
}

func TestStreamCountFramesGolden(t *testing.T) {
	checkGolden(t, MaxStreamsFrame{Bidi: true, Max: 100}, "12 4064", ParseMaxStreamsFrame)
	checkGolden(t, MaxStreamsFrame{Bidi: false, Max: 1 << 60}, "13 d000000000000000", ParseMaxStreamsFrame)
	checkGolden(t, StreamsBlockedFrame{Bidi: true, Limit: 64}, "16 4040", ParseStreamsBlockedFrame)
	checkGolden(t, StreamsBlockedFrame{Bidi: false, Limit: 0}, "17 00", ParseStreamsBlockedFrame)
}

func TestStreamCountFramesErrors(t *testing.T) {
	// RFC 9000 §19.11 and §19.14: counts above 2^60 are FRAME_ENCODING_ERROR.
	for _, tc := range []struct {
		in string
		ft FrameType
	}{
		{"12 d000000000000001", FrameTypeMaxStreamsBidi},
		{"13 ffffffffffffffff", FrameTypeMaxStreamsUni},
		{"", FrameTypeMaxStreamsBidi},
		{"16 00", FrameTypeMaxStreamsBidi},
		{"11 00", FrameTypeMaxStreamsBidi},
	} {
		_, _, err := ParseMaxStreamsFrame(mustHex(t, tc.in))
		checkFrameError(t, err, FrameEncodingError, tc.ft, true)
	}
	for _, tc := range []struct {
		in string
		ft FrameType
	}{
		{"16 d000000000000001", FrameTypeStreamsBlockedBidi},
		{"17 ffffffffffffffff", FrameTypeStreamsBlockedUni},
		{"", FrameTypeStreamsBlockedBidi},
		{"12 00", FrameTypeStreamsBlockedBidi},
		{"18", FrameTypeStreamsBlockedBidi},
	} {
		_, _, err := ParseStreamsBlockedFrame(mustHex(t, tc.in))
		checkFrameError(t, err, FrameEncodingError, tc.ft, true)
	}
	checkNoAllocs(t, MaxStreamsFrame{Bidi: true, Max: 1000}, ParseMaxStreamsFrame)
	checkNoAllocs(t, StreamsBlockedFrame{Limit: 1000}, ParseStreamsBlockedFrame)
}
