package wire

// HandshakeDoneFrame is a HANDSHAKE_DONE frame, RFC 9000 §19.20: a type byte
// and nothing else. Only a server sends it.
type HandshakeDoneFrame struct{}

// Len returns the encoded length of a HANDSHAKE_DONE frame: 1.
func (*HandshakeDoneFrame) Len() int { return 1 }

// Append appends a HANDSHAKE_DONE frame.
func (*HandshakeDoneFrame) Append(b []byte) []byte {
	return append(b, byte(FrameTypeHandshakeDone))
}

// ParseHandshakeDoneFrame parses a HANDSHAKE_DONE frame at the start of b.
func ParseHandshakeDoneFrame(b []byte) (HandshakeDoneFrame, int, error) {
	if err := checkFrameType(b, FrameTypeHandshakeDone, "not a HANDSHAKE_DONE frame"); err != nil {
		return HandshakeDoneFrame{}, 0, err
	}
	return HandshakeDoneFrame{}, 1, nil
}
