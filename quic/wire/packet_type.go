package wire

// Version is a QUIC version number.
type Version = uint32

// QUIC versions.
const (
	Version1 Version = 0x00000001 // RFC 9000
	Version2 Version = 0x6b3343cf // RFC 9369
)

// IsSupportedVersion reports whether v is a version this package can protect.
func IsSupportedVersion(v Version) bool { return v == Version1 || v == Version2 }

// PacketType is the type of a QUIC packet, independent of the version's
// encoding of it on the wire (RFC 9369 §3.2 changes the long-header type bits).
type PacketType uint8

const (
	PacketInitial PacketType = iota + 1
	Packet0RTT
	PacketHandshake
	PacketRetry
	PacketVersionNegotiation
	Packet1RTT // short header
)

func (t PacketType) String() string {
	switch t {
	case PacketInitial:
		return "initial"
	case Packet0RTT:
		return "0RTT"
	case PacketHandshake:
		return "handshake"
	case PacketRetry:
		return "retry"
	case PacketVersionNegotiation:
		return "version_negotiation"
	case Packet1RTT:
		return "1RTT"
	}
	return "unknown"
}
