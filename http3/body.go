package http3

import (
	"errors"
	"io"
	"net/http"
	"sync/atomic"
)

// bodyReader reads a message's content from the DATA frames of a request
// stream, then its trailer section, if any (RFC 9114 §4.1). It serves as
// http.Request.Body on the server and http.Response.Body on the client.
type bodyReader struct {
	fr   *frameReader
	conn *h3conn

	// cancel abandons the stream in both directions with a code: after a
	// stream error, and (closeCode) when the body is closed early.
	cancel    func(code ErrCode)
	closeCode ErrCode

	// contentLength is the declared length, -1 if none or not to be
	// checked; the DATA frames must add up to it (§4.1.2).
	contentLength int64
	n             int64  // content bytes read
	remaining     uint64 // unread bytes of the current DATA frame

	// trailer receives the trailer section (never pseudo-header fields).
	trailer      func(http.Header)
	sawTrailers  bool
	err          error       // sticky: io.EOF or the failure; the reader's
	eof          atomic.Bool // the message was read to its clean end
	closed       atomic.Bool // Close was called
	onDone       func()      // called once, at EOF, failure or Close
	doneNotified atomic.Bool
}

// errBodyClosed is what Read returns after Close.
var errBodyClosed = errors.New("http3: read on closed body")

// Read reads content bytes; io.EOF once the stream ended cleanly after a
// complete message.
func (b *bodyReader) Read(p []byte) (int, error) {
	if b.closed.Load() {
		return 0, errBodyClosed
	}
	if b.err != nil {
		return 0, b.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	for b.remaining == 0 {
		if err := b.nextFrame(); err != nil {
			return 0, b.setErr(err)
		}
	}
	if uint64(len(p)) > b.remaining {
		p = p[:b.remaining]
	}
	n, err := b.fr.br.Read(p)
	b.remaining -= uint64(n)
	b.n += int64(n)
	if b.contentLength >= 0 && b.n > b.contentLength {
		return 0, b.setErr(malformed("content exceeds content-length"))
	}
	if err != nil {
		return n, b.setErr(midFrame(err))
	}
	return n, nil
}

// nextFrame reads frames up to the next DATA payload, or the end.
func (b *bodyReader) nextFrame() error {
	typ, length, err := b.fr.next()
	if err == io.EOF {
		if b.contentLength >= 0 && b.n != b.contentLength {
			return malformed("content shorter than content-length")
		}
		return io.EOF
	}
	if err != nil {
		return err
	}
	switch typ {
	case frameData:
		if b.sawTrailers {
			return connError(ErrCodeFrameUnexpected, "DATA after trailers")
		}
		b.remaining = length
		return nil
	case frameHeaders:
		if b.sawTrailers {
			return connError(ErrCodeFrameUnexpected, "HEADERS after trailers")
		}
		b.sawTrailers = true
		p, err := b.fr.readPayload(length, headersFrameLimit(b.conn.maxFieldSectionSize), errFieldSectionTooLarge)
		if err != nil {
			return trailerSizeError(err)
		}
		fb, err := decodeBlock(p, trailerBlock, b.conn.maxFieldSectionSize)
		if err != nil {
			return trailerSizeError(err)
		}
		if b.trailer != nil && fb.header != nil {
			b.trailer(fb.header)
		}
		return nil
	case framePushPromise:
		if !b.conn.isServer {
			return b.fr.readPushPromise(length, headersFrameLimit(b.conn.maxFieldSectionSize))
		}
		return connError(ErrCodeFrameUnexpected, "PUSH_PROMISE from a client")
	default:
		// SETTINGS, GOAWAY, MAX_PUSH_ID, CANCEL_PUSH, PRIORITY_UPDATE
		// belong on the control stream (§7.2, RFC 9218 §7.2).
		return connError(ErrCodeFrameUnexpected, "control frame on a request stream")
	}
}

// trailerSizeError turns an oversized trailer section into a stream error.
func trailerSizeError(err error) error {
	if errors.Is(err, errFieldSectionTooLarge) {
		return streamError(ErrCodeExcessiveLoad, "trailer section too large")
	}
	return err
}

// setErr records the body's end: a connection error closes the
// connection, a stream error abandons the stream, a peer's reset becomes
// an *Error with Remote set.
func (b *bodyReader) setErr(err error) error {
	switch {
	case err == io.EOF:
		b.eof.Store(true)
	case asConnError(err) != nil:
		b.conn.fail(asConnError(err))
	case asStreamError(err) != nil:
		b.cancel(asStreamError(err).Code)
	default:
		if b.closed.Load() {
			err = errBodyClosed
		} else {
			err = peerStreamError(err)
		}
	}
	b.err = err
	b.done()
	return err
}

// Close abandons the rest of the body: STOP_SENDING with closeCode unless
// it was read to the end.
func (b *bodyReader) Close() error {
	if b.closed.Swap(true) {
		return nil
	}
	if !b.eof.Load() {
		b.cancel(b.closeCode)
	}
	b.done()
	return nil
}

func (b *bodyReader) done() {
	if b.onDone != nil && !b.doneNotified.Swap(true) {
		b.onDone()
	}
}

// headersFrameLimit is the largest HEADERS payload we read for a field
// section limit: an encoding can exceed the decoded size (Huffman codes
// up to 30 bits a byte, literal names), but not by more than this.
func headersFrameLimit(maxFieldSectionSize uint64) uint64 {
	return min(maxFieldSectionSize, 1<<40)*4 + 1024
}
