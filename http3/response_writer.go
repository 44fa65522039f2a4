package http3

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tsumugi-quic/tsumugi/stream"
)

// responseBufSize is how much content a response buffers before it sends
// a DATA frame; larger writes go out as frames of their own.
const responseBufSize = 16 << 10

var responseBufPool = sync.Pool{New: func() any { b := make([]byte, 0, responseBufSize); return &b }}

// responseWriter is the http.ResponseWriter of a request: HEADERS, DATA
// frames, then trailers in a second HEADERS (RFC 9114 §4.1). It also
// implements http.Flusher and what http.ResponseController looks for.
type responseWriter struct {
	sc  *serverConn
	st  *stream.Stream
	req *http.Request

	header      http.Header
	status      int
	wroteHeader bool // a final status is chosen
	sentHeader  bool // its HEADERS frame is written
	isHead      bool

	buf     *[]byte // pending content, from responseBufPool
	frame   []byte  // scratch for frame headers and field sections
	written int64   // content bytes accepted from the handler

	contentLength int64    // declared by the handler, -1 if not
	trailers      []string // declared by the Trailer header, canonical
	err           error    // sticky write error
}

func newResponseWriter(sc *serverConn, st *stream.Stream, req *http.Request) *responseWriter {
	return &responseWriter{
		sc:            sc,
		st:            st,
		req:           req,
		header:        make(http.Header),
		isHead:        req.Method == http.MethodHead,
		contentLength: -1,
	}
}

// Header returns the response header map; after the header is sent,
// changes matter only to trailers.
func (w *responseWriter) Header() http.Header { return w.header }

// WriteHeader sends an informational (1xx) header at once, or chooses the
// final status; the final header goes out with the first flush of content.
func (w *responseWriter) WriteHeader(code int) {
	if code < 100 || code > 999 {
		panic("http3: invalid WriteHeader code " + strconv.Itoa(code))
	}
	if w.wroteHeader {
		return
	}
	if code < 200 {
		if code == http.StatusSwitchingProtocols {
			// HTTP/3 has no Upgrade (RFC 9114 §4.5).
			w.sc.srv.logf("http3: handler wrote 101 Switching Protocols; ignored")
			return
		}
		w.writeHeaders(code, w.header, nil)
		return
	}
	w.wroteHeader = true
	w.status = code
	if cl, err := contentLength(w.header); err == nil {
		w.contentLength = cl
	}
}

// bodyAllowed reports whether the status may carry content (RFC 9110
// §6.4.1).
func (w *responseWriter) bodyAllowed() bool {
	return w.status != http.StatusNoContent && w.status != http.StatusNotModified && w.status >= 200
}

// Write buffers content, sending DATA frames as the buffer fills.
func (w *responseWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !w.bodyAllowed() {
		return 0, http.ErrBodyNotAllowed
	}
	if w.err != nil {
		return 0, w.err
	}
	if w.contentLength >= 0 && w.written+int64(len(p)) > w.contentLength {
		return 0, http.ErrContentLength
	}
	w.written += int64(len(p))
	if w.isHead {
		return len(p), nil
	}
	if w.buf == nil {
		w.buf = responseBufPool.Get().(*[]byte)
	}
	buf := *w.buf
	if len(buf)+len(p) <= cap(buf) {
		*w.buf = append(buf, p...)
		return len(p), nil
	}
	if err := w.flush(false); err != nil {
		return 0, err
	}
	if len(p) >= cap(buf) {
		if err := w.writeData(p); err != nil {
			return 0, err
		}
	} else {
		*w.buf = append((*w.buf)[:0], p...)
	}
	return len(p), nil
}

// WriteString is Write for a string.
func (w *responseWriter) WriteString(s string) (int, error) {
	return w.Write([]byte(s))
}

// Flush sends the header and the buffered content now (http.Flusher).
func (w *responseWriter) Flush() { w.FlushError() }

// FlushError is Flush that reports failure; http.ResponseController uses
// it.
func (w *responseWriter) FlushError() error {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	return w.flush(false)
}

// SetReadDeadline sets the deadline for reading the request body
// (http.ResponseController).
func (w *responseWriter) SetReadDeadline(t time.Time) error { return w.st.SetReadDeadline(t) }

// SetWriteDeadline sets the deadline for sending the response
// (http.ResponseController).
func (w *responseWriter) SetWriteDeadline(t time.Time) error { return w.st.SetWriteDeadline(t) }

// EnableFullDuplex is a no-op: an HTTP/3 handler may always read the
// request while writing the response (http.ResponseController).
func (w *responseWriter) EnableFullDuplex() error { return nil }

// flush sends the header if not yet sent, then the buffered content. final
// means the handler has returned, so a short response can get a
// Content-Length.
func (w *responseWriter) flush(final bool) error {
	if w.err != nil {
		return w.err
	}
	if !w.sentHeader {
		w.sentHeader = true
		h := w.finalHeader(final)
		if err := w.writeHeaders(w.status, h, w.isTrailer); err != nil {
			return err
		}
	}
	if w.buf != nil && len(*w.buf) > 0 {
		err := w.writeData(*w.buf)
		*w.buf = (*w.buf)[:0]
		return err
	}
	return nil
}

// finalHeader completes the header as net/http does: Date, a sniffed
// Content-Type, a Content-Length when the whole content is known; and it
// records the declared trailers.
func (w *responseWriter) finalHeader(final bool) http.Header {
	h := w.header
	if _, ok := h["Date"]; !ok {
		h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	}
	var pending []byte
	if w.buf != nil {
		pending = *w.buf
	}
	if w.bodyAllowed() {
		if _, ok := h["Content-Type"]; !ok && w.written > 0 && !w.isHead {
			h.Set("Content-Type", http.DetectContentType(pending))
		}
		if _, ok := h["Content-Length"]; !ok && final && (w.written > 0 || !w.isHead) {
			h.Set("Content-Length", strconv.FormatInt(w.written, 10))
			w.contentLength = w.written
		}
	}
	for _, v := range h["Trailer"] {
		for _, k := range strings.Split(v, ",") {
			if k = strings.TrimSpace(k); k != "" {
				w.trailers = append(w.trailers, http.CanonicalHeaderKey(k))
			}
		}
	}
	return h
}

// isTrailer reports header keys that belong to the trailer section.
func (w *responseWriter) isTrailer(lower string) bool {
	if strings.HasPrefix(lower, "trailer:") { // http.TrailerPrefix, lowercased
		return true
	}
	for _, t := range w.trailers {
		if strings.EqualFold(t, lower) {
			return true
		}
	}
	return false
}

// writeHeaders sends a HEADERS frame with :status (when status > 0) and
// the fields of h.
func (w *responseWriter) writeHeaders(status int, h http.Header, skip func(string) bool) error {
	section := appendFieldSectionPrefix(w.frame[:0])
	if status > 0 {
		section = appendFieldLine(section, ":status", statusStrings[status], false)
	}
	section = appendHeaderFields(section, h, skip)
	if limit := w.sc.h.peerSettings().maxFieldSectionSize; headerFieldsSize(h) > limit {
		// The client said it would not take it (§4.2.2): fail the
		// response rather than send what it will refuse.
		w.sc.srv.logf("http3: response header section exceeds the client's limit of %d bytes", limit)
		w.st.CancelWrite(uint64(ErrCodeInternalError))
		w.err = http.ErrAbortHandler
		return w.err
	}
	// The frame header goes in front of the section: build it after.
	n := len(section)
	out := appendFrameHeader(section, frameHeaders, uint64(n))
	out = append(out, section[:n]...)
	w.frame = out[:0]
	_, err := w.st.Write(out[n:])
	return w.setErr(err)
}

// writeData sends p as one DATA frame.
func (w *responseWriter) writeData(p []byte) error {
	hdr := appendDataFrameHeader(w.frame[:0], len(p))
	if len(p) <= 1024 {
		// Small: one Write for header and content.
		hdr = append(hdr, p...)
		w.frame = hdr[:0]
		_, err := w.st.Write(hdr)
		return w.setErr(err)
	}
	w.frame = hdr[:0]
	if _, err := w.st.Write(hdr); err != nil {
		return w.setErr(err)
	}
	_, err := w.st.Write(p)
	return w.setErr(err)
}

func (w *responseWriter) setErr(err error) error {
	if err != nil && w.err == nil {
		w.err = peerStreamError(err)
	}
	return w.err
}

// finish completes the response after the handler returned: the rest of
// the content, the trailers, then FIN. A response shorter than its
// declared Content-Length is abandoned with H3_INTERNAL_ERROR instead, so
// that the client does not take it for complete.
func (w *responseWriter) finish() {
	defer w.release()
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if err := w.flush(true); err != nil {
		return
	}
	if w.bodyAllowed() && !w.isHead && w.contentLength >= 0 && w.written < w.contentLength {
		w.st.CancelWrite(uint64(ErrCodeInternalError))
		return
	}
	trailer := w.trailerFields()
	if len(trailer) > 0 {
		if err := w.writeHeaders(0, trailer, nil); err != nil {
			return
		}
	}
	w.st.CloseWrite()
}

// trailerFields collects the trailer section: the declared trailers, and
// header keys with http.TrailerPrefix.
func (w *responseWriter) trailerFields() http.Header {
	var t http.Header
	add := func(k string, vs []string) {
		if t == nil {
			t = make(http.Header)
		}
		t[k] = append(t[k], vs...)
	}
	for _, k := range w.trailers {
		if vs := w.header[k]; len(vs) > 0 {
			add(k, vs)
		}
	}
	for k, vs := range w.header {
		if strings.HasPrefix(k, http.TrailerPrefix) && len(vs) > 0 {
			add(http.CanonicalHeaderKey(k[len(http.TrailerPrefix):]), vs)
		}
	}
	return t
}

// release returns the content buffer to its pool.
func (w *responseWriter) release() {
	if w.buf != nil {
		*w.buf = (*w.buf)[:0]
		responseBufPool.Put(w.buf)
		w.buf = nil
	}
}
