package wire

// CryptoFrame is a CRYPTO frame, RFC 9000 §19.6: handshake data at an offset
// in the crypto stream of one encryption level. It always has a Length field.
type CryptoFrame struct {
	Offset uint64
	Data   []byte // aliases the parsed packet
}

// CryptoFrameHeaderLen returns the length of a CRYPTO frame's type, Offset and
// Length fields for dataLen bytes at offset off.
func CryptoFrameHeaderLen(off uint64, dataLen int) int {
	return 1 + VarintLen(off) + VarintLen(uint64(dataLen))
}

// AppendCryptoFrameHeader appends the fields of a CRYPTO frame that precede
// its data; the caller appends exactly dataLen bytes of data after it.
func AppendCryptoFrameHeader(b []byte, off uint64, dataLen int) []byte {
	b = append(b, byte(FrameTypeCrypto))
	b = AppendVarint(b, off)
	return AppendVarint(b, uint64(dataLen))
}

// CryptoDataFit returns how many of want bytes of data at offset off fit in a
// CRYPTO frame that may take at most space bytes in all: the largest
// n <= want with CryptoFrameHeaderLen(off, n)+n <= space. It returns n < 0 if
// not even an empty frame fits. A negative want counts as 0.
func CryptoDataFit(off uint64, want, space int) int {
	want = max(want, 0)
	avail := space - 1 - VarintLen(off) // Length field and data
	if avail < 1 {
		return -1
	}
	if VarintLen(uint64(want))+want <= avail {
		return want
	}
	return maxPrefixedLen(avail)
}

// Len returns the encoded length of f.
func (f *CryptoFrame) Len() int {
	return CryptoFrameHeaderLen(f.Offset, len(f.Data)) + len(f.Data)
}

// Append appends f.
func (f *CryptoFrame) Append(b []byte) []byte {
	b = AppendCryptoFrameHeader(b, f.Offset, len(f.Data))
	return append(b, f.Data...)
}

// ParseCryptoFrame parses a CRYPTO frame at the start of b. Data that would
// end beyond offset 2^62-1 is a FRAME_ENCODING_ERROR (RFC 9000 §19.6 allows
// it or CRYPTO_BUFFER_EXCEEDED).
func ParseCryptoFrame(b []byte) (CryptoFrame, int, error) {
	var f CryptoFrame
	const t = FrameTypeCrypto
	if err := checkFrameType(b, t, "not a CRYPTO frame"); err != nil {
		return f, 0, err
	}
	n := 1
	off, err := readVarintField(b, &n, t, "truncated offset")
	if err != nil {
		return f, 0, err
	}
	l, err := readVarintField(b, &n, t, "truncated length")
	if err != nil {
		return f, 0, err
	}
	data, err := readBytesField(b, &n, l, t, "data runs past the packet")
	if err != nil {
		return f, 0, err
	}
	// Both are below 2^62 (the length is also below len(b)): no overflow.
	if off+l > MaxVarint {
		return f, 0, frameError(FrameEncodingError, t, "crypto offset beyond 2^62-1")
	}
	return CryptoFrame{Offset: off, Data: data}, n, nil
}
