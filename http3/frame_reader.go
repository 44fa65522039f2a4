package http3

import (
	"bufio"
	"errors"
	"io"
)

// frameReader reads HTTP/3 frames from a stream. Frame types we do not
// know, reserved ones included, are skipped without being buffered
// (RFC 9114 §7.2.8, §9); HTTP/2's frame types are H3_FRAME_UNEXPECTED.
// Payloads are either read whole into a reused buffer, under a limit
// (readPayload), or streamed (DATA, by the body reader).
type frameReader struct {
	br  *bufio.Reader
	buf []byte // readPayload's buffer
}

// frameReaderBufSize is the read buffer of a stream: enough for frame
// headers and small frames; large DATA payloads bypass it.
const frameReaderBufSize = 4 << 10

func newFrameReader(r io.Reader) *frameReader {
	return &frameReader{br: bufio.NewReaderSize(r, frameReaderBufSize)}
}

// errTruncatedFrame: the stream ended cleanly inside a frame (RFC 9114
// §7.1).
var errTruncatedFrame = connError(ErrCodeFrameError, "stream ended inside a frame")

// readVarint reads a variable-length integer (RFC 9000 §16). At a clean
// end of stream before its first byte it returns io.EOF; after it,
// errTruncatedFrame.
func readVarint(br *bufio.Reader) (uint64, error) {
	first, err := br.ReadByte()
	if err != nil {
		return 0, err
	}
	n := 1 << (first >> 6)
	v := uint64(first & 0x3f)
	for i := 1; i < n; i++ {
		c, err := br.ReadByte()
		if err != nil {
			return 0, midFrame(err)
		}
		v = v<<8 | uint64(c)
	}
	return v, nil
}

// midFrame turns a clean end of stream inside a frame into
// errTruncatedFrame; other errors (a reset, the connection gone) stay.
func midFrame(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errTruncatedFrame
	}
	return err
}

// nextRaw reads one frame header of any type, returning its type and
// payload length; the payload is then the caller's to read (readPayload,
// discard, or DATA by the body reader). io.EOF means the stream ended
// cleanly between frames.
func (r *frameReader) nextRaw() (typ, length uint64, err error) {
	typ, err = readVarint(r.br)
	if err != nil {
		return 0, 0, err
	}
	length, err = readVarint(r.br)
	if err != nil {
		return 0, 0, midFrame(err)
	}
	return typ, length, nil
}

// next is nextRaw for the frame types we know: it skips the payloads of
// unknown and reserved types (RFC 9114 §9) and refuses HTTP/2's with
// H3_FRAME_UNEXPECTED.
func (r *frameReader) next() (typ, length uint64, err error) {
	for {
		typ, length, err = r.nextRaw()
		if err != nil || isKnownFrameType(typ) {
			return typ, length, err
		}
		if isHTTP2FrameType(typ) {
			return 0, 0, connError(ErrCodeFrameUnexpected, "HTTP/2 frame type")
		}
		if err := r.discard(length); err != nil {
			return 0, 0, err
		}
	}
}

// readPayload reads a whole payload of length bytes. Over limit, it fails
// with tooLarge and leaves the payload unread. The buffer grows with the
// bytes that actually arrive, not with what the Length field claims. The
// result is valid until the next call.
func (r *frameReader) readPayload(length, limit uint64, tooLarge error) ([]byte, error) {
	if length > limit {
		return nil, tooLarge
	}
	const step = 16 << 10
	p := r.buf[:0]
	for uint64(len(p)) < length {
		want := int(min(length-uint64(len(p)), step))
		if cap(p)-len(p) < want {
			grown := make([]byte, len(p), min(uint64(2*cap(p)+want), length))
			copy(grown, p)
			p = grown
		}
		n, err := io.ReadFull(r.br, p[len(p):len(p)+want])
		p = p[:len(p)+n]
		if err != nil {
			return nil, midFrame(err)
		}
	}
	r.buf = p
	return p, nil
}

// discard skips n bytes of payload.
func (r *frameReader) discard(n uint64) error {
	for n > 0 {
		chunk := int(min(n, 1<<30))
		d, err := r.br.Discard(chunk)
		n -= uint64(d)
		if err != nil {
			return midFrame(err)
		}
	}
	return nil
}
