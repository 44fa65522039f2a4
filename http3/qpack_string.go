package http3

import "errors"

// String literals, RFC 7541 §5.2 with QPACK's N-bit prefixes (RFC 9204
// §4.1.2): an H flag (Huffman or not), the length as an (N-1)-bit prefix
// integer, then that many bytes.

var errStringTruncated = errors.New("qpack: truncated string literal")

// appendStringLiteral appends s as an n-bit prefix string literal (2 <= n
// <= 8); flags holds the 8-n high bits of the first byte. It uses Huffman
// coding when that is shorter.
func appendStringLiteral(b []byte, flags byte, n uint8, s string) []byte {
	if hl := huffmanEncodedLen(s); hl < len(s) {
		b = appendPrefixedInt(b, flags|1<<(n-1), n-1, uint64(hl))
		return appendHuffman(b, s)
	}
	b = appendPrefixedInt(b, flags, n-1, uint64(len(s)))
	return append(b, s...)
}

// parseStringLiteral reads an n-bit prefix string literal at the start of
// b. The decoded string is appended to scratch (returned, to be reused); it
// takes the bytes consumed. A string longer than maxLen bytes fails with
// errFieldSectionTooLarge before anything is allocated for it.
func parseStringLiteral(b []byte, n uint8, maxLen int, scratch []byte) (s []byte, consumed int, err error) {
	if len(b) == 0 {
		return scratch, 0, errStringTruncated
	}
	huffman := b[0]&(1<<(n-1)) != 0
	l, k, err := parsePrefixedInt(b, n-1)
	if err != nil {
		return scratch, 0, err
	}
	if l > uint64(len(b)-k) {
		return scratch, 0, errStringTruncated
	}
	raw := b[k : k+int(l)]
	consumed = k + int(l)
	if !huffman {
		if len(raw) > maxLen {
			return scratch, 0, errFieldSectionTooLarge
		}
		return append(scratch[:0], raw...), consumed, nil
	}
	out, err := appendHuffmanDecode(scratch[:0], raw, maxLen)
	if err != nil {
		return out, 0, err
	}
	return out, consumed, nil
}
