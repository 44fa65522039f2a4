package udpio

import "iter"

// Segments yields the datagrams in m: Buf[:N] whole when SegSize is 0,
// else consecutive SegSize-byte pieces, the last possibly shorter. A
// zero-length datagram yields one empty slice.
func (m *Message) Segments() iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		b := m.Buf[:max(0, min(m.N, len(m.Buf)))]
		seg := m.SegSize
		if seg <= 0 || seg >= len(b) {
			yield(b)
			return
		}
		for len(b) > seg {
			if !yield(b[:seg:seg]) {
				return
			}
			b = b[seg:]
		}
		yield(b)
	}
}
