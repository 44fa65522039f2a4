package wire

// Frame-level rules shared by every frame: the Frame Type field, which
// packet types may carry which frames, and which frames elicit an ACK.

// ParseFrameType reads the Frame Type field at the start of b (RFC 9000
// §12.4). It returns the type and the length of its encoding; every parser
// ParseXxxFrame then reads b from the same position.
//
// Errors: a truncated field is a FRAME_ENCODING_ERROR; a type that does not
// use the shortest encoding is a PROTOCOL_VIOLATION (RFC 9000 §12.4 allows
// it to be treated so, and we do); a type this package does not know is a
// FRAME_ENCODING_ERROR (RFC 9000 §12.4).
func ParseFrameType(b []byte) (FrameType, int, error) {
	t, n, err := ParseVarint(b)
	if err != nil {
		return 0, 0, frameError(FrameEncodingError, 0, "truncated frame type")
	}
	if n != VarintLen(t) {
		return 0, 0, frameError(ProtocolViolation, t, "frame type not in its shortest encoding")
	}
	if !isKnownFrameType(t) {
		return 0, 0, frameError(FrameEncodingError, t, "unknown frame type")
	}
	return t, n, nil
}

func isKnownFrameType(t FrameType) bool {
	return t <= FrameTypeHandshakeDone || t == FrameTypeDatagram || t == FrameTypeDatagramLen
}

// Packet types as bits, for frameAllowed.
const (
	inInitial   = 1 << iota // I
	inHandshake             // H
	in0RTT                  // 0
	in1RTT                  // 1
)

// frameAllowed is the "Pkts" column of RFC 9000 Table 3 (§12.4), indexed by
// frame type 0x00..0x1e.
var frameAllowed = [FrameTypeHandshakeDone + 1]uint8{
	FrameTypePadding:            inInitial | inHandshake | in0RTT | in1RTT, // IH01
	FrameTypePing:               inInitial | inHandshake | in0RTT | in1RTT, // IH01
	FrameTypeAck:                inInitial | inHandshake | in1RTT,          // IH_1
	FrameTypeAckECN:             inInitial | inHandshake | in1RTT,          // IH_1
	FrameTypeResetStream:        in0RTT | in1RTT,                           // __01
	FrameTypeStopSending:        in0RTT | in1RTT,                           // __01
	FrameTypeCrypto:             inInitial | inHandshake | in1RTT,          // IH_1
	FrameTypeNewToken:           in1RTT,                                    // ___1
	0x08:                        in0RTT | in1RTT,                           // STREAM, __01
	0x09:                        in0RTT | in1RTT,                           //
	0x0a:                        in0RTT | in1RTT,                           //
	0x0b:                        in0RTT | in1RTT,                           //
	0x0c:                        in0RTT | in1RTT,                           //
	0x0d:                        in0RTT | in1RTT,                           //
	0x0e:                        in0RTT | in1RTT,                           //
	0x0f:                        in0RTT | in1RTT,                           //
	FrameTypeMaxData:            in0RTT | in1RTT,                           // __01
	FrameTypeMaxStreamData:      in0RTT | in1RTT,                           // __01
	FrameTypeMaxStreamsBidi:     in0RTT | in1RTT,                           // __01
	FrameTypeMaxStreamsUni:      in0RTT | in1RTT,                           // __01
	FrameTypeDataBlocked:        in0RTT | in1RTT,                           // __01
	FrameTypeStreamDataBlocked:  in0RTT | in1RTT,                           // __01
	FrameTypeStreamsBlockedBidi: in0RTT | in1RTT,                           // __01
	FrameTypeStreamsBlockedUni:  in0RTT | in1RTT,                           // __01
	FrameTypeNewConnectionID:    in0RTT | in1RTT,                           // __01
	FrameTypeRetireConnectionID: in0RTT | in1RTT,                           // __01
	FrameTypePathChallenge:      in0RTT | in1RTT,                           // __01
	FrameTypePathResponse:       in1RTT,                                    // ___1
	FrameTypeConnectionClose:    inInitial | inHandshake | in0RTT | in1RTT, // ih01: 0x1c only in I and H
	FrameTypeConnectionCloseApp: in0RTT | in1RTT,                           // __01
	FrameTypeHandshakeDone:      in1RTT,                                    // ___1
}

// FrameAllowedIn reports whether a frame of type t may appear in a packet of
// type pt: RFC 9000 Table 3 (§12.4), and RFC 9221 §5 for DATAGRAM (0-RTT and
// 1-RTT only). Retry and Version Negotiation packets carry no frames, and an
// unknown frame type is allowed nowhere.
func FrameAllowedIn(t FrameType, pt PacketType) bool {
	var bit uint8
	switch pt {
	case PacketInitial:
		bit = inInitial
	case PacketHandshake:
		bit = inHandshake
	case Packet0RTT:
		bit = in0RTT
	case Packet1RTT:
		bit = in1RTT
	default:
		return false
	}
	if t == FrameTypeDatagram || t == FrameTypeDatagramLen {
		return bit&(in0RTT|in1RTT) != 0
	}
	if t >= uint64(len(frameAllowed)) {
		return false
	}
	return frameAllowed[t]&bit != 0
}

// CheckFrameAllowed returns nil if a frame of type t may appear in a packet
// of type pt, and otherwise the PROTOCOL_VIOLATION that RFC 9000 §12.4
// requires.
func CheckFrameAllowed(t FrameType, pt PacketType) error {
	if FrameAllowedIn(t, pt) {
		return nil
	}
	return frameError(ProtocolViolation, t, "frame not allowed in "+pt.String()+" packet")
}

// IsAckEliciting reports whether a frame of type t makes its packet
// ack-eliciting: every frame but ACK, PADDING and CONNECTION_CLOSE (RFC 9002
// §2). DATAGRAM frames are ack-eliciting (RFC 9221 §5.2).
func IsAckEliciting(t FrameType) bool {
	switch t {
	case FrameTypePadding, FrameTypeAck, FrameTypeAckECN,
		FrameTypeConnectionClose, FrameTypeConnectionCloseApp:
		return false
	}
	return true
}

// IsProbingFrame reports whether a frame of type t is a probing frame: a
// packet that holds only probing frames is a probing packet (RFC 9000 §9.1,
// the "P" column of Table 3): PATH_CHALLENGE, PATH_RESPONSE,
// NEW_CONNECTION_ID and PADDING.
func IsProbingFrame(t FrameType) bool {
	switch t {
	case FrameTypePathChallenge, FrameTypePathResponse,
		FrameTypeNewConnectionID, FrameTypePadding:
		return true
	}
	return false
}

// checkFrameType returns an error unless b starts with the one-byte frame
// type t. Every frame type this package knows encodes in one byte.
func checkFrameType(b []byte, t FrameType, reason string) error {
	if len(b) == 0 || uint64(b[0]) != t {
		return frameError(FrameEncodingError, t, reason)
	}
	return nil
}

// readVarintField reads a variable-length integer field of a frame of type t
// at b[*n:] and advances *n past it; a truncated field is a
// FRAME_ENCODING_ERROR with the given reason. *n must be at most len(b).
func readVarintField(b []byte, n *int, t FrameType, reason string) (uint64, error) {
	v, m, err := ParseVarint(b[*n:])
	if err != nil {
		return 0, frameError(FrameEncodingError, t, reason)
	}
	*n += m
	return v, nil
}

// readBytesField returns the l bytes at b[*n:] (aliasing b, capacity capped)
// and advances *n past them; fewer than l bytes left is a
// FRAME_ENCODING_ERROR with the given reason.
func readBytesField(b []byte, n *int, l uint64, t FrameType, reason string) ([]byte, error) {
	if l > uint64(len(b)-*n) {
		return nil, frameError(FrameEncodingError, t, reason)
	}
	end := *n + int(l)
	d := b[*n:end:end]
	*n = end
	return d, nil
}
