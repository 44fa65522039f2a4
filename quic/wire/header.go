package wire

import "encoding/binary"

// Packet header basics shared by the long and the short header, and the
// version-independent view of a packet used to route it (RFC 8999).

// MaxConnIDLen is the longest connection ID QUIC v1 and v2 allow
// (RFC 9000 §17.2).
const MaxConnIDLen = 20

// Bits of the first byte of every packet (RFC 9000 §17.2, §17.3).
const (
	headerFormBit = 0x80 // 1: long header
	fixedBit      = 0x40
	spinBit       = 0x20 // short header only
	keyPhaseBit   = 0x04 // short header only, protected
	pnLenMask     = 0x03 // protected
)

// PacketError is the error type of header and packet parsers. It is not a
// connection error: a packet that fails to parse is dropped (RFC 9000 §5.2,
// §12.2). Every value about the wire format matches ErrMalformedPacket with
// errors.Is; ErrUnsupportedVersion and ErrDecryptFailed do not.
type PacketError struct {
	reason    string
	malformed bool
}

// Error returns the reason the packet was rejected.
func (e *PacketError) Error() string { return "quic: " + e.reason }

// Is makes errors.Is(err, ErrMalformedPacket) true for every malformed-packet
// reason.
func (e *PacketError) Is(target error) bool {
	if target == ErrMalformedPacket {
		return e.malformed
	}
	return e == target
}

// Sentinel packet errors. They are preallocated: parsing never allocates.
var (
	// ErrMalformedPacket matches (errors.Is) every error about a packet
	// that does not follow the wire format. The packet is dropped.
	ErrMalformedPacket = &PacketError{"malformed packet", true}
	// ErrUnsupportedVersion is returned by ParseLongHeader for a long header
	// of a version other than 0, Version1 and Version2. The returned header
	// still holds Version, DstConnID and SrcConnID (RFC 8999 §5.1), enough to
	// answer with a Version Negotiation packet.
	ErrUnsupportedVersion = &PacketError{"unsupported QUIC version", false}

	errTruncatedHeader = &PacketError{"truncated packet header", true}
	errFixedBit        = &PacketError{"fixed bit not set", true}
	errConnIDTooLong   = &PacketError{"connection ID longer than 20 bytes", true}
	errLengthTooLong   = &PacketError{"packet Length exceeds the datagram", true}
	errLengthTooShort  = &PacketError{"packet Length too short for a packet number and a header protection sample", true}
	errNotLongHeader   = &PacketError{"not a long header", true}
	errNotShortHeader  = &PacketError{"not a short header", true}
	errRetryTooShort   = &PacketError{"retry packet shorter than its integrity tag", true}
)

// IsLongHeader reports whether b0, the first byte of a packet, starts a long
// header (RFC 9000 §17.2, RFC 8999 §5.1).
func IsLongHeader(b0 byte) bool { return b0&headerFormBit != 0 }

// PeekDstConnID returns the Destination Connection ID of the packet at the
// start of b, for routing a datagram to its connection. For a long header it
// reads the version-independent fields of RFC 8999 §5.1: connection IDs of
// versions it does not know may be up to 255 bytes long, while those of QUIC v1
// and v2 are limited to 20 bytes (RFC 9000 §17.2). For a short header the
// length is not on the wire; shortCIDLen is the length this endpoint issues
// (RFC 8999 §5.2). The result aliases b.
func PeekDstConnID(b []byte, shortCIDLen int) ([]byte, error) {
	if len(b) == 0 {
		return nil, errTruncatedHeader
	}
	if !IsLongHeader(b[0]) {
		if shortCIDLen < 0 || len(b) < 1+shortCIDLen {
			return nil, errTruncatedHeader
		}
		return b[1 : 1+shortCIDLen], nil
	}
	if len(b) < 6 {
		return nil, errTruncatedHeader
	}
	v := binary.BigEndian.Uint32(b[1:5])
	n := int(b[5])
	if IsSupportedVersion(v) && n > MaxConnIDLen {
		return nil, errConnIDTooLong
	}
	if len(b) < 6+n {
		return nil, errTruncatedHeader
	}
	return b[6 : 6+n], nil
}

// longTypeBits returns the two Long Packet Type bits for t in version v:
// RFC 9000 §17.2 Table 5 for v1, RFC 9369 §3.2 for v2.
func longTypeBits(v Version, t PacketType) (byte, bool) {
	var bits byte
	switch t {
	case PacketInitial:
		bits = 0
	case Packet0RTT:
		bits = 1
	case PacketHandshake:
		bits = 2
	case PacketRetry:
		bits = 3
	default:
		return 0, false
	}
	if v == Version2 {
		// v2 rotates every type by one: Initial 0b01, 0-RTT 0b10,
		// Handshake 0b11, Retry 0b00.
		bits = (bits + 1) & 3
	}
	return bits, true
}

// longPacketType is the inverse of longTypeBits.
func longPacketType(v Version, bits byte) PacketType {
	bits &= 3
	if v == Version2 {
		bits = (bits + 3) & 3
	}
	return PacketInitial + PacketType(bits)
}
