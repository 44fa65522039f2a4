package http3

import "errors"

// Huffman coding of string literals, RFC 7541 §5.2 and Appendix B, as QPACK
// uses it (RFC 9204 §4.1.2).

var errHuffman = errors.New("qpack: invalid Huffman-encoded string")

// huffmanEncodedLen returns the length in bytes of s Huffman-encoded.
func huffmanEncodedLen(s string) int {
	bits := 0
	for i := 0; i < len(s); i++ {
		bits += int(huffmanLen[s[i]])
	}
	return (bits + 7) / 8
}

// appendHuffman appends the Huffman encoding of s, padded to a whole byte
// with the most significant bits of EOS (all ones), RFC 7541 §5.2.
func appendHuffman(b []byte, s string) []byte {
	var acc uint64 // pending bits, the newest in the low end
	var n uint     // how many bits of acc are pending (< 8 between symbols)
	for i := 0; i < len(s); i++ {
		c := s[i]
		l := uint(huffmanLen[c])
		acc = acc<<l | uint64(huffmanCode[c])
		n += l
		for n >= 8 {
			n -= 8
			b = append(b, byte(acc>>n))
		}
	}
	if n > 0 {
		pad := 8 - n
		b = append(b, byte(acc<<pad)|byte(1<<pad-1))
	}
	return b
}

// The decoder relies on the code being canonical (see the table's file):
// codes of one length form a contiguous range, and every code of length L,
// left-aligned to 30 bits, is smaller than every longer code. So a 30-bit
// window w holds a code of the shortest length L with w < huffLimit[L], and
// that code's symbol is huffSorted[huffOffset[L] + w>>(30-L) - huffFirst[L]].
// Codes of up to 8 bits, which cover most text, are also found in one step
// through huffShort, indexed by the window's top byte.
const huffMaxLen = 30

var (
	huffSorted [257]uint16                  // symbols ordered by (length, symbol)
	huffFirst  [huffMaxLen + 1]uint32       // first code of each length
	huffOffset [huffMaxLen + 1]uint16       // index in huffSorted of that code
	huffLimit  [huffMaxLen + 1]uint32       // left-aligned end of each length's range
	huffShort  [256]struct{ sym, l uint16 } // l == 0: no code of <= 8 bits
)

func init() {
	var count [huffMaxLen + 1]int
	for _, l := range huffmanLen {
		count[l]++
	}
	idx := 0
	code := uint32(0)
	for l := 1; l <= huffMaxLen; l++ {
		huffFirst[l] = code
		huffOffset[l] = uint16(idx)
		for s := range huffmanLen {
			if int(huffmanLen[s]) == l {
				huffSorted[idx] = uint16(s)
				idx++
			}
		}
		code += uint32(count[l])
		huffLimit[l] = code << (huffMaxLen - l)
		code <<= 1
	}
	for s := range huffmanLen {
		l := uint(huffmanLen[s])
		if l > 8 {
			continue
		}
		base := huffmanCode[s] << (8 - l)
		for j := uint32(0); j < 1<<(8-l); j++ {
			huffShort[base+j] = struct{ sym, l uint16 }{uint16(s), uint16(l)}
		}
	}
}

// huffmanLookup returns the symbol whose code starts the 30-bit window w,
// and the code's length.
func huffmanLookup(w uint32) (sym uint16, l uint) {
	if e := huffShort[w>>(huffMaxLen-8)]; e.l != 0 {
		return e.sym, uint(e.l)
	}
	for l = 9; l <= huffMaxLen; l++ {
		if w < huffLimit[l] {
			return huffSorted[uint32(huffOffset[l])+w>>(huffMaxLen-l)-huffFirst[l]], l
		}
	}
	return huffmanEOS, huffMaxLen // unreachable: the code is complete
}

// appendHuffmanDecode appends the decoding of src to dst. It fails on EOS
// in the string, on padding longer than 7 bits or not all ones (RFC 7541
// §5.2), and with errFieldSectionTooLarge when the result would exceed
// maxLen bytes.
func appendHuffmanDecode(dst, src []byte, maxLen int) ([]byte, error) {
	start := len(dst)
	var acc uint64 // unread bits, right-aligned
	var n uint     // how many
	i := 0
	for {
		for n <= 56 && i < len(src) {
			acc = acc<<8 | uint64(src[i])
			i++
			n += 8
		}
		if n == 0 {
			return dst, nil
		}
		var w uint32
		if n >= huffMaxLen {
			w = uint32(acc>>(n-huffMaxLen)) & (1<<huffMaxLen - 1)
		} else {
			// Pad the tail with ones: a window that is all ones past the
			// end finds a code longer than what is left.
			w = uint32(acc<<(huffMaxLen-n))&(1<<huffMaxLen-1) | (1<<(huffMaxLen-n) - 1)
		}
		sym, l := huffmanLookup(w)
		if l > n {
			// What is left must be padding: at most 7 bits, all ones.
			if n > 7 || acc&(1<<n-1) != 1<<n-1 {
				return dst, errHuffman
			}
			return dst, nil
		}
		if sym == huffmanEOS {
			return dst, errHuffman
		}
		if len(dst)-start >= maxLen {
			return dst, errFieldSectionTooLarge
		}
		dst = append(dst, byte(sym))
		n -= l
		acc &= 1<<n - 1
	}
}
