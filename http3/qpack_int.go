package http3

import "errors"

// Prefixed integers, RFC 7541 §5.1, as QPACK uses them (RFC 9204 §4.1.1):
// the value fills the low N bits of the first byte if it is smaller than
// 2^N-1; otherwise those bits are all ones and the rest follows in 7-bit
// groups, least significant first, the high bit of each byte saying "more".

// maxQPACKInt is the largest integer we decode. RFC 9204 §4.1.1 requires
// 62 bits; nothing in a field section needs more.
const maxQPACKInt = 1<<62 - 1

var (
	errIntTruncated = errors.New("qpack: truncated integer")
	errIntOverflow  = errors.New("qpack: integer too large")
)

// appendPrefixedInt appends v as an n-bit prefix integer (1 <= n <= 8);
// flags holds the 8-n high bits of the first byte.
func appendPrefixedInt(b []byte, flags byte, n uint8, v uint64) []byte {
	limit := uint64(1)<<n - 1
	if v < limit {
		return append(b, flags|byte(v))
	}
	b = append(b, flags|byte(limit))
	v -= limit
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// parsePrefixedInt reads an n-bit prefix integer at the start of b (its
// prefix is the low n bits of b[0]) and returns it with the number of bytes
// it took. Values above 2^62-1 and encodings longer than ten bytes are
// refused, so neither the value nor the work can grow without bound.
func parsePrefixedInt(b []byte, n uint8) (uint64, int, error) {
	if len(b) == 0 {
		return 0, 0, errIntTruncated
	}
	limit := uint64(1)<<n - 1
	v := uint64(b[0]) & limit
	if v < limit {
		return v, 1, nil
	}
	for i, shift := 1, uint(0); i < len(b); i, shift = i+1, shift+7 {
		if shift > 56 {
			return 0, 0, errIntOverflow
		}
		c := b[i]
		v += uint64(c&0x7f) << shift
		if v > maxQPACKInt {
			return 0, 0, errIntOverflow
		}
		if c&0x80 == 0 {
			return v, i + 1, nil
		}
	}
	return 0, 0, errIntTruncated
}

// byteReader is what readPrefixedInt reads from: a bufio.Reader on the
// QPACK encoder or decoder stream.
type byteReader interface {
	ReadByte() (byte, error)
}

// readPrefixedInt is parsePrefixedInt for a stream: first is the byte
// already read, holding the prefix in its low n bits; the continuation
// bytes come from r. A read error (io.EOF included) is returned as is.
func readPrefixedInt(first byte, n uint8, r byteReader) (uint64, error) {
	limit := uint64(1)<<n - 1
	v := uint64(first) & limit
	if v < limit {
		return v, nil
	}
	for shift := uint(0); ; shift += 7 {
		if shift > 56 {
			return 0, errIntOverflow
		}
		c, err := r.ReadByte()
		if err != nil {
			return 0, err
		}
		v += uint64(c&0x7f) << shift
		if v > maxQPACKInt {
			return 0, errIntOverflow
		}
		if c&0x80 == 0 {
			return v, nil
		}
	}
}
