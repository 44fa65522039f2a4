package wire

// NewTokenFrame is a NEW_TOKEN frame, RFC 9000 §19.7: a server gives the
// client an address validation token for a future connection.
type NewTokenFrame struct {
	Token []byte // aliases the parsed packet; never empty on the wire
}

// Len returns the encoded length of f.
func (f *NewTokenFrame) Len() int {
	return 1 + VarintLen(uint64(len(f.Token))) + len(f.Token)
}

// Append appends f. The token must not be empty (RFC 9000 §19.7).
func (f *NewTokenFrame) Append(b []byte) []byte {
	b = append(b, byte(FrameTypeNewToken))
	b = AppendVarint(b, uint64(len(f.Token)))
	return append(b, f.Token...)
}

// ParseNewTokenFrame parses a NEW_TOKEN frame at the start of b. An empty
// token is a FRAME_ENCODING_ERROR (RFC 9000 §19.7).
func ParseNewTokenFrame(b []byte) (NewTokenFrame, int, error) {
	const t = FrameTypeNewToken
	if err := checkFrameType(b, t, "not a NEW_TOKEN frame"); err != nil {
		return NewTokenFrame{}, 0, err
	}
	n := 1
	l, err := readVarintField(b, &n, t, "truncated token length")
	if err != nil {
		return NewTokenFrame{}, 0, err
	}
	if l == 0 {
		return NewTokenFrame{}, 0, frameError(FrameEncodingError, t, "empty token")
	}
	tok, err := readBytesField(b, &n, l, t, "token runs past the packet")
	if err != nil {
		return NewTokenFrame{}, 0, err
	}
	return NewTokenFrame{Token: tok}, n, nil
}
