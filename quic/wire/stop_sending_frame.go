package wire

// StopSendingFrame is a STOP_SENDING frame, RFC 9000 §19.5: the receiver
// asks the peer to stop sending on a stream.
type StopSendingFrame struct {
	StreamID uint64
	Code     uint64 // application protocol error code
}

// Len returns the encoded length of f.
func (f *StopSendingFrame) Len() int {
	return 1 + VarintLen(f.StreamID) + VarintLen(f.Code)
}

// Append appends f.
func (f *StopSendingFrame) Append(b []byte) []byte {
	b = append(b, byte(FrameTypeStopSending))
	b = AppendVarint(b, f.StreamID)
	return AppendVarint(b, f.Code)
}

// ParseStopSendingFrame parses a STOP_SENDING frame at the start of b.
func ParseStopSendingFrame(b []byte) (StopSendingFrame, int, error) {
	var f StopSendingFrame
	const t = FrameTypeStopSending
	if err := checkFrameType(b, t, "not a STOP_SENDING frame"); err != nil {
		return f, 0, err
	}
	n := 1
	var err error
	if f.StreamID, err = readVarintField(b, &n, t, "truncated stream ID"); err != nil {
		return StopSendingFrame{}, 0, err
	}
	if f.Code, err = readVarintField(b, &n, t, "truncated error code"); err != nil {
		return StopSendingFrame{}, 0, err
	}
	return f, n, nil
}
