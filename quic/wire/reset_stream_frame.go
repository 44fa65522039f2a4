package wire

// ResetStreamFrame is a RESET_STREAM frame, RFC 9000 §19.4: the sender
// abandons the sending part of a stream.
type ResetStreamFrame struct {
	StreamID  uint64
	Code      uint64 // application protocol error code
	FinalSize uint64
}

// Len returns the encoded length of f.
func (f *ResetStreamFrame) Len() int {
	return 1 + VarintLen(f.StreamID) + VarintLen(f.Code) + VarintLen(f.FinalSize)
}

// Append appends f.
func (f *ResetStreamFrame) Append(b []byte) []byte {
	b = append(b, byte(FrameTypeResetStream))
	b = AppendVarint(b, f.StreamID)
	b = AppendVarint(b, f.Code)
	return AppendVarint(b, f.FinalSize)
}

// ParseResetStreamFrame parses a RESET_STREAM frame at the start of b.
func ParseResetStreamFrame(b []byte) (ResetStreamFrame, int, error) {
	var f ResetStreamFrame
	const t = FrameTypeResetStream
	if err := checkFrameType(b, t, "not a RESET_STREAM frame"); err != nil {
		return f, 0, err
	}
	n := 1
	var err error
	if f.StreamID, err = readVarintField(b, &n, t, "truncated stream ID"); err != nil {
		return ResetStreamFrame{}, 0, err
	}
	if f.Code, err = readVarintField(b, &n, t, "truncated error code"); err != nil {
		return ResetStreamFrame{}, 0, err
	}
	if f.FinalSize, err = readVarintField(b, &n, t, "truncated final size"); err != nil {
		return ResetStreamFrame{}, 0, err
	}
	return f, n, nil
}
