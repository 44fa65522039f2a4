package wire

import "testing"

func TestPathFrames(t *testing.T) {
	for _, d := range [][8]byte{{}, {1, 2, 3, 4, 5, 6, 7, 8}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}} {
		checkFrame(t, PathChallengeFrame{Data: d}, ParsePathChallengeFrame)
		checkFrame(t, PathResponseFrame{Data: d}, ParsePathResponseFrame)
	}
	checkGolden(t, PathChallengeFrame{Data: [8]byte{0, 1, 2, 3, 4, 5, 6, 7}}, "1a 0001020304050607", ParsePathChallengeFrame)
	checkGolden(t, PathResponseFrame{Data: [8]byte{0, 1, 2, 3, 4, 5, 6, 7}}, "1b 0001020304050607", ParsePathResponseFrame)
	for _, in := range []string{"", "1b 0001020304050607", "1a 00010203040506"} {
		_, _, err := ParsePathChallengeFrame(mustHex(t, in))
		checkFrameError(t, err, FrameEncodingError, FrameTypePathChallenge, true)
	}
	for _, in := range []string{"", "1a 0001020304050607", "1b"} {
		_, _, err := ParsePathResponseFrame(mustHex(t, in))
		checkFrameError(t, err, FrameEncodingError, FrameTypePathResponse, true)
	}
	checkNoAllocs(t, PathChallengeFrame{Data: [8]byte{9}}, ParsePathChallengeFrame)
	checkNoAllocs(t, PathResponseFrame{Data: [8]byte{9}}, ParsePathResponseFrame)
}
