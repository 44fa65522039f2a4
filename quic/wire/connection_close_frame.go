package wire

// ConnectionCloseFrame is a CONNECTION_CLOSE frame, RFC 9000 §19.19: type
// 0x1c for a transport error (with the type of the frame that caused it) or,
// with App set, type 0x1d for an application error.
type ConnectionCloseFrame struct {
	App       bool   // type 0x1d: an application error; FrameType is absent
	Code      uint64 // an ErrorCode for 0x1c, an application code for 0x1d
	FrameType uint64 // transport only: the frame that caused the error, 0 if unknown
	Reason    []byte // reason phrase, ideally UTF-8; aliases the parsed packet
}

func (f *ConnectionCloseFrame) frameType() FrameType {
	if f.App {
		return FrameTypeConnectionCloseApp
	}
	return FrameTypeConnectionClose
}

// Len returns the encoded length of f.
func (f *ConnectionCloseFrame) Len() int {
	n := 1 + VarintLen(f.Code) + VarintLen(uint64(len(f.Reason))) + len(f.Reason)
	if !f.App {
		n += VarintLen(f.FrameType)
	}
	return n
}

// Append appends f. FrameType is written only for a transport close.
func (f *ConnectionCloseFrame) Append(b []byte) []byte {
	b = append(b, byte(f.frameType()))
	b = AppendVarint(b, f.Code)
	if !f.App {
		b = AppendVarint(b, f.FrameType)
	}
	b = AppendVarint(b, uint64(len(f.Reason)))
	return append(b, f.Reason...)
}

// ParseConnectionCloseFrame parses a CONNECTION_CLOSE frame (either type) at
// the start of b.
func ParseConnectionCloseFrame(b []byte) (ConnectionCloseFrame, int, error) {
	var f ConnectionCloseFrame
	if len(b) == 0 || (b[0] != byte(FrameTypeConnectionClose) && b[0] != byte(FrameTypeConnectionCloseApp)) {
		return f, 0, frameError(FrameEncodingError, FrameTypeConnectionClose, "not a CONNECTION_CLOSE frame")
	}
	t := FrameType(b[0])
	f.App = t == FrameTypeConnectionCloseApp
	n := 1
	var err error
	if f.Code, err = readVarintField(b, &n, t, "truncated error code"); err != nil {
		return ConnectionCloseFrame{}, 0, err
	}
	if !f.App {
		if f.FrameType, err = readVarintField(b, &n, t, "truncated frame type"); err != nil {
			return ConnectionCloseFrame{}, 0, err
		}
	}
	l, err := readVarintField(b, &n, t, "truncated reason phrase length")
	if err != nil {
		return ConnectionCloseFrame{}, 0, err
	}
	if f.Reason, err = readBytesField(b, &n, l, t, "reason phrase runs past the packet"); err != nil {
		return ConnectionCloseFrame{}, 0, err
	}
	return f, n, nil
}
