package wire

// Short header (1-RTT) packets, RFC 9000 §17.3.1.

// ParseShortHeader parses the short header at the start of b, whose
// Destination Connection ID has the length cidLen this endpoint issues. It
// checks the header form and fixed bits and that at least one byte follows
// the connection ID. pnOffset is the offset of the protected packet number.
// The returned dcid aliases b. It does not allocate.
func ParseShortHeader(b []byte, cidLen int) (dcid []byte, pnOffset int, err error) {
	if len(b) == 0 {
		return nil, 0, errTruncatedHeader
	}
	if IsLongHeader(b[0]) {
		return nil, 0, errNotShortHeader
	}
	if b[0]&fixedBit == 0 {
		// RFC 9000 §17.3.1: packets without the fixed bit are discarded.
		return nil, 0, errFixedBit
	}
	if cidLen < 0 || cidLen > MaxConnIDLen {
		return nil, 0, errConnIDTooLong
	}
	pnOffset = 1 + cidLen
	if len(b) <= pnOffset {
		return nil, 0, errTruncatedHeader
	}
	return b[1:pnOffset:pnOffset], pnOffset, nil
}

// ShortHeaderLen returns the number of bytes AppendShortHeader writes for a
// Destination Connection ID of cidLen bytes.
func ShortHeaderLen(cidLen int) int { return 1 + cidLen }

// AppendShortHeader appends a short header up to the packet number: the
// first byte (fixed bit, spin bit, reserved bits 0, key phase, Packet Number
// Length) and the Destination Connection ID (RFC 9000 §17.3.1). The caller
// appends the packet number with AppendPacketNumber and then the payload.
// A pnLen outside 1..4 or a dcid over 20 bytes is a caller bug and panics.
func AppendShortHeader(b []byte, dcid []byte, pnLen int, keyPhase, spin bool) []byte {
	if pnLen < 1 || pnLen > 4 {
		panic("wire: packet number length out of range")
	}
	if len(dcid) > MaxConnIDLen {
		panic("wire: connection ID longer than 20 bytes")
	}
	b0 := byte(fixedBit) | byte(pnLen-1)
	if spin {
		b0 |= spinBit
	}
	if keyPhase {
		b0 |= keyPhaseBit
	}
	b = append(b, b0)
	return append(b, dcid...)
}

// KeyPhase reports the Key Phase bit of a short header's first byte. It is
// only meaningful after header protection was removed (RFC 9001 §6).
func KeyPhase(b0 byte) bool { return b0&keyPhaseBit != 0 }

// SpinBit reports the latency spin bit of a short header's first byte
// (RFC 9000 §17.4).
func SpinBit(b0 byte) bool { return b0&spinBit != 0 }

// ReservedBitsSet reports whether the reserved bits of an unprotected first
// byte are non-zero: bits 0x0c of a long header, 0x18 of a short header. After
// a packet was successfully decrypted this is a connection error of type
// PROTOCOL_VIOLATION (RFC 9000 §17.2, §17.3.1).
func ReservedBitsSet(b0 byte) bool {
	if IsLongHeader(b0) {
		return b0&0x0c != 0
	}
	return b0&0x18 != 0
}
