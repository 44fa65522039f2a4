package http3

import (
	"errors"
	"fmt"
)

// The QPACK decoder for field sections that reference only the static
// table. We advertise SETTINGS_QPACK_MAX_TABLE_CAPACITY 0, so a peer can
// never insert into our dynamic table; any reference to it is an error.

// decodeFieldSection decodes an encoded field section (RFC 9204 §4.5) and
// calls emit with each field line in order. The strings passed to emit are
// the caller's to keep.
//
// maxSize bounds the section's size as RFC 9114 §4.2.2 counts it (name and
// value lengths plus 32 per line): beyond it decoding stops with
// errFieldSectionTooLarge, before the string that would cross it is
// allocated. Any encoding error is a connection error of type
// QPACK_DECOMPRESSION_FAILED (RFC 9204 §2.2.3, §4.5.1.1, §6); an error from
// emit is returned unchanged.
func decodeFieldSection(b []byte, maxSize uint64, emit func(name, value string) error) error {
	// Encoded Field Section Prefix, RFC 9204 §4.5.1. With a table capacity
	// of 0, MaxEntries is 0 and the only valid Encoded Required Insert
	// Count is 0 (§4.5.1.1): any other value is an error.
	ric, n, err := parsePrefixedInt(b, 8)
	if err != nil {
		return decompressionFailed("field section prefix: %v", err)
	}
	if ric != 0 {
		return decompressionFailed("Required Insert Count %d, but our dynamic table capacity is 0", ric)
	}
	b = b[n:]
	if len(b) == 0 {
		return decompressionFailed("field section prefix: missing Base")
	}
	// Base: with Required Insert Count 0 a Sign bit of 1 would make Base
	// negative (§4.5.1.2); Delta Base itself may take any value.
	if b[0]&0x80 != 0 {
		return decompressionFailed("negative Base")
	}
	_, n, err = parsePrefixedInt(b, 7)
	if err != nil {
		return decompressionFailed("field section prefix: %v", err)
	}
	b = b[n:]

	var buf [128]byte
	scratch := buf[:0]
	var size uint64
	for len(b) > 0 {
		var name, value string
		c := b[0]
		switch {
		case c&0x80 != 0:
			// Indexed Field Line, §4.5.2: 1 T Index(6+).
			if c&0x40 == 0 {
				return decompressionFailed("reference to the dynamic table")
			}
			idx, n, err := parsePrefixedInt(b, 6)
			if err != nil {
				return decompressionFailed("indexed field line: %v", err)
			}
			if idx >= uint64(len(staticTable)) {
				return decompressionFailed("static index %d out of range", idx)
			}
			b = b[n:]
			e := &staticTable[idx]
			name, value = e.name, e.value
			if size += fieldLineSize(name, value); size > maxSize {
				return errFieldSectionTooLarge
			}

		case c&0x40 != 0:
			// Literal Field Line with Name Reference, §4.5.4:
			// 0 1 N T NameIndex(4+), value as an 8-bit prefix string.
			if c&0x10 == 0 {
				return decompressionFailed("name reference to the dynamic table")
			}
			idx, n, err := parsePrefixedInt(b, 4)
			if err != nil {
				return decompressionFailed("literal with name reference: %v", err)
			}
			if idx >= uint64(len(staticTable)) {
				return decompressionFailed("static index %d out of range", idx)
			}
			b = b[n:]
			name = staticTable[idx].name
			if size += fieldLineSize(name, ""); size > maxSize {
				return errFieldSectionTooLarge
			}
			scratch, n, err = parseStringLiteral(b, 8, budget(maxSize, size), scratch)
			if err != nil {
				return stringError(err)
			}
			b = b[n:]
			value = string(scratch)
			size += uint64(len(value))

		case c&0x20 != 0:
			// Literal Field Line with Literal Name, §4.5.6:
			// 0 0 1 N H NameLen(3+) Name, value as an 8-bit prefix string.
			if size += 32; size > maxSize {
				return errFieldSectionTooLarge
			}
			scratch, n, err = parseStringLiteral(b, 4, budget(maxSize, size), scratch)
			if err != nil {
				return stringError(err)
			}
			b = b[n:]
			name = string(scratch)
			size += uint64(len(name))
			scratch, n, err = parseStringLiteral(b, 8, budget(maxSize, size), scratch)
			if err != nil {
				return stringError(err)
			}
			b = b[n:]
			value = string(scratch)
			size += uint64(len(value))

		default:
			// 0001: Indexed Field Line with Post-Base Index (§4.5.3);
			// 0000: Literal with Post-Base Name Reference (§4.5.5). Both
			// address the dynamic table.
			return decompressionFailed("post-base reference to the dynamic table")
		}
		if err := emit(name, value); err != nil {
			return err
		}
	}
	return nil
}

// decompressionFailed is the connection error QPACK_DECOMPRESSION_FAILED.
func decompressionFailed(format string, args ...any) error {
	return connError(ErrCodeQPACKDecompressionFailed, "qpack: "+fmt.Sprintf(format, args...))
}

// stringError maps a string literal's error: the size limit stays itself,
// the rest is QPACK_DECOMPRESSION_FAILED.
func stringError(err error) error {
	if errors.Is(err, errFieldSectionTooLarge) {
		return err
	}
	return decompressionFailed("%v", err)
}

// budget is how many more bytes of names and values fit under maxSize,
// capped to keep the conversion to int safe.
func budget(maxSize, size uint64) int {
	return int(min(maxSize-size, 1<<30))
}
