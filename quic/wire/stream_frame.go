package wire

// StreamFrame is a STREAM frame, RFC 9000 §19.8.
type StreamFrame struct {
	StreamID uint64
	Offset   uint64
	Data     []byte // aliases the parsed packet
	Fin      bool
}

// StreamFrameHeaderLen returns the length of a STREAM frame's type, Stream ID,
// Offset and (when withLength) Length fields, for dataLen bytes of data at
// offset off. The Offset field is omitted when off is 0.
func StreamFrameHeaderLen(id, off uint64, dataLen int, withLength bool) int {
	n := 1 + VarintLen(id)
	if off != 0 {
		n += VarintLen(off)
	}
	if withLength {
		n += VarintLen(uint64(dataLen))
	}
	return n
}

// AppendStreamFrameHeader appends the fields of a STREAM frame that precede
// its data; the caller appends exactly dataLen bytes of data after it. This
// lets stream data be copied once, from the send buffer into the packet.
func AppendStreamFrameHeader(b []byte, id, off uint64, dataLen int, fin, withLength bool) []byte {
	t := byte(FrameTypeStream)
	if off != 0 {
		t |= streamBitOff
	}
	if withLength {
		t |= streamBitLen
	}
	if fin {
		t |= streamBitFin
	}
	b = append(b, t)
	b = AppendVarint(b, id)
	if off != 0 {
		b = AppendVarint(b, off)
	}
	if withLength {
		b = AppendVarint(b, uint64(dataLen))
	}
	return b
}

// Len returns the encoded length of f, with or without its Length field.
func (f *StreamFrame) Len(withLength bool) int {
	return StreamFrameHeaderLen(f.StreamID, f.Offset, len(f.Data), withLength) + len(f.Data)
}

// Append appends f. Without its Length field, the frame must be the last in
// its packet.
func (f *StreamFrame) Append(b []byte, withLength bool) []byte {
	b = AppendStreamFrameHeader(b, f.StreamID, f.Offset, len(f.Data), f.Fin, withLength)
	return append(b, f.Data...)
}

// StreamDataFit returns how many bytes of data fit in a STREAM frame for
// stream id at offset off that may take at most space bytes in all, and
// whether that frame must carry a Length field. With want bytes to send: if
// all of them fit with a Length field, the frame keeps its Length so that
// more frames can follow; if want is at least what a frame without a Length
// field can carry, the Length field is dropped and the frame takes exactly
// the rest of the packet (RFC 9000 §19.8). Otherwise (the Length field does
// not fit beside all of want) it returns the largest n < want that fits with
// a Length field; the rest goes in the next packet. It returns n < 0 if not
// even an empty frame fits. A negative want counts as 0.
//
// Invariants: a frame without a Length field takes exactly space bytes; a
// frame with one takes at most space bytes.
func StreamDataFit(id, off uint64, want, space int) (n int, withLength bool) {
	want = max(want, 0)
	hdr := StreamFrameHeaderLen(id, off, 0, false)
	if space < hdr {
		return -1, false
	}
	avail := space - hdr // data bytes without a Length field
	if want >= avail {
		return avail, false
	}
	// want < avail: with a Length field the frame may end before space, so
	// another frame may follow.
	if VarintLen(uint64(want))+want <= avail {
		return want, true
	}
	// The Length field does not fit beside all of want, and without it the
	// data would have to run to the end of space. Send the most that fits
	// with a Length field (fewer than want, avail >= 1 here).
	return maxPrefixedLen(avail), true
}

// ParseStreamFrame parses a STREAM frame at the start of b. Without a Length
// field the data runs to the end of b, so b must end where the packet's
// payload ends.
func ParseStreamFrame(b []byte) (StreamFrame, int, error) {
	var f StreamFrame
	if len(b) == 0 || !IsStreamFrameType(uint64(b[0])) {
		return f, 0, frameError(FrameEncodingError, FrameTypeStream, "not a STREAM frame")
	}
	t := uint64(b[0])
	n := 1
	id, m, err := ParseVarint(b[n:])
	if err != nil {
		return f, 0, frameError(FrameEncodingError, t, "truncated stream ID")
	}
	n += m
	f.StreamID = id
	if t&streamBitOff != 0 {
		off, m, err := ParseVarint(b[n:])
		if err != nil {
			return f, 0, frameError(FrameEncodingError, t, "truncated offset")
		}
		n += m
		f.Offset = off
	}
	var dataLen uint64
	if t&streamBitLen != 0 {
		l, m, err := ParseVarint(b[n:])
		if err != nil {
			return f, 0, frameError(FrameEncodingError, t, "truncated length")
		}
		n += m
		if l > uint64(len(b)-n) {
			return f, 0, frameError(FrameEncodingError, t, "data runs past the packet")
		}
		dataLen = l
	} else {
		dataLen = uint64(len(b) - n)
	}
	// RFC 9000 §19.8: the largest offset cannot exceed 2^62-1.
	if f.Offset+dataLen > MaxVarint {
		return f, 0, frameError(FrameEncodingError, t, "stream offset beyond 2^62-1")
	}
	f.Data = b[n : n+int(dataLen) : n+int(dataLen)]
	f.Fin = t&streamBitFin != 0
	return f, n + int(dataLen), nil
}
