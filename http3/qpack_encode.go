package http3

// The QPACK encoder: static table and literals only (RFC 9204 §2.1). The
// peer's SETTINGS_QPACK_MAX_TABLE_CAPACITY does not matter to us: an
// encoder is free never to use the dynamic table, and then it sends nothing
// on its encoder stream and every field section has Required Insert Count 0.

// appendFieldSectionPrefix appends the encoded field section prefix of a
// section that does not use the dynamic table: Required Insert Count 0,
// then Sign 0 and Delta Base 0 (RFC 9204 §4.5.1).
func appendFieldSectionPrefix(b []byte) []byte {
	return append(b, 0x00, 0x00)
}

// appendFieldLine appends one field line. name must already be lowercase
// (RFC 9114 §4.2). An exact static match is an Indexed Field Line (RFC 9204
// §4.5.2); a static name match a Literal Field Line with Name Reference
// (§4.5.4); anything else a Literal Field Line with Literal Name (§4.5.6).
// neverIndex sets the N bit, asking intermediaries to keep the value out of
// any dynamic table (§7.1.3).
func appendFieldLine(b []byte, name, value string, neverIndex bool) []byte {
	idx, exact, ok := lookupStatic(name, value)
	switch {
	case ok && exact:
		// 1 T=1 Index(6+)
		return appendPrefixedInt(b, 0xc0, 6, uint64(idx))
	case ok:
		// 0 1 N T=1 NameIndex(4+), then the value as an 8-bit prefix string.
		flags := byte(0x50)
		if neverIndex {
			flags |= 0x20
		}
		b = appendPrefixedInt(b, flags, 4, uint64(idx))
		return appendStringLiteral(b, 0, 8, value)
	default:
		// 0 0 1 N H NameLen(3+) Name, then the value.
		flags := byte(0x20)
		if neverIndex {
			flags |= 0x10
		}
		b = appendStringLiteral(b, flags, 4, name)
		return appendStringLiteral(b, 0, 8, value)
	}
}

// fieldLineSize is a field line's size as RFC 9114 §4.2.2 counts it for
// SETTINGS_MAX_FIELD_SECTION_SIZE: name and value lengths plus 32.
func fieldLineSize(name, value string) uint64 {
	return uint64(len(name)) + uint64(len(value)) + 32
}
