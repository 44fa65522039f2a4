package wire

// DataBlockedFrame is a DATA_BLOCKED frame, RFC 9000 §19.12: the sender is
// blocked by connection-level flow control.
type DataBlockedFrame struct {
	Limit uint64 // Maximum Data: the limit at which blocking occurred
}

// Len returns the encoded length of f.
func (f *DataBlockedFrame) Len() int { return 1 + VarintLen(f.Limit) }

// Append appends f.
func (f *DataBlockedFrame) Append(b []byte) []byte {
	return AppendVarint(append(b, byte(FrameTypeDataBlocked)), f.Limit)
}

// ParseDataBlockedFrame parses a DATA_BLOCKED frame at the start of b.
func ParseDataBlockedFrame(b []byte) (DataBlockedFrame, int, error) {
	const t = FrameTypeDataBlocked
	if err := checkFrameType(b, t, "not a DATA_BLOCKED frame"); err != nil {
		return DataBlockedFrame{}, 0, err
	}
	n := 1
	v, err := readVarintField(b, &n, t, "truncated maximum data")
	if err != nil {
		return DataBlockedFrame{}, 0, err
	}
	return DataBlockedFrame{Limit: v}, n, nil
}

// StreamDataBlockedFrame is a STREAM_DATA_BLOCKED frame, RFC 9000 §19.13:
// the sender is blocked by stream-level flow control.
type StreamDataBlockedFrame struct {
	StreamID uint64
	Limit    uint64 // Maximum Stream Data: the offset at which blocking occurred
}

// Len returns the encoded length of f.
func (f *StreamDataBlockedFrame) Len() int {
	return 1 + VarintLen(f.StreamID) + VarintLen(f.Limit)
}

// Append appends f.
func (f *StreamDataBlockedFrame) Append(b []byte) []byte {
	b = append(b, byte(FrameTypeStreamDataBlocked))
	b = AppendVarint(b, f.StreamID)
	return AppendVarint(b, f.Limit)
}

// ParseStreamDataBlockedFrame parses a STREAM_DATA_BLOCKED frame at the
// start of b.
func ParseStreamDataBlockedFrame(b []byte) (StreamDataBlockedFrame, int, error) {
	var f StreamDataBlockedFrame
	const t = FrameTypeStreamDataBlocked
	if err := checkFrameType(b, t, "not a STREAM_DATA_BLOCKED frame"); err != nil {
		return f, 0, err
	}
	n := 1
	var err error
	if f.StreamID, err = readVarintField(b, &n, t, "truncated stream ID"); err != nil {
		return StreamDataBlockedFrame{}, 0, err
	}
	if f.Limit, err = readVarintField(b, &n, t, "truncated maximum stream data"); err != nil {
		return StreamDataBlockedFrame{}, 0, err
	}
	return f, n, nil
}
