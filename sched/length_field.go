package sched

import "github.com/tsumugi-quic/tsumugi/quic/wire"

// STREAM frame type bits, RFC 9000 §19.8.
const (
	streamBitLen = 0x02
	streamBitOff = 0x04
)

var zeros [8]byte

// setLengthField gives the STREAM frame that starts at b[start] and runs to
// the end of b a Length field, moving its data up by the field's size, and
// returns the extended slice.
//
// A stream drops the Length field when its frame fills the room it was
// offered exactly (RFC 9000 §19.8: then the data runs to the end of the
// packet). When the scheduler offered less than the packet's room, to end a
// stream's turn, another frame follows and the Length field is needed.
//
// The frame comes from our own stream code; if it is not a STREAM frame
// without Length, or is cut short, b is returned unchanged.
func setLengthField(b []byte, start int) []byte {
	if start < 0 || start >= len(b) {
		return b
	}
	t := b[start]
	if !wire.IsStreamFrameType(uint64(t)) || t&streamBitLen != 0 {
		return b
	}
	hdr := start + 1
	_, n, err := wire.ParseVarint(b[hdr:]) // Stream ID
	if err != nil {
		return b
	}
	hdr += n
	if t&streamBitOff != 0 {
		_, n, err = wire.ParseVarint(b[hdr:]) // Offset
		if err != nil {
			return b
		}
		hdr += n
	}
	dataLen := len(b) - hdr
	l := wire.VarintLen(uint64(dataLen))
	b = append(b, zeros[:l]...)
	copy(b[hdr+l:], b[hdr:hdr+dataLen])
	wire.PutVarintN(b[hdr:hdr+l], uint64(dataLen), l)
	b[start] = t | streamBitLen
	return b
}
