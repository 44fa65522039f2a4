package wire

import "slices"

// PaddingFrame is a run of N PADDING frames, RFC 9000 §19.1: N zero bytes.
// Each byte is a frame of its own; a run is handled as one value.
type PaddingFrame struct {
	N int
}

// Len returns the encoded length of f: N bytes.
func (f *PaddingFrame) Len() int { return max(f.N, 0) }

// Append appends N zero bytes.
func (f *PaddingFrame) Append(b []byte) []byte {
	return AppendPadding(b, f.N)
}

// AppendPadding appends n PADDING frames (n zero bytes); n <= 0 appends
// nothing.
func AppendPadding(b []byte, n int) []byte {
	if n <= 0 {
		return b
	}
	b = slices.Grow(b, n)
	l := len(b)
	b = b[:l+n]
	clear(b[l:])
	return b
}

// ParsePadding returns the length of the run of PADDING frames (zero bytes)
// at the start of b; 0 if b does not start with one.
func ParsePadding(b []byte) int {
	for i, c := range b {
		if c != 0 {
			return i
		}
	}
	return len(b)
}

// ParsePaddingFrame parses the run of PADDING frames at the start of b. It
// fails only if b does not start with a PADDING frame.
func ParsePaddingFrame(b []byte) (PaddingFrame, int, error) {
	n := ParsePadding(b)
	if n == 0 {
		return PaddingFrame{}, 0, frameError(FrameEncodingError, FrameTypePadding, "not a PADDING frame")
	}
	return PaddingFrame{N: n}, n, nil
}
