package wire

// MaxDataFrame is a MAX_DATA frame, RFC 9000 §19.9: connection-level flow
// control credit.
type MaxDataFrame struct {
	Max uint64 // Maximum Data, in bytes
}

// Len returns the encoded length of f.
func (f *MaxDataFrame) Len() int { return 1 + VarintLen(f.Max) }

// Append appends f.
func (f *MaxDataFrame) Append(b []byte) []byte {
	return AppendVarint(append(b, byte(FrameTypeMaxData)), f.Max)
}

// ParseMaxDataFrame parses a MAX_DATA frame at the start of b.
func ParseMaxDataFrame(b []byte) (MaxDataFrame, int, error) {
	const t = FrameTypeMaxData
	if err := checkFrameType(b, t, "not a MAX_DATA frame"); err != nil {
		return MaxDataFrame{}, 0, err
	}
	n := 1
	v, err := readVarintField(b, &n, t, "truncated maximum data")
	if err != nil {
		return MaxDataFrame{}, 0, err
	}
	return MaxDataFrame{Max: v}, n, nil
}

// MaxStreamDataFrame is a MAX_STREAM_DATA frame, RFC 9000 §19.10:
// stream-level flow control credit.
type MaxStreamDataFrame struct {
	StreamID uint64
	Max      uint64 // Maximum Stream Data, in bytes
}

// Len returns the encoded length of f.
func (f *MaxStreamDataFrame) Len() int {
	return 1 + VarintLen(f.StreamID) + VarintLen(f.Max)
}

// Append appends f.
func (f *MaxStreamDataFrame) Append(b []byte) []byte {
	b = append(b, byte(FrameTypeMaxStreamData))
	b = AppendVarint(b, f.StreamID)
	return AppendVarint(b, f.Max)
}

// ParseMaxStreamDataFrame parses a MAX_STREAM_DATA frame at the start of b.
func ParseMaxStreamDataFrame(b []byte) (MaxStreamDataFrame, int, error) {
	var f MaxStreamDataFrame
	const t = FrameTypeMaxStreamData
	if err := checkFrameType(b, t, "not a MAX_STREAM_DATA frame"); err != nil {
		return f, 0, err
	}
	n := 1
	var err error
	if f.StreamID, err = readVarintField(b, &n, t, "truncated stream ID"); err != nil {
		return MaxStreamDataFrame{}, 0, err
	}
	if f.Max, err = readVarintField(b, &n, t, "truncated maximum stream data"); err != nil {
		return MaxStreamDataFrame{}, 0, err
	}
	return f, n, nil
}
