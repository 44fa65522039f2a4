package http3

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/tsumugi-quic/tsumugi/quic"
	"github.com/tsumugi-quic/tsumugi/quic/wire"
	"github.com/tsumugi-quic/tsumugi/stream"
)

// rawClient is a hand-driven HTTP/3 client for protocol tests: it writes
// exactly the bytes a test wants.
type rawClient struct {
	t   *testing.T
	ctx context.Context
	qc  *quic.Conn
}

func dialRaw(t *testing.T, e *testEnv) *rawClient {
	t.Helper()
	ctx := testContext(t)
	qc, err := quic.Dial(ctx, "udp", e.ln.Addr().String(), &tls.Config{RootCAs: e.pool, NextProtos: []string{NextProtoH3}, ServerName: "localhost"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { qc.CloseWithError(0, "") })
	return &rawClient{t: t, ctx: ctx, qc: qc}
}

// uni opens a unidirectional stream and writes b on it.
func (c *rawClient) uni(b []byte) *stream.SendStream {
	c.t.Helper()
	s, err := c.qc.OpenUniStream(c.ctx)
	if err != nil {
		c.t.Fatal(err)
	}
	if _, err := s.Write(b); err != nil {
		c.t.Fatal(err)
	}
	return s
}

// control opens a valid control stream (type, SETTINGS) followed by more.
func (c *rawClient) control(more ...[]byte) *stream.SendStream {
	b := appendSettingsFrame([]byte{streamTypeControl}, []setting{{settingMaxFieldSectionSize, 1 << 16}})
	for _, m := range more {
		b = append(b, m...)
	}
	return c.uni(b)
}

// request opens a request stream, writes b and, with fin, closes it.
func (c *rawClient) request(b []byte, fin bool) *stream.Stream {
	c.t.Helper()
	s, err := c.qc.OpenStream(c.ctx)
	if err != nil {
		c.t.Fatal(err)
	}
	if _, err := s.Write(b); err != nil {
		c.t.Fatal(err)
	}
	if fin {
		s.CloseWrite()
	}
	return s
}

// closedWith waits for the connection to end and returns the application
// error code the server closed it with.
func (c *rawClient) closedWith() ErrCode {
	c.t.Helper()
	<-c.qc.Context().Done()
	var ae *quic.ApplicationError
	if !errors.As(context.Cause(c.qc.Context()), &ae) || !ae.Remote {
		c.t.Fatalf("connection ended with %v, want an application error from the server", context.Cause(c.qc.Context()))
	}
	return ErrCode(ae.Code)
}

// serverControl accepts the server's control stream and checks that it
// starts with SETTINGS.
func (c *rawClient) serverControl() *frameReader {
	c.t.Helper()
	for {
		s, err := c.qc.AcceptUniStream(c.ctx)
		if err != nil {
			c.t.Fatal(err)
		}
		fr := newFrameReader(s)
		typ, err := readVarint(fr.br)
		if err != nil || typ != streamTypeControl {
			continue
		}
		ft, l, err := fr.nextRaw()
		if err != nil || ft != frameSettings {
			c.t.Fatalf("server control stream starts with %#x, %v", ft, err)
		}
		p, _ := fr.readPayload(l, 1<<16, nil)
		list, err := parseSettings(p)
		if err != nil {
			c.t.Fatal(err)
		}
		var ps = defaultPeerSettings()
		ps.apply(list)
		if ps.qpackMaxTableCapacity != 0 || ps.maxFieldSectionSize != defaultMaxHeaderBytes {
			c.t.Fatalf("server settings %+v", ps)
		}
		return fr
	}
}

func headersFrame(fields ...field) []byte {
	section := encodeAll(fields)
	return append(appendFrameHeader(nil, frameHeaders, uint64(len(section))), section...)
}

func rawHeadersFrame(section []byte) []byte {
	return append(appendFrameHeader(nil, frameHeaders, uint64(len(section))), section...)
}

func getFields(path string) []field {
	return []field{{":method", "GET"}, {":scheme", "https"}, {":authority", "localhost"}, {":path", path}}
}

func varints(vs ...uint64) []byte {
	var b []byte
	for _, v := range vs {
		b = wire.AppendVarint(b, v)
	}
	return b
}

func echoHandler(w http.ResponseWriter, r *http.Request) {
	io.Copy(w, r.Body)
}

// TestServerConnectionErrors drives the server into each connection error
// RFC 9114 and RFC 9204 define for a client's misbehaviour.
func TestServerConnectionErrors(t *testing.T) {
	grease := appendGreaseFrame(nil)
	tests := []struct {
		name string
		do   func(c *rawClient)
		want ErrCode
	}{
		{"control stream without SETTINGS", func(c *rawClient) {
			c.uni(appendVarintFrame([]byte{streamTypeControl}, frameGoAway, 0))
		}, ErrCodeMissingSettings},
		{"reserved frame before SETTINGS", func(c *rawClient) {
			c.uni(append([]byte{streamTypeControl}, appendFrameHeader(nil, 0x21, 0)...))
		}, ErrCodeMissingSettings},
		{"second control stream", func(c *rawClient) {
			c.control()
			c.control()
		}, ErrCodeStreamCreationError},
		{"push stream from a client", func(c *rawClient) {
			c.control()
			c.uni([]byte{streamTypePush, 0})
		}, ErrCodeStreamCreationError},
		{"second SETTINGS", func(c *rawClient) {
			c.control(appendSettingsFrame(nil, nil))
		}, ErrCodeFrameUnexpected},
		{"duplicate setting", func(c *rawClient) {
			c.uni(appendSettingsFrame([]byte{streamTypeControl}, []setting{{6, 1}, {6, 1}}))
		}, ErrCodeSettingsError},
		{"HTTP/2 setting", func(c *rawClient) {
			c.uni(appendSettingsFrame([]byte{streamTypeControl}, []setting{{0x04, 65535}}))
		}, ErrCodeSettingsError},
		{"DATA on the control stream", func(c *rawClient) {
			c.control(appendDataFrameHeader(nil, 0))
		}, ErrCodeFrameUnexpected},
		{"HTTP/2 WINDOW_UPDATE on the control stream", func(c *rawClient) {
			c.control(append(appendFrameHeader(nil, 0x08, 4), 0, 0, 0, 1))
		}, ErrCodeFrameUnexpected},
		{"control stream closed", func(c *rawClient) {
			c.control(grease).Close()
		}, ErrCodeClosedCriticalStream},
		{"CANCEL_PUSH never promised", func(c *rawClient) {
			c.control(appendVarintFrame(nil, frameMaxPushID, 10), appendVarintFrame(nil, frameCancelPush, 1))
		}, ErrCodeIDError},
		{"MAX_PUSH_ID decreased", func(c *rawClient) {
			c.control(appendVarintFrame(nil, frameMaxPushID, 10), appendVarintFrame(nil, frameMaxPushID, 9))
		}, ErrCodeIDError},
		{"GOAWAY increased", func(c *rawClient) {
			c.control(appendVarintFrame(nil, frameGoAway, 4), appendVarintFrame(nil, frameGoAway, 5))
		}, ErrCodeIDError},
		{"GOAWAY with trailing bytes", func(c *rawClient) {
			c.control(append(appendFrameHeader(nil, frameGoAway, 2), 0, 0))
		}, ErrCodeFrameError},
		{"PRIORITY_UPDATE for a unidirectional stream", func(c *rawClient) {
			c.control(appendPriorityUpdateFrame(nil, false, 2, "u=1"))
		}, ErrCodeIDError},
		{"PRIORITY_UPDATE for a push never allowed", func(c *rawClient) {
			c.control(appendPriorityUpdateFrame(nil, true, 0, "u=1"))
		}, ErrCodeIDError},
		{"DATA before HEADERS", func(c *rawClient) {
			c.control()
			c.request(append(appendDataFrameHeader(nil, 1), 'x'), true)
		}, ErrCodeFrameUnexpected},
		{"SETTINGS on a request stream", func(c *rawClient) {
			c.request(appendSettingsFrame(nil, nil), true)
		}, ErrCodeFrameUnexpected},
		{"HTTP/2 PING on a request stream", func(c *rawClient) {
			c.request(append(appendFrameHeader(nil, 0x06, 8), make([]byte, 8)...), true)
		}, ErrCodeFrameUnexpected},
		{"PUSH_PROMISE from a client", func(c *rawClient) {
			c.request(appendPushPromiseFrame(nil, 0, encodeAll(getFields("/"))), true)
		}, ErrCodeFrameUnexpected},
		{"dynamic table reference", func(c *rawClient) {
			c.request(rawHeadersFrame(unhex(t, "0500 80 c1 81")), true)
		}, ErrCodeQPACKDecompressionFailed},
		{"bad static index", func(c *rawClient) {
			c.request(rawHeadersFrame(unhex(t, "0000 ff24")), true)
		}, ErrCodeQPACKDecompressionFailed},
		{"truncated HEADERS at FIN", func(c *rawClient) {
			c.request(append(appendFrameHeader(nil, frameHeaders, 10), 0, 0, 0xd1), true)
		}, ErrCodeFrameError},
		{"DATA after trailers", func(c *rawClient) {
			b := headersFrame(append(getFields("/"), field{"content-type", "text/plain"})...)
			b = append(b, headersFrame(field{"x-t", "1"})...)
			b = append(b, appendDataFrameHeader(nil, 0)...)
			c.request(b, true)
		}, ErrCodeFrameUnexpected},
		{"QPACK encoder stream inserts", func(c *rawClient) {
			c.uni(append([]byte{streamTypeQPACKEncoder}, 0xc0|17, 0x01, 'x'))
		}, ErrCodeQPACKEncoderStreamError},
		{"QPACK encoder stream sets a capacity", func(c *rawClient) {
			c.uni([]byte{streamTypeQPACKEncoder, 0x3f, 0x45}) // capacity 100
		}, ErrCodeQPACKEncoderStreamError},
		{"QPACK decoder stream acknowledges", func(c *rawClient) {
			c.uni([]byte{streamTypeQPACKDecoder, 0x80})
		}, ErrCodeQPACKDecoderStreamError},
		{"QPACK decoder stream increments", func(c *rawClient) {
			c.uni([]byte{streamTypeQPACKDecoder, 0x01})
		}, ErrCodeQPACKDecoderStreamError},
		{"second QPACK encoder stream", func(c *rawClient) {
			c.uni([]byte{streamTypeQPACKEncoder})
			c.uni([]byte{streamTypeQPACKEncoder})
		}, ErrCodeStreamCreationError},
		{"QPACK decoder stream closed", func(c *rawClient) {
			c.uni([]byte{streamTypeQPACKDecoder, 0x41}).Close() // Stream Cancellation, then FIN
		}, ErrCodeClosedCriticalStream},
	}
	e := newTestEnv(t, http.HandlerFunc(echoHandler), func(s *Server) { s.ErrorLog = discardLog })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dialRaw(t, e)
			tt.do(c)
			if got := c.closedWith(); got != tt.want {
				t.Fatalf("closed with %v, want %v", got, tt.want)
			}
		})
	}
}

// TestServerStreamErrors checks the requests the server must refuse as
// stream errors, leaving the connection up.
func TestServerStreamErrors(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		want ErrCode
	}{
		{"missing :path", headersFrame(field{":method", "GET"}, field{":scheme", "https"}, field{":authority", "x"}), ErrCodeMessageError},
		{"missing :method", headersFrame(field{":scheme", "https"}, field{":authority", "x"}, field{":path", "/"}), ErrCodeMessageError},
		{"missing authority", headersFrame(field{":method", "GET"}, field{":scheme", "https"}, field{":path", "/"}), ErrCodeMessageError},
		{"repeated :path", headersFrame(append(getFields("/"), field{":path", "/"})...), ErrCodeMessageError},
		{":status in a request", headersFrame(append(getFields("/"), field{":status", "200"})...), ErrCodeMessageError},
		{"unknown pseudo-header", headersFrame(append(getFields("/"), field{":foo", "1"})...), ErrCodeMessageError},
		{"pseudo after regular", headersFrame(field{":method", "GET"}, field{"accept", "*/*"}, field{":scheme", "https"}, field{":authority", "x"}, field{":path", "/"}), ErrCodeMessageError},
		{"uppercase name", headersFrame(append(getFields("/"), field{"X-Up", "1"})...), ErrCodeMessageError},
		{"connection header", headersFrame(append(getFields("/"), field{"connection", "close"})...), ErrCodeMessageError},
		{"transfer-encoding", headersFrame(append(getFields("/"), field{"transfer-encoding", "chunked"})...), ErrCodeMessageError},
		{"TE gzip", headersFrame(append(getFields("/"), field{"te", "gzip"})...), ErrCodeMessageError},
		{"CR in a value", headersFrame(append(getFields("/"), field{"x", "a\rb"})...), ErrCodeMessageError},
		{"relative :path", headersFrame(getFields("index.html")...), ErrCodeMessageError},
		{"authority and Host differ", headersFrame(append(getFields("/"), field{"host", "other"})...), ErrCodeMessageError},
		{"CONNECT with :path", headersFrame(field{":method", "CONNECT"}, field{":authority", "x:443"}, field{":path", "/"}), ErrCodeMessageError},
		{"extended CONNECT", headersFrame(field{":method", "CONNECT"}, field{":protocol", "websocket"}, field{":scheme", "https"}, field{":authority", "x"}, field{":path", "/"}), ErrCodeMessageError},
		{"content shorter than content-length", append(headersFrame(field{":method", "POST"}, field{":scheme", "https"}, field{":authority", "x"}, field{":path", "/"}, field{"content-length", "10"}), append(appendDataFrameHeader(nil, 5), "hello"...)...), ErrCodeMessageError},
		{"content longer than content-length", append(headersFrame(field{":method", "POST"}, field{":scheme", "https"}, field{":authority", "x"}, field{":path", "/"}, field{"content-length", "2"}), append(appendDataFrameHeader(nil, 5), "hello"...)...), ErrCodeMessageError},
		{"pseudo-header in trailers", append(headersFrame(getFields("/")...), headersFrame(field{":path", "/"})...), ErrCodeMessageError},
		{"empty stream", nil, ErrCodeRequestIncomplete},
		{"only unknown frames", appendGreaseFrame(nil), ErrCodeRequestIncomplete},
	}
	e := newTestEnv(t, http.HandlerFunc(echoHandler), func(s *Server) { s.ErrorLog = discardLog })
	c := dialRaw(t, e)
	c.control()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := c.request(tt.b, true)
			_, err := io.ReadAll(s)
			var se *stream.StreamError
			if !errors.As(err, &se) || !se.Remote || ErrCode(se.Code) != tt.want {
				t.Fatalf("read: %v, want a reset with %v", err, tt.want)
			}
		})
	}
	// The connection is still fine.
	s := c.request(headersFrame(getFields("/ok")...), true)
	if _, err := io.ReadAll(s); err != nil {
		t.Fatalf("request after stream errors: %v", err)
	}
}

// readRawResponse reads a whole response from a raw request stream.
func readRawResponse(t *testing.T, s io.Reader) (status string, body []byte) {
	t.Helper()
	all, err := io.ReadAll(s)
	if err != nil {
		t.Fatalf("response: %v", err)
	}
	frames, err := readFrames(all)
	if err != nil || len(frames) == 0 || frames[0].typ != frameHeaders {
		t.Fatalf("response frames: %v, %v", frames, err)
	}
	fb, err := decodeBlock(frames[0].payload, responseBlock, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range frames[1:] {
		if f.typ == frameData {
			body = append(body, f.payload...)
		}
	}
	return fb.status, body
}

// TestServerIgnoresUnknown checks what the server must tolerate: reserved
// frames, settings and stream types, harmless QPACK instructions, early
// PRIORITY_UPDATEs, streams closed before their type.
func TestServerIgnoresUnknown(t *testing.T) {
	e := newTestEnv(t, http.HandlerFunc(echoHandler))
	c := dialRaw(t, e)
	// Reserved and unknown settings; a reserved frame; priorities for a
	// request not yet sent and for a push allowed by MAX_PUSH_ID.
	c.uni(append(appendSettingsFrame([]byte{streamTypeControl},
		[]setting{{0x21, 1}, {0x1f*3 + 0x21, 99}, {0x00, 1}, {settingH3Datagram, 1}, {0xabcdef, 5}}),
		append(appendGreaseFrame(appendVarintFrame(nil, frameMaxPushID, 3)),
			append(appendPriorityUpdateFrame(nil, false, 4, "u=0, i"),
				appendPriorityUpdateFrame(nil, true, 2, "u=6")...)...)...))
	// A reserved stream type: the server stops reading it with
	// H3_STREAM_CREATION_ERROR (RFC 9114 §6.2).
	g := c.uni(append(varints(0x1f*5+0x21), "ignored"...))
	// Set Dynamic Table Capacity 0; Stream Cancellation.
	c.uni([]byte{streamTypeQPACKEncoder, 0x20})
	c.uni([]byte{streamTypeQPACKDecoder, 0x44})
	// A stream closed before its type.
	c.uni(nil).Close()

	for i := range 2 {
		b := appendGreaseFrame(nil)
		b = append(b, headersFrame(field{":method", "POST"}, field{":scheme", "https"}, field{":authority", "localhost"},
			field{":path", "/"}, field{"priority", "u=1"}, field{"content-length", "5"})...)
		b = appendGreaseFrame(b)
		b = append(appendDataFrameHeader(b, 3), "abc"...)
		b = append(appendFrameHeader(b, 0x1f*9+0x21, 5), "12345"...)
		b = appendDataFrameHeader(b, 0)
		b = append(appendDataFrameHeader(b, 2), "de"...)
		b = appendGreaseFrame(b)
		status, body := readRawResponse(t, c.request(b, true))
		if status != "200" || string(body) != "abcde" {
			t.Fatalf("request %d: %s %q", i, status, body)
		}
	}
	err := g.WaitAcked(c.ctx)
	var se *stream.StreamError
	if !errors.As(err, &se) || !se.Remote || ErrCode(se.Code) != ErrCodeStreamCreationError {
		t.Fatalf("reserved stream type: %v, want STOP_SENDING with H3_STREAM_CREATION_ERROR", err)
	}
}

// TestGoAwayRejectsLaterRequests: after GOAWAY, a request on a stream at
// or above its ID is rejected with H3_REQUEST_REJECTED, while the one in
// progress completes.
func TestGoAwayRejectsLaterRequests(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	e := newTestEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		<-release
		io.WriteString(w, "done")
	}))
	c := dialRaw(t, e)
	c.control()
	ctrl := c.serverControl()
	first := c.request(headersFrame(getFields("/slow")...), true)
	<-started

	shutdown := make(chan error, 1)
	go func() { shutdown <- e.srv.Shutdown(c.ctx) }()
	typ, l, err := ctrl.next()
	if err != nil || typ != frameGoAway {
		t.Fatalf("server control stream: frame %#x, %v; want GOAWAY", typ, err)
	}
	p, _ := ctrl.readPayload(l, 8, nil)
	if id, err := parseVarintPayload(p); err != nil || id != 4 {
		t.Fatalf("GOAWAY %d, %v; want 4", id, err)
	}
	late := c.request(headersFrame(getFields("/late")...), true)
	_, err = io.ReadAll(late)
	var se *stream.StreamError
	if !errors.As(err, &se) || ErrCode(se.Code) != ErrCodeRequestRejected {
		t.Fatalf("late request: %v, want H3_REQUEST_REJECTED", err)
	}
	close(release)
	if status, body := readRawResponse(t, first); status != "200" || string(body) != "done" {
		t.Fatalf("first request: %s %q", status, body)
	}
	if err := <-shutdown; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if code := c.closedWith(); code != ErrCodeNoError {
		t.Fatalf("closed with %v, want H3_NO_ERROR", code)
	}
}
