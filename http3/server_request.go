package http3

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/tsumugi-quic/tsumugi/quic"
	"github.com/tsumugi-quic/tsumugi/stream"
)

// serveRequest reads a request from st, runs the handler and sends the
// response.
func (sc *serverConn) serveRequest(connCtx context.Context, st *stream.Stream) {
	id := st.ID()
	defer sc.done(id)
	fr := newFrameReader(st)
	fb, err := sc.readRequestHeaders(fr)
	start := time.Now()
	if err == nil {
		err = validateRequest(fb)
	}
	if err != nil {
		if sc.requestFailed(st, err) {
			st.WaitAcked(connCtx)
			sc.srv.Metrics.HTTP3Request(http.StatusRequestHeaderFieldsTooLarge, time.Since(start))
		}
		return
	}
	ctx, cancel := context.WithCancel(connCtx)
	defer cancel()
	ctx = context.WithValue(ctx, http.LocalAddrContextKey, sc.qc.LocalAddr())
	req, body, err := sc.newRequest(ctx, st, fr, fb)
	if err != nil {
		sc.requestFailed(st, err)
		return
	}

	// The priority header (RFC 9218 §5), unless a PRIORITY_UPDATE came
	// first.
	prio := defaultPriority
	if vs := fb.header["Priority"]; len(vs) > 0 {
		prio, _ = parsePriority(strings.Join(vs, ","), defaultPriority)
	}
	sc.startPriority(id, prio)

	rw := newResponseWriter(sc, st, req)
	if code, ok := sc.runHandler(rw, req); !ok {
		// The handler panicked: abandon the response (§4.1.1).
		body.Close()
		st.CancelWrite(uint64(code))
		rw.release()
		sc.srv.Metrics.HTTP3Request(http.StatusInternalServerError, time.Since(start))
		return
	}
	rw.finish()
	// Whatever of the request the handler left unread, we do not need
	// (§4.1): STOP_SENDING with H3_NO_ERROR.
	body.Close()
	// Count the request as active until the client has the response, so
	// that a graceful shutdown does not cut it off.
	st.WaitAcked(connCtx)
	sc.srv.Metrics.HTTP3Request(rw.status, time.Since(start))
}

// runHandler calls the handler; on a panic it logs (unless
// http.ErrAbortHandler) and returns the code to reset the stream with.
func (sc *serverConn) runHandler(rw *responseWriter, req *http.Request) (code ErrCode, ok bool) {
	defer func() {
		if p := recover(); p != nil {
			code, ok = ErrCodeInternalError, false
			if p == http.ErrAbortHandler {
				code = ErrCodeRequestCancelled
				return
			}
			sc.srv.logf("http3: panic serving %v: %v\n%s", sc.qc.RemoteAddr(), p, debug.Stack())
		}
	}()
	sc.srv.handler().ServeHTTP(rw, req)
	return 0, true
}

// readRequestHeaders reads frames up to the request's HEADERS and decodes
// it. Only unknown frames may come first (§4.1).
func (sc *serverConn) readRequestHeaders(fr *frameReader) (*fieldBlock, error) {
	for {
		typ, length, err := fr.next()
		if err == io.EOF {
			return nil, streamError(ErrCodeRequestIncomplete, "stream ended before the request header")
		}
		if err != nil {
			return nil, err
		}
		switch typ {
		case frameHeaders:
			p, err := fr.readPayload(length, headersFrameLimit(sc.h.maxFieldSectionSize), errFieldSectionTooLarge)
			if err != nil {
				return nil, err
			}
			return decodeBlock(p, requestBlock, sc.h.maxFieldSectionSize)
		case frameData:
			return nil, connError(ErrCodeFrameUnexpected, "DATA before HEADERS")
		case framePushPromise:
			return nil, connError(ErrCodeFrameUnexpected, "PUSH_PROMISE from a client")
		default:
			return nil, connError(ErrCodeFrameUnexpected, "control frame on a request stream")
		}
	}
}

// validateRequest checks the request pseudo-header fields (RFC 9114
// §4.3.1, §4.4).
func validateRequest(fb *fieldBlock) error {
	if fb.pseudoSeen&seenMethod == 0 || !validFieldName(fb.method) {
		return malformed("missing or invalid :method")
	}
	if fb.pseudoSeen&seenProtocol != 0 {
		// Extended CONNECT (RFC 9220) needs SETTINGS_ENABLE_CONNECT_PROTOCOL,
		// which we do not send.
		return malformed(":protocol without SETTINGS_ENABLE_CONNECT_PROTOCOL")
	}
	host := fb.header.Get("Host")
	if fb.method == http.MethodConnect {
		// CONNECT names only the authority (§4.4).
		if fb.pseudoSeen&(seenScheme|seenPath) != 0 {
			return malformed("CONNECT with :scheme or :path")
		}
		if fb.authority == "" {
			return malformed("CONNECT without :authority")
		}
		return nil
	}
	if fb.pseudoSeen&seenScheme == 0 || fb.pseudoSeen&seenPath == 0 {
		return malformed("missing :scheme or :path")
	}
	if fb.scheme == "http" || fb.scheme == "https" {
		if fb.path == "" {
			return malformed("empty :path")
		}
		if fb.path != "*" && fb.path[0] != '/' || fb.path == "*" && fb.method != http.MethodOptions {
			return malformed("invalid :path")
		}
		// The authority is mandatory for these schemes; :authority and
		// Host, when both present, must agree (§4.3.1).
		hasAuthority := fb.pseudoSeen&seenAuthority != 0
		if !hasAuthority && host == "" || hasAuthority && fb.authority == "" {
			return malformed("missing authority")
		}
		if hasAuthority && host != "" && host != fb.authority {
			return malformed(":authority and Host differ")
		}
		if strings.Contains(fb.authority, "@") {
			return malformed("userinfo in :authority")
		}
	}
	if vs := fb.header["Host"]; len(vs) > 1 {
		return malformed("repeated Host")
	}
	return nil
}

// newRequest builds the http.Request a handler sees.
func (sc *serverConn) newRequest(ctx context.Context, st *stream.Stream, fr *frameReader, fb *fieldBlock) (*http.Request, *bodyReader, error) {
	header := fb.header
	if header == nil {
		header = make(http.Header)
	}
	cl, err := contentLength(header)
	if err != nil {
		return nil, nil, err
	}
	host := fb.authority
	if host == "" {
		host = header.Get("Host")
	}
	header.Del("Host")
	var u *url.URL
	requestURI := fb.path
	if fb.method == http.MethodConnect {
		u = &url.URL{Host: fb.authority}
		requestURI = fb.authority
	} else if fb.path == "*" {
		u = &url.URL{Path: "*"}
	} else if u, err = url.ParseRequestURI(fb.path); err != nil {
		return nil, nil, malformed("unparsable :path")
	}
	cs := sc.qc.ConnectionState().TLS
	req := &http.Request{
		Method:        fb.method,
		URL:           u,
		Proto:         "HTTP/3.0",
		ProtoMajor:    3,
		Header:        header,
		ContentLength: cl,
		Host:          host,
		RemoteAddr:    sc.qc.RemoteAddr().String(),
		RequestURI:    requestURI,
		TLS:           &cs,
	}
	for _, v := range header["Trailer"] {
		for _, k := range strings.Split(v, ",") {
			if k = strings.TrimSpace(k); k != "" {
				if req.Trailer == nil {
					req.Trailer = make(http.Header)
				}
				req.Trailer[http.CanonicalHeaderKey(k)] = nil
			}
		}
	}
	body := &bodyReader{
		fr:            fr,
		conn:          sc.h,
		closeCode:     ErrCodeNoError,
		contentLength: cl,
		cancel: func(code ErrCode) {
			st.CancelRead(uint64(code))
			if code != ErrCodeNoError {
				st.CancelWrite(uint64(code))
			}
		},
		trailer: func(h http.Header) {
			if req.Trailer == nil {
				req.Trailer = make(http.Header, len(h))
			}
			for k, vs := range h {
				req.Trailer[k] = vs
			}
		},
	}
	req.Body = body
	return req.WithContext(ctx), body, nil
}

// requestFailed handles a request that could not be read: a connection
// error closes the connection, a stream error resets the stream, an
// oversized header section gets 431 (RFC 9114 §4.2.2). It reports whether
// it answered with a status.
func (sc *serverConn) requestFailed(st *stream.Stream, err error) (answered bool) {
	switch {
	case errors.Is(err, errFieldSectionTooLarge):
		b := appendFieldSectionPrefix(nil)
		b = appendFieldLine(b, ":status", statusStrings[http.StatusRequestHeaderFieldsTooLarge], false)
		frame := appendFrameHeader(nil, frameHeaders, uint64(len(b)))
		st.Write(append(frame, b...))
		st.CloseWrite()
		st.CancelRead(uint64(ErrCodeNoError))
		return true
	case asConnError(err) != nil:
		sc.srv.logf("http3: connection error from %v: %v", sc.qc.RemoteAddr(), err)
		sc.h.fail(asConnError(err))
	case asStreamError(err) != nil:
		code := uint64(asStreamError(err).Code)
		st.CancelRead(code)
		st.CancelWrite(code)
	default:
		// The client reset the stream or the connection is gone.
		st.CancelRead(uint64(ErrCodeNoError))
		st.CancelWrite(uint64(ErrCodeRequestCancelled))
	}
	return false
}

// connEndError maps why a connection ended to what ServeConn returns: nil
// for a graceful end (either side closing with H3_NO_ERROR, or code 0 from
// a plain QUIC close), the cause otherwise.
func connEndError(cause error) error {
	var ae *quic.ApplicationError
	if errors.As(cause, &ae) && (ae.Code == uint64(ErrCodeNoError) || ae.Code == 0) {
		return nil
	}
	return cause
}
