package wire

// Variable-length integer encoding, RFC 9000 §16.
//
// The two most significant bits of the first byte give the length of the
// encoding (1, 2, 4 or 8 bytes); the rest is the value in network byte order.

// MaxVarint is the largest value a variable-length integer can hold: 2^62-1.
const MaxVarint = 1<<62 - 1

// VarintLen returns the length of the shortest encoding of v: 1, 2, 4 or 8.
// For v > MaxVarint it returns 8; encoding such a value is a caller bug.
func VarintLen(v uint64) int {
	switch {
	case v <= 63:
		return 1
	case v <= 16383:
		return 2
	case v <= 1<<30-1:
		return 4
	default:
		return 8
	}
}

// AppendVarint appends the shortest encoding of v. It panics if v > MaxVarint:
// values come from our own state, and such a value is a bug in the caller.
func AppendVarint(b []byte, v uint64) []byte {
	switch {
	case v <= 63:
		return append(b, byte(v))
	case v <= 16383:
		return append(b, 0x40|byte(v>>8), byte(v))
	case v <= 1<<30-1:
		return append(b, 0x80|byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	case v <= MaxVarint:
		return append(b, 0xc0|byte(v>>56), byte(v>>48), byte(v>>40), byte(v>>32),
			byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
	panic("wire: varint value out of range")
}

// AppendVarintN appends v encoded in exactly n bytes (1, 2, 4 or 8), as used
// for length fields that are written before their value is known (RFC 9000
// §16 allows any length that can hold the value). It panics if v does not fit
// in n bytes or n is not a valid length.
func AppendVarintN(b []byte, v uint64, n int) []byte {
	switch {
	case n == 1 && v <= 63:
		return append(b, byte(v))
	case n == 2 && v <= 16383:
		return append(b, 0x40|byte(v>>8), byte(v))
	case n == 4 && v <= 1<<30-1:
		return append(b, 0x80|byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	case n == 8 && v <= MaxVarint:
		return append(b, 0xc0|byte(v>>56), byte(v>>48), byte(v>>40), byte(v>>32),
			byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
	panic("wire: varint does not fit the requested length")
}

// PutVarintN overwrites b[:n] with v encoded in exactly n bytes. It is used
// to fill in a length field reserved with AppendVarintN. It panics under the
// same conditions as AppendVarintN or if b is shorter than n.
func PutVarintN(b []byte, v uint64, n int) {
	if len(b) < n {
		panic("wire: PutVarintN: buffer shorter than the varint")
	}
	AppendVarintN(b[:0:n], v, n)
}

// ParseVarint reads one variable-length integer from the start of b and
// returns its value and length. A short buffer is a FRAME_ENCODING_ERROR.
func ParseVarint(b []byte) (v uint64, n int, err error) {
	if len(b) == 0 {
		return 0, 0, errTruncatedVarint
	}
	n = 1 << (b[0] >> 6)
	if len(b) < n {
		return 0, 0, errTruncatedVarint
	}
	v = uint64(b[0] & 0x3f)
	for i := 1; i < n; i++ {
		v = v<<8 | uint64(b[i])
	}
	return v, n, nil
}

// varintMax is the largest value each encoded length can hold, by
// length in bytes (RFC 9000 §16, Table 4).
var varintMax = [...]uint64{1: 63, 2: 16383, 4: 1<<30 - 1, 8: MaxVarint}

// maxPrefixedLen returns the largest n such that a Length field holding n
// (shortest encoding) followed by n bytes takes at most avail bytes, or -1 if
// avail < 1 (not even a Length field of 0 fits). It is the largest amount of
// data a length-prefixed frame can carry in avail bytes after its other
// fields.
func maxPrefixedLen(avail int) int {
	if avail < 1 {
		return -1
	}
	best := 0
	for _, l := range [...]int{1, 2, 4, 8} {
		n := avail - l
		if n < 0 {
			break
		}
		if uint64(n) > varintMax[l] {
			n = int(varintMax[l])
		}
		best = max(best, n)
	}
	return best
}

var errTruncatedVarint = &TransportError{Code: FrameEncodingError, Reason: "truncated variable-length integer"}
