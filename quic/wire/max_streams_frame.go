package wire

// MaxStreamCount is the largest stream count a MAX_STREAMS or STREAMS_BLOCKED
// frame may carry: 2^60, as larger counts would need stream IDs above 2^62-1
// (RFC 9000 §19.11, §19.14).
const MaxStreamCount = 1 << 60

// MaxStreamsFrame is a MAX_STREAMS frame, RFC 9000 §19.11: the cumulative
// number of streams of one type the peer may open.
type MaxStreamsFrame struct {
	Bidi bool   // type 0x12 (bidirectional) rather than 0x13 (unidirectional)
	Max  uint64 // Maximum Streams; at most MaxStreamCount
}

func (f *MaxStreamsFrame) frameType() FrameType {
	if f.Bidi {
		return FrameTypeMaxStreamsBidi
	}
	return FrameTypeMaxStreamsUni
}

// Len returns the encoded length of f.
func (f *MaxStreamsFrame) Len() int { return 1 + VarintLen(f.Max) }

// Append appends f.
func (f *MaxStreamsFrame) Append(b []byte) []byte {
	return AppendVarint(append(b, byte(f.frameType())), f.Max)
}

// ParseMaxStreamsFrame parses a MAX_STREAMS frame (either type) at the start
// of b. A count above 2^60 is a FRAME_ENCODING_ERROR (RFC 9000 §19.11).
func ParseMaxStreamsFrame(b []byte) (MaxStreamsFrame, int, error) {
	if len(b) == 0 || (b[0] != byte(FrameTypeMaxStreamsBidi) && b[0] != byte(FrameTypeMaxStreamsUni)) {
		return MaxStreamsFrame{}, 0, frameError(FrameEncodingError, FrameTypeMaxStreamsBidi, "not a MAX_STREAMS frame")
	}
	t := FrameType(b[0])
	n := 1
	v, err := readVarintField(b, &n, t, "truncated maximum streams")
	if err != nil {
		return MaxStreamsFrame{}, 0, err
	}
	if v > MaxStreamCount {
		return MaxStreamsFrame{}, 0, frameError(FrameEncodingError, t, "maximum streams above 2^60")
	}
	return MaxStreamsFrame{Bidi: t == FrameTypeMaxStreamsBidi, Max: v}, n, nil
}
