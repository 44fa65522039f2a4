package wire

import "testing"

func TestMaxDataFrameRoundTrip(t *testing.T) {
	for _, v := range edgeValues {
		checkFrame(t, MaxDataFrame{Max: v}, ParseMaxDataFrame)
	}
}

func TestMaxStreamDataFrameRoundTrip(t *testing.T) {
	for _, id := range edgeValues {
		for _, v := range edgeValues {
			checkFrame(t, MaxStreamDataFrame{StreamID: id, Max: v}, ParseMaxStreamDataFrame)
		}
	}
}

func TestMaxDataFramesGolden(t *testing.T) {
	// Values from the RFC 9000 Appendix A.1 varint examples.
	checkGolden(t, MaxDataFrame{Max: 494878333}, "10 9d7f3e7d", ParseMaxDataFrame)
	checkGolden(t, MaxStreamDataFrame{StreamID: 15293, Max: 37}, "11 7bbd 25", ParseMaxStreamDataFrame)
}

func TestMaxDataFramesErrors(t *testing.T) {
	for _, in := range []string{"", "11 00 00", "14 00"} {
		_, _, err := ParseMaxDataFrame(mustHex(t, in))
		checkFrameError(t, err, FrameEncodingError, FrameTypeMaxData, true)
	}
	for _, in := range []string{"", "10 00", "15 00 00"} {
		_, _, err := ParseMaxStreamDataFrame(mustHex(t, in))
		checkFrameError(t, err, FrameEncodingError, FrameTypeMaxStreamData, true)
	}
	// A non-minimal varint inside a frame is fine (RFC 9000 §16).
	f, n, err := ParseMaxDataFrame(mustHex(t, "10 4025"))
	if err != nil || n != 3 || f.Max != 37 {
		t.Errorf("MAX_DATA with a 2-byte 37: %+v, %d, %v", f, n, err)
	}
	checkNoAllocs(t, MaxDataFrame{Max: 1 << 40}, ParseMaxDataFrame)
	checkNoAllocs(t, MaxStreamDataFrame{StreamID: 4, Max: 1 << 20}, ParseMaxStreamDataFrame)
}
