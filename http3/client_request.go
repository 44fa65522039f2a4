package http3

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/tsumugi-quic/tsumugi/stream"
)

// maxInterimResponses bounds the 1xx responses we skip before the final
// one.
const maxInterimResponses = 16

// requestBodyBufSize is the DATA frame payload a request body is sent in.
const requestBodyBufSize = 16 << 10

// dataHeaderRoom is the room kept in front of a body chunk for its DATA
// frame header (type and a length of up to 8 bytes).
const dataHeaderRoom = 9

var requestBodyPool = sync.Pool{New: func() any { b := make([]byte, dataHeaderRoom+requestBodyBufSize); return &b }}

// clientStream is one request in progress.
type clientStream struct {
	cc       *clientConn
	st       *stream.Stream
	rejected atomic.Bool // the server's GOAWAY excluded it
}

// abort abandons the stream in both directions (RFC 9114 §4.1.1).
func (cs *clientStream) abort(code ErrCode) {
	cs.st.CancelRead(uint64(code))
	cs.st.CancelWrite(uint64(code))
}

// reject abandons a request the server's GOAWAY says it will not process.
func (cs *clientStream) reject() {
	cs.rejected.Store(true)
	cs.abort(ErrCodeRequestCancelled)
}

var errConnUnusable = errors.New("http3: connection closing")

// roundTrip sends req on a new stream of cc and reads the response header.
func (cc *clientConn) roundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if !cc.reserve() {
		return nil, &retryableError{err: errConnUnusable}
	}
	st, err := cc.qc.OpenStream(ctx)
	if err != nil {
		cc.unreserve()
		if ctx.Err() != nil {
			closeBody(req)
			return nil, ctx.Err()
		}
		if cc.qc.Context().Err() != nil {
			return nil, &retryableError{err: err}
		}
		closeBody(req)
		return nil, err
	}
	cs := &clientStream{cc: cc, st: st}
	if !cc.register(cs) {
		cs.abort(ErrCodeRequestCancelled)
		return nil, &retryableError{err: errConnUnusable}
	}

	hasBody := req.Body != nil && req.Body != http.NoBody
	section, err := cc.encodeRequestHeaders(req, hasBody)
	if err == nil {
		frame := appendFrameHeader(nil, frameHeaders, uint64(len(section)))
		_, err = st.Write(append(frame, section...))
	}
	if err != nil {
		cs.abort(ErrCodeRequestCancelled)
		cc.finished(cs)
		closeBody(req)
		return nil, peerStreamError(err)
	}
	if hasBody || len(req.Trailer) > 0 {
		cc.wg.Add(1)
		go func() {
			defer cc.wg.Done()
			cs.sendBody(req)
		}()
	} else {
		st.CloseWrite()
		closeBody(req)
	}

	// Cancelling the request abandons the stream; blocked reads return.
	stop := context.AfterFunc(ctx, func() { cs.abort(ErrCodeRequestCancelled) })
	resp, err := cs.readResponse(req)
	if err != nil {
		stop()
		if e := asStreamError(err); e != nil {
			cs.abort(e.Code)
		} else {
			cs.abort(ErrCodeRequestCancelled)
		}
		cc.finished(cs)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var he *Error
		if cs.rejected.Load() || errors.As(err, &he) && he.Remote && he.Code == ErrCodeRequestRejected {
			return nil, &retryableError{err: err, bodySent: hasBody}
		}
		return nil, err
	}
	resp.Body.(*bodyReader).onDone = func() {
		stop()
		cc.finished(cs)
	}
	return resp, nil
}

// readResponse reads up to the final response's header: interim (1xx)
// responses are skipped (RFC 9114 §4.1).
func (cs *clientStream) readResponse(req *http.Request) (*http.Response, error) {
	cc := cs.cc
	fr := newFrameReader(cs.st)
	for interim := 0; ; {
		typ, length, err := fr.next()
		if err == io.EOF {
			return nil, errors.New("http3: stream ended before the response header")
		}
		if err != nil {
			return nil, cs.readError(err)
		}
		switch typ {
		case frameHeaders:
		case frameData:
			return nil, cs.readError(connError(ErrCodeFrameUnexpected, "DATA before HEADERS"))
		case framePushPromise:
			return nil, cs.readError(fr.readPushPromise(length, headersFrameLimit(cc.h.maxFieldSectionSize)))
		default:
			return nil, cs.readError(connError(ErrCodeFrameUnexpected, "control frame on a request stream"))
		}
		p, err := fr.readPayload(length, headersFrameLimit(cc.h.maxFieldSectionSize), errFieldSectionTooLarge)
		if err != nil {
			return nil, cs.readError(err)
		}
		fb, err := decodeBlock(p, responseBlock, cc.h.maxFieldSectionSize)
		if err != nil {
			return nil, cs.readError(err)
		}
		if fb.pseudoSeen&seenStatus == 0 {
			return nil, malformed("response without :status")
		}
		status, ok := parseStatus(fb.status)
		if !ok || status == http.StatusSwitchingProtocols {
			// HTTP/3 has no 101 (§4.5).
			return nil, malformed("invalid :status")
		}
		if status < 200 {
			if interim++; interim > maxInterimResponses {
				return nil, errors.New("http3: too many interim responses")
			}
			continue
		}
		return cs.newResponse(req, fr, fb, status)
	}
}

// readError maps an error reading the response: connection errors close
// the connection, a peer's reset becomes an *Error.
func (cs *clientStream) readError(err error) error {
	if errors.Is(err, errFieldSectionTooLarge) {
		return errors.New("http3: response header exceeds MaxResponseHeaderBytes")
	}
	if cs.cc.h.failIfConnError(err) {
		return err
	}
	return peerStreamError(err)
}

// newResponse builds the http.Response for a final status.
func (cs *clientStream) newResponse(req *http.Request, fr *frameReader, fb *fieldBlock, status int) (*http.Response, error) {
	header := fb.header
	if header == nil {
		header = make(http.Header)
	}
	cl, err := contentLength(header)
	if err != nil {
		return nil, err
	}
	bodyCL := cl
	noBody := req.Method == http.MethodHead || status == http.StatusNoContent || status == http.StatusNotModified
	if noBody {
		bodyCL = -1 // declares the size of content not sent
		if cl < 0 && status != http.StatusNotModified && req.Method != http.MethodHead {
			cl = 0
		}
	}
	cs2 := cs.cc.qc.ConnectionState().TLS
	resp := &http.Response{
		Status:        statusStrings[status] + " " + http.StatusText(status),
		StatusCode:    status,
		Proto:         "HTTP/3.0",
		ProtoMajor:    3,
		Header:        header,
		ContentLength: cl,
		Request:       req,
		TLS:           &cs2,
	}
	for _, v := range header["Trailer"] {
		for _, k := range strings.Split(v, ",") {
			if k = strings.TrimSpace(k); k != "" {
				if resp.Trailer == nil {
					resp.Trailer = make(http.Header)
				}
				resp.Trailer[http.CanonicalHeaderKey(k)] = nil
			}
		}
	}
	resp.Body = &bodyReader{
		fr:            fr,
		conn:          cs.cc.h,
		cancel:        cs.abort,
		closeCode:     ErrCodeRequestCancelled,
		contentLength: bodyCL,
		trailer: func(h http.Header) {
			if resp.Trailer == nil {
				resp.Trailer = make(http.Header, len(h))
			}
			for k, vs := range h {
				resp.Trailer[k] = vs
			}
		},
	}
	return resp, nil
}

// encodeRequestHeaders encodes the request's header section (RFC 9114
// §4.3.1): the pseudo-header fields, then the header fields lowercased,
// without connection-specific ones (§4.2).
func (cc *clientConn) encodeRequestHeaders(req *http.Request, hasBody bool) ([]byte, error) {
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	if !validFieldName(method) {
		return nil, errors.New("http3: invalid method " + strconv.Quote(method))
	}
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	if host == "" || !validFieldValue(host) || strings.ContainsAny(host, " @/") {
		return nil, errors.New("http3: invalid host " + strconv.Quote(host))
	}
	b := appendFieldSectionPrefix(nil)
	size := fieldLineSize(":method", method) + fieldLineSize(":authority", host)
	b = appendFieldLine(b, ":method", method, false)
	if method != http.MethodConnect {
		path := req.URL.RequestURI()
		if path == "" {
			path = "/"
		}
		b = appendFieldLine(b, ":scheme", "https", false)
		b = appendFieldLine(b, ":path", path, false)
		size += fieldLineSize(":scheme", "https") + fieldLineSize(":path", path)
	}
	b = appendFieldLine(b, ":authority", host, false)

	for k, vs := range req.Header {
		name := lowerKey(k)
		if !validFieldName(name) {
			return nil, errors.New("http3: invalid header field name " + strconv.Quote(k))
		}
		switch {
		case name == "host" || name == "content-length" || name == "trailer" || isConnectionSpecific(name):
			continue
		case name == "te":
			// Only "trailers" may be sent (§4.2).
			if !tokenListContains(vs, "trailers") {
				continue
			}
			vs = []string{"trailers"}
		}
		neverIndex := name == "authorization" || name == "proxy-authorization" || name == "cookie"
		for _, v := range vs {
			if !validFieldValue(v) {
				return nil, errors.New("http3: invalid value for header field " + strconv.Quote(k))
			}
			b = appendFieldLine(b, name, v, neverIndex)
			size += fieldLineSize(name, v)
		}
	}
	if cl := req.ContentLength; cl > 0 && hasBody || cl == 0 && !hasBody && methodExpectsBody(method) {
		v := strconv.FormatInt(cl, 10)
		b = appendFieldLine(b, "content-length", v, false)
		size += fieldLineSize("content-length", v)
	}
	if len(req.Trailer) > 0 {
		keys := make([]string, 0, len(req.Trailer))
		for k := range req.Trailer {
			keys = append(keys, http.CanonicalHeaderKey(k))
		}
		sort.Strings(keys)
		v := strings.Join(keys, ",")
		b = appendFieldLine(b, "trailer", v, false)
		size += fieldLineSize("trailer", v)
	}
	if limit := cc.h.peerSettings().maxFieldSectionSize; size > limit {
		return nil, errors.New("http3: request header exceeds the server's SETTINGS_MAX_FIELD_SECTION_SIZE")
	}
	return b, nil
}

func methodExpectsBody(m string) bool {
	return m == http.MethodPost || m == http.MethodPut || m == http.MethodPatch
}

// tokenListContains reports whether a comma-separated list holds token,
// case-insensitively.
func tokenListContains(values []string, token string) bool {
	for _, v := range values {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// sendBody sends the request content as DATA frames, then the trailers,
// then FIN. A failing body abandons the stream with H3_REQUEST_CANCELLED;
// a stream the server stopped reading ends it quietly (the response may
// still come, RFC 9114 §4.1).
func (cs *clientStream) sendBody(req *http.Request) {
	st := cs.st
	body := req.Body
	if body != nil {
		defer body.Close()
	}
	if body != nil && body != http.NoBody {
		bp := requestBodyPool.Get().(*[]byte)
		defer requestBodyPool.Put(bp)
		buf := *bp
		var sent int64
		var hdr [dataHeaderRoom]byte
		for {
			n, err := body.Read(buf[dataHeaderRoom:])
			if n > 0 {
				h := appendDataFrameHeader(hdr[:0], n)
				start := dataHeaderRoom - len(h)
				copy(buf[start:], h)
				if _, werr := st.Write(buf[start : dataHeaderRoom+n]); werr != nil {
					return
				}
				sent += int64(n)
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				st.CancelWrite(uint64(ErrCodeRequestCancelled))
				return
			}
		}
		if req.ContentLength > 0 && sent != req.ContentLength {
			st.CancelWrite(uint64(ErrCodeRequestCancelled))
			return
		}
	}
	if len(req.Trailer) > 0 {
		section := appendHeaderFields(appendFieldSectionPrefix(nil), req.Trailer, nil)
		frame := appendFrameHeader(nil, frameHeaders, uint64(len(section)))
		if _, err := st.Write(append(frame, section...)); err != nil {
			return
		}
	}
	st.CloseWrite()
}
