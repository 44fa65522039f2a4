package wire

// PingFrame is a PING frame, RFC 9000 §19.2: a type byte and nothing else.
type PingFrame struct{}

// Len returns the encoded length of a PING frame: 1.
func (*PingFrame) Len() int { return 1 }

// Append appends a PING frame.
func (*PingFrame) Append(b []byte) []byte { return append(b, byte(FrameTypePing)) }

// ParsePingFrame parses a PING frame at the start of b.
func ParsePingFrame(b []byte) (PingFrame, int, error) {
	if err := checkFrameType(b, FrameTypePing, "not a PING frame"); err != nil {
		return PingFrame{}, 0, err
	}
	return PingFrame{}, 1, nil
}
