package wire

import "encoding/binary"

// Long header packets, RFC 9000 §17.2, with the QUIC v2 type bits of
// RFC 9369 §3.2.

// LongHeader is a parsed long header, up to (not including) the packet
// number. The type-specific bits of the first byte (reserved bits and packet
// number length) are under header protection and are not part of it. Byte
// slices alias the parsed input.
type LongHeader struct {
	Type      PacketType
	Version   Version
	DstConnID []byte
	SrcConnID []byte
	// Token is the Initial packet's token (RFC 9000 §17.2.2), or for a
	// Retry packet the Retry Token (§17.2.5), without the integrity tag.
	Token []byte
	// Length is the Length field of Initial, 0-RTT and Handshake packets:
	// the bytes of packet number and protected payload (§17.2).
	Length uint64
	// PNOffset is the offset of the protected packet number from the start
	// of the packet (Initial, 0-RTT and Handshake packets).
	PNOffset int
	// PacketLen is the length of this packet within the parsed datagram:
	// PNOffset+Length for packets with a Length field, so that the next
	// coalesced packet starts at b[PacketLen:] (RFC 9000 §12.2); the whole
	// input for Retry and Version Negotiation packets.
	PacketLen int
}

// minProtectedLen is the least Length a protected packet can have: the
// header protection sample starts 4 bytes after the packet number and is 16
// bytes long (RFC 9001 §5.4.2), and no AEAD we support has a tag shorter than
// 16 bytes.
const minProtectedLen = 4 + SampleLen

// ParseLongHeader parses the long header at the start of b, which may hold
// further coalesced packets after this one. For QUIC v1 and v2 it checks the
// fixed bit, the connection ID lengths (at most 20 bytes) and that the Length
// field stays within b. A Version field of 0 yields a header of type
// PacketVersionNegotiation (parse the rest with ParseVersionNegotiation);
// other unknown versions yield ErrUnsupportedVersion together with the
// version-independent fields (RFC 8999 §5.1). It does not allocate.
func ParseLongHeader(b []byte) (LongHeader, error) {
	var h LongHeader
	if len(b) < 7 {
		return h, errTruncatedHeader
	}
	if !IsLongHeader(b[0]) {
		return h, errNotLongHeader
	}
	h.Version = binary.BigEndian.Uint32(b[1:5])
	supported := IsSupportedVersion(h.Version)
	// RFC 9000 §17.2: v1 and v2 connection IDs are at most 20 bytes; other
	// versions may use up to 255 (RFC 8999 §5.1).
	off := 6
	n := int(b[5])
	if supported && n > MaxConnIDLen {
		return LongHeader{}, errConnIDTooLong
	}
	if len(b)-off < n+1 { // the DCID and the SCID Length byte
		return LongHeader{}, errTruncatedHeader
	}
	h.DstConnID = b[off : off+n : off+n]
	off += n
	n = int(b[off])
	off++
	if supported && n > MaxConnIDLen {
		return LongHeader{}, errConnIDTooLong
	}
	if len(b)-off < n {
		return LongHeader{}, errTruncatedHeader
	}
	h.SrcConnID = b[off : off+n : off+n]
	off += n
	if h.Version == 0 {
		// RFC 9000 §17.2.1: the fixed bit is unused in Version Negotiation.
		h.Type = PacketVersionNegotiation
		h.PacketLen = len(b)
		return h, nil
	}
	if !supported {
		return h, ErrUnsupportedVersion
	}
	if b[0]&fixedBit == 0 {
		// RFC 9000 §17.2: packets without the fixed bit are discarded.
		// (RFC 9287 lets peers that negotiated it clear the bit; we do not
		// negotiate it.)
		return LongHeader{}, errFixedBit
	}
	h.Type = longPacketType(h.Version, b[0]>>4)
	if h.Type == PacketRetry {
		// RFC 9000 §17.2.5: Retry Token, then a 16-byte integrity tag.
		if len(b)-off < retryTagLen {
			return LongHeader{}, errRetryTooShort
		}
		h.Token = b[off : len(b)-retryTagLen : len(b)-retryTagLen]
		h.PacketLen = len(b)
		return h, nil
	}
	if h.Type == PacketInitial {
		// RFC 9000 §17.2.2: Token Length (i), Token.
		n, l, err := ParseVarint(b[off:])
		if err != nil {
			return LongHeader{}, errTruncatedHeader
		}
		off += l
		if uint64(len(b)-off) < n {
			return LongHeader{}, errTruncatedHeader
		}
		h.Token = b[off : off+int(n) : off+int(n)]
		off += int(n)
	}
	length, l, err := ParseVarint(b[off:])
	if err != nil {
		return LongHeader{}, errTruncatedHeader
	}
	off += l
	if uint64(len(b)-off) < length {
		return LongHeader{}, errLengthTooLong
	}
	if length < minProtectedLen {
		// RFC 9001 §5.4.2: a packet too short for the sample is discarded.
		return LongHeader{}, errLengthTooShort
	}
	h.Length = length
	h.PNOffset = off
	h.PacketLen = off + int(length)
	return h, nil
}

// LongHeaderLen returns the number of bytes AppendLongHeader writes for h:
// everything up to the packet number, with a 2-byte Length field.
func LongHeaderLen(h *LongHeader) int {
	n := 1 + 4 + 1 + len(h.DstConnID) + 1 + len(h.SrcConnID) + 2
	if h.Type == PacketInitial {
		n += VarintLen(uint64(len(h.Token))) + len(h.Token)
	}
	return n
}

// AppendLongHeader appends the long header of an Initial, 0-RTT or Handshake
// packet of version h.Version with a packet number of pnLen bytes: the first
// byte (type bits and Packet Number Length; reserved bits 0), Version, the
// connection IDs, the token for Initial packets, and a 2-byte Length
// placeholder at lengthOffset (RFC 9000 §17.2). The caller then appends the
// packet number (AppendPacketNumber) and the payload, and fills in Length
// with PatchLength. h.Length and h.PNOffset are ignored.
//
// Arguments come from our own state; an unsupported version or type, a
// connection ID over 20 bytes or a pnLen outside 1..4 is a bug in the caller
// and panics.
func AppendLongHeader(b []byte, h *LongHeader, pnLen int) (out []byte, lengthOffset int) {
	bits, ok := longTypeBits(h.Version, h.Type)
	if !ok || h.Type == PacketRetry || !IsSupportedVersion(h.Version) {
		panic("wire: AppendLongHeader: needs an Initial, 0-RTT or Handshake packet of a supported version")
	}
	if pnLen < 1 || pnLen > 4 {
		panic("wire: packet number length out of range")
	}
	if len(h.DstConnID) > MaxConnIDLen || len(h.SrcConnID) > MaxConnIDLen {
		panic("wire: connection ID longer than 20 bytes")
	}
	b = append(b, headerFormBit|fixedBit|bits<<4|byte(pnLen-1))
	b = binary.BigEndian.AppendUint32(b, h.Version)
	b = append(b, byte(len(h.DstConnID)))
	b = append(b, h.DstConnID...)
	b = append(b, byte(len(h.SrcConnID)))
	b = append(b, h.SrcConnID...)
	if h.Type == PacketInitial {
		b = AppendVarint(b, uint64(len(h.Token)))
		b = append(b, h.Token...)
	}
	lengthOffset = len(b)
	b = AppendVarintN(b, 0, 2)
	return b, lengthOffset
}

// MaxPatchLength is the largest Length a 2-byte Length field written by
// AppendLongHeader can hold (RFC 9000 §16).
const MaxPatchLength = 16383

// PatchLength fills in the Length field reserved by AppendLongHeader at
// lengthOffset of pkt: the packet number length plus the payload length
// including the AEAD tag. A total above MaxPatchLength is a caller bug and
// panics.
func PatchLength(pkt []byte, lengthOffset int, pnLen, payloadLenWithTag int) {
	PutVarintN(pkt[lengthOffset:], uint64(pnLen+payloadLenWithTag), 2)
}
