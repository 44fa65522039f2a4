package wire

// DatagramFrame is a DATAGRAM frame, RFC 9221 §4: unreliable application
// data. Like a STREAM frame, the last frame of a packet may omit its Length
// field (type 0x30) and run to the end of the packet; otherwise it has one
// (type 0x31).
type DatagramFrame struct {
	Data []byte // aliases the parsed packet; may be empty
}

// DatagramFrameLen returns the encoded length of a DATAGRAM frame carrying
// dataLen bytes, with or without its Length field.
func DatagramFrameLen(dataLen int, withLength bool) int {
	n := 1 + dataLen
	if withLength {
		n += VarintLen(uint64(dataLen))
	}
	return n
}

// Len returns the encoded length of f, with or without its Length field.
func (f *DatagramFrame) Len(withLength bool) int {
	return DatagramFrameLen(len(f.Data), withLength)
}

// Append appends f. Without its Length field, the frame must be the last in
// its packet.
func (f *DatagramFrame) Append(b []byte, withLength bool) []byte {
	if withLength {
		b = append(b, byte(FrameTypeDatagramLen))
		b = AppendVarint(b, uint64(len(f.Data)))
	} else {
		b = append(b, byte(FrameTypeDatagram))
	}
	return append(b, f.Data...)
}

// ParseDatagramFrame parses a DATAGRAM frame (either type) at the start of
// b. Without a Length field the data runs to the end of b, so b must end
// where the packet's payload ends.
func ParseDatagramFrame(b []byte) (DatagramFrame, int, error) {
	if len(b) == 0 || (b[0] != byte(FrameTypeDatagram) && b[0] != byte(FrameTypeDatagramLen)) {
		return DatagramFrame{}, 0, frameError(FrameEncodingError, FrameTypeDatagram, "not a DATAGRAM frame")
	}
	t := FrameType(b[0])
	n := 1
	l := uint64(len(b) - n)
	if t == FrameTypeDatagramLen {
		var err error
		if l, err = readVarintField(b, &n, t, "truncated length"); err != nil {
			return DatagramFrame{}, 0, err
		}
	}
	data, err := readBytesField(b, &n, l, t, "data runs past the packet")
	if err != nil {
		return DatagramFrame{}, 0, err
	}
	return DatagramFrame{Data: data}, n, nil
}
