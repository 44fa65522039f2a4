package http3

// The peer's QPACK encoder and decoder streams (RFC 9204 §4.2). With our
// dynamic table capacity at 0 and our encoder never using the peer's
// table, almost nothing is valid on them; we read them anyway, as we must
// not let them block and must notice their closure.

// readQPACKEncoderStream reads the peer's encoder stream (instructions to
// our decoder, RFC 9204 §4.3) until it fails. Only Set Dynamic Table
// Capacity to 0 is acceptable: a larger capacity exceeds our maximum of 0
// (§4.3.1), and every insertion or duplication needs a table with room
// (§3.2.2, §4.3.2-§4.3.4). Those are QPACK_ENCODER_STREAM_ERROR.
func readQPACKEncoderStream(r byteReader) error {
	for {
		c, err := r.ReadByte()
		if err != nil {
			return err
		}
		if c&0xe0 != 0x20 {
			return connError(ErrCodeQPACKEncoderStreamError, "dynamic table insertion with capacity 0")
		}
		capacity, err := readPrefixedInt(c, 5, r)
		if err != nil {
			return encoderStreamIntError(err, ErrCodeQPACKEncoderStreamError)
		}
		if capacity != 0 {
			return connError(ErrCodeQPACKEncoderStreamError, "dynamic table capacity above our maximum of 0")
		}
	}
}

// readQPACKDecoderStream reads the peer's decoder stream (instructions to
// our encoder, RFC 9204 §4.4) until it fails. Stream Cancellation is
// harmless. Our field sections all have Required Insert Count 0 and we
// insert nothing, so any Section Acknowledgment (§4.4.1) or Insert Count
// Increment (§4.4.3) is QPACK_DECODER_STREAM_ERROR.
func readQPACKDecoderStream(r byteReader) error {
	for {
		c, err := r.ReadByte()
		if err != nil {
			return err
		}
		switch {
		case c&0x80 != 0:
			return connError(ErrCodeQPACKDecoderStreamError, "Section Acknowledgment for a section without dynamic references")
		case c&0x40 != 0:
			if _, err := readPrefixedInt(c, 6, r); err != nil {
				return encoderStreamIntError(err, ErrCodeQPACKDecoderStreamError)
			}
		default:
			return connError(ErrCodeQPACKDecoderStreamError, "Insert Count Increment, but we insert nothing")
		}
	}
}

// encoderStreamIntError maps an error reading an instruction's integer:
// one too large is the stream's error code (RFC 9204 §4.1.1); read errors
// stay (the end of the stream is the caller's concern).
func encoderStreamIntError(err error, code ErrCode) error {
	if err == errIntOverflow {
		return connError(code, "integer too large")
	}
	return err
}
