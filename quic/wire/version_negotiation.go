package wire

import "encoding/binary"

// Version Negotiation packets, RFC 9000 §17.2.1 and RFC 8999 §6.

var (
	errNotVersionNegotiation = &PacketError{"not a Version Negotiation packet", true}
	errVersionListLength     = &PacketError{"Version Negotiation version list empty or not a multiple of 4 bytes", true}
)

// versionNegotiationFirstByte is the first byte of the Version Negotiation
// packets we send: the header form bit, and the 0x40 bit set so that the
// packet looks like it has a fixed bit (RFC 9000 §17.2.1, RFC 7983). The
// other bits are unused; a constant value reveals nothing.
const versionNegotiationFirstByte = 0xc0

// VersionNegotiationLen returns the length of the packet
// AppendVersionNegotiation writes.
func VersionNegotiationLen(dcid, scid []byte, nVersions int) int {
	return 1 + 4 + 1 + len(dcid) + 1 + len(scid) + 4*nVersions
}

// AppendVersionNegotiation appends a Version Negotiation packet listing
// versions. dcid must be the Source Connection ID of the packet that
// prompted it and scid its Destination Connection ID (RFC 9000 §17.2.1);
// they may be up to 255 bytes long (RFC 8999 §6). Longer connection IDs are
// a caller bug and panic.
func AppendVersionNegotiation(b []byte, dcid, scid []byte, versions ...uint32) []byte {
	if len(dcid) > 255 || len(scid) > 255 {
		panic("wire: connection ID longer than 255 bytes")
	}
	b = append(b, versionNegotiationFirstByte, 0, 0, 0, 0)
	b = append(b, byte(len(dcid)))
	b = append(b, dcid...)
	b = append(b, byte(len(scid)))
	b = append(b, scid...)
	for _, v := range versions {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	return b
}

// ParseVersionNegotiation parses the Version Negotiation packet b (a whole
// datagram). versions holds the Supported Version fields, 4 bytes each in
// network byte order; read them with binary.BigEndian.Uint32(versions[i:]).
// The list must be non-empty and a multiple of 4 bytes long. All results
// alias b; nothing is allocated.
func ParseVersionNegotiation(b []byte) (dcid, scid []byte, versions []byte, err error) {
	h, err := ParseLongHeader(b)
	if err != nil {
		return nil, nil, nil, err
	}
	if h.Type != PacketVersionNegotiation {
		return nil, nil, nil, errNotVersionNegotiation
	}
	off := 7 + len(h.DstConnID) + len(h.SrcConnID)
	versions = b[off:]
	if len(versions) == 0 || len(versions)%4 != 0 {
		return nil, nil, nil, errVersionListLength
	}
	return h.DstConnID, h.SrcConnID, versions, nil
}
