package wire

// StreamsBlockedFrame is a STREAMS_BLOCKED frame, RFC 9000 §19.14: the
// sender cannot open a stream of one type because of the peer's limit.
type StreamsBlockedFrame struct {
	Bidi  bool   // type 0x16 (bidirectional) rather than 0x17 (unidirectional)
	Limit uint64 // Maximum Streams at the time; at most MaxStreamCount
}

func (f *StreamsBlockedFrame) frameType() FrameType {
	if f.Bidi {
		return FrameTypeStreamsBlockedBidi
	}
	return FrameTypeStreamsBlockedUni
}

// Len returns the encoded length of f.
func (f *StreamsBlockedFrame) Len() int { return 1 + VarintLen(f.Limit) }

// Append appends f.
func (f *StreamsBlockedFrame) Append(b []byte) []byte {
	return AppendVarint(append(b, byte(f.frameType())), f.Limit)
}

// ParseStreamsBlockedFrame parses a STREAMS_BLOCKED frame (either type) at
// the start of b. A count above 2^60 is a FRAME_ENCODING_ERROR (RFC 9000
// §19.14 allows it or STREAM_LIMIT_ERROR).
func ParseStreamsBlockedFrame(b []byte) (StreamsBlockedFrame, int, error) {
	if len(b) == 0 || (b[0] != byte(FrameTypeStreamsBlockedBidi) && b[0] != byte(FrameTypeStreamsBlockedUni)) {
		return StreamsBlockedFrame{}, 0, frameError(FrameEncodingError, FrameTypeStreamsBlockedBidi, "not a STREAMS_BLOCKED frame")
	}
	t := FrameType(b[0])
	n := 1
	v, err := readVarintField(b, &n, t, "truncated maximum streams")
	if err != nil {
		return StreamsBlockedFrame{}, 0, err
	}
	if v > MaxStreamCount {
		return StreamsBlockedFrame{}, 0, frameError(FrameEncodingError, t, "maximum streams above 2^60")
	}
	return StreamsBlockedFrame{Bidi: t == FrameTypeStreamsBlockedBidi, Limit: v}, n, nil
}
