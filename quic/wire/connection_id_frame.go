package wire

// newConnIDMaxLen is the longest connection ID a NEW_CONNECTION_ID frame may
// carry: 20 bytes (RFC 9000 §19.15).
const newConnIDMaxLen = 20

// resetTokenLen is the length of a stateless reset token (RFC 9000 §10.3).
const resetTokenLen = 16

// NewConnectionIDFrame is a NEW_CONNECTION_ID frame, RFC 9000 §19.15: a new
// connection ID for the peer to use, with its stateless reset token.
type NewConnectionIDFrame struct {
	Seq           uint64 // Sequence Number
	RetirePriorTo uint64 // at most Seq
	ConnID        []byte // 1 to 20 bytes; aliases the parsed packet
	ResetToken    [resetTokenLen]byte
}

// Len returns the encoded length of f.
func (f *NewConnectionIDFrame) Len() int {
	return 1 + VarintLen(f.Seq) + VarintLen(f.RetirePriorTo) + 1 + len(f.ConnID) + resetTokenLen
}

// Append appends f. It panics if the connection ID is not 1 to 20 bytes
// long: such a frame cannot be encoded, and our own connection IDs never are.
func (f *NewConnectionIDFrame) Append(b []byte) []byte {
	if len(f.ConnID) < 1 || len(f.ConnID) > newConnIDMaxLen {
		panic("wire: NEW_CONNECTION_ID with a connection ID not 1 to 20 bytes long")
	}
	b = append(b, byte(FrameTypeNewConnectionID))
	b = AppendVarint(b, f.Seq)
	b = AppendVarint(b, f.RetirePriorTo)
	b = append(b, byte(len(f.ConnID)))
	b = append(b, f.ConnID...)
	return append(b, f.ResetToken[:]...)
}

// ParseNewConnectionIDFrame parses a NEW_CONNECTION_ID frame at the start of
// b. A connection ID length outside 1..20 and a Retire Prior To above the
// Sequence Number are FRAME_ENCODING_ERRORs (RFC 9000 §19.15).
func ParseNewConnectionIDFrame(b []byte) (NewConnectionIDFrame, int, error) {
	var f NewConnectionIDFrame
	const t = FrameTypeNewConnectionID
	if err := checkFrameType(b, t, "not a NEW_CONNECTION_ID frame"); err != nil {
		return f, 0, err
	}
	n := 1
	var err error
	if f.Seq, err = readVarintField(b, &n, t, "truncated sequence number"); err != nil {
		return NewConnectionIDFrame{}, 0, err
	}
	if f.RetirePriorTo, err = readVarintField(b, &n, t, "truncated retire prior to"); err != nil {
		return NewConnectionIDFrame{}, 0, err
	}
	if f.RetirePriorTo > f.Seq {
		return NewConnectionIDFrame{}, 0, frameError(FrameEncodingError, t, "retire prior to above sequence number")
	}
	if n >= len(b) {
		return NewConnectionIDFrame{}, 0, frameError(FrameEncodingError, t, "truncated connection ID length")
	}
	l := b[n]
	n++
	if l < 1 || l > newConnIDMaxLen {
		return NewConnectionIDFrame{}, 0, frameError(FrameEncodingError, t, "connection ID length not 1 to 20")
	}
	if f.ConnID, err = readBytesField(b, &n, uint64(l), t, "truncated connection ID"); err != nil {
		return NewConnectionIDFrame{}, 0, err
	}
	tok, err := readBytesField(b, &n, resetTokenLen, t, "truncated stateless reset token")
	if err != nil {
		return NewConnectionIDFrame{}, 0, err
	}
	copy(f.ResetToken[:], tok)
	return f, n, nil
}

// RetireConnectionIDFrame is a RETIRE_CONNECTION_ID frame, RFC 9000 §19.16:
// the sender will no longer use the peer's connection ID with this sequence
// number.
type RetireConnectionIDFrame struct {
	Seq uint64 // Sequence Number
}

// Len returns the encoded length of f.
func (f *RetireConnectionIDFrame) Len() int { return 1 + VarintLen(f.Seq) }

// Append appends f.
func (f *RetireConnectionIDFrame) Append(b []byte) []byte {
	return AppendVarint(append(b, byte(FrameTypeRetireConnectionID)), f.Seq)
}

// ParseRetireConnectionIDFrame parses a RETIRE_CONNECTION_ID frame at the
// start of b.
func ParseRetireConnectionIDFrame(b []byte) (RetireConnectionIDFrame, int, error) {
	const t = FrameTypeRetireConnectionID
	if err := checkFrameType(b, t, "not a RETIRE_CONNECTION_ID frame"); err != nil {
		return RetireConnectionIDFrame{}, 0, err
	}
	n := 1
	v, err := readVarintField(b, &n, t, "truncated sequence number")
	if err != nil {
		return RetireConnectionIDFrame{}, 0, err
	}
	return RetireConnectionIDFrame{Seq: v}, n, nil
}
