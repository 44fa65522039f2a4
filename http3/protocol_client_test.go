package http3

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/tsumugi-quic/tsumugi/internal/certs"
	"github.com/tsumugi-quic/tsumugi/quic"
	"github.com/tsumugi-quic/tsumugi/stream"
)

// rawServer is a hand-driven HTTP/3 server for testing the Transport.
type rawServer struct {
	t   *testing.T
	ctx context.Context
	ln  *quic.Listener
	tr  *Transport
	url string
}

func newRawServer(t *testing.T) *rawServer {
	t.Helper()
	cert, pool, err := certs.Localhost()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := quic.Listen("udp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{NextProtoH3}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := &rawServer{
		t:   t,
		ctx: testContext(t),
		ln:  ln,
		tr:  &Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
		url: "https://" + ln.Addr().String(),
	}
	t.Cleanup(func() {
		s.tr.Close()
		ln.Close()
	})
	return s
}

// rawServerConn is one accepted connection with our control stream open.
type rawServerConn struct {
	s    *rawServer
	qc   *quic.Conn
	ctrl *stream.SendStream
}

func (s *rawServer) accept(controlFrames ...[]byte) *rawServerConn {
	s.t.Helper()
	qc, err := s.ln.Accept(s.ctx)
	if err != nil {
		s.t.Fatal(err)
	}
	ctrl, err := qc.OpenUniStream(s.ctx)
	if err != nil {
		s.t.Fatal(err)
	}
	b := appendSettingsFrame([]byte{streamTypeControl}, nil)
	for _, f := range controlFrames {
		b = append(b, f...)
	}
	if _, err := ctrl.Write(b); err != nil {
		s.t.Fatal(err)
	}
	return &rawServerConn{s: s, qc: qc, ctrl: ctrl}
}

// request accepts the next request stream and decodes its header.
func (c *rawServerConn) request() (*stream.Stream, *fieldBlock, *frameReader) {
	c.s.t.Helper()
	st, err := c.qc.AcceptStream(c.s.ctx)
	if err != nil {
		c.s.t.Fatal(err)
	}
	fr := newFrameReader(st)
	typ, l, err := fr.next()
	if err != nil || typ != frameHeaders {
		c.s.t.Fatalf("request starts with %#x, %v", typ, err)
	}
	p, _ := fr.readPayload(l, 1<<20, nil)
	fb, err := decodeBlock(p, requestBlock, 1<<20)
	if err != nil {
		c.s.t.Fatal(err)
	}
	return st, fb, fr
}

// closedWith waits for the client to close the connection and returns its
// code.
func (c *rawServerConn) closedWith() ErrCode {
	c.s.t.Helper()
	<-c.qc.Context().Done()
	var ae *quic.ApplicationError
	if !errors.As(context.Cause(c.qc.Context()), &ae) || !ae.Remote {
		c.s.t.Fatalf("connection ended with %v, want an application error from the client", context.Cause(c.qc.Context()))
	}
	return ErrCode(ae.Code)
}

func okResponse(body string) []byte {
	b := headersFrame(field{":status", "200"})
	return append(appendDataFrameHeader(b, len(body)), body...)
}

// get runs a GET in the background; its result arrives on the channel.
func (s *rawServer) get(path string) <-chan error {
	ch := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(s.ctx, "GET", s.url+path, nil)
		resp, err := s.tr.RoundTrip(req)
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		ch <- err
	}()
	return ch
}

// TestClientConnectionErrors drives the Transport into each connection
// error a server's misbehaviour calls for.
func TestClientConnectionErrors(t *testing.T) {
	tests := []struct {
		name    string
		control [][]byte
		do      func(c *rawServerConn)
		want    ErrCode
	}{
		{"GOAWAY with a push stream ID", [][]byte{appendVarintFrame(nil, frameGoAway, 1)}, nil, ErrCodeIDError},
		{"GOAWAY increased", nil, func(c *rawServerConn) {
			// After the request arrives: a client with no request in
			// progress may close at once after the first GOAWAY.
			c.request()
			c.ctrl.Write(append(appendVarintFrame(nil, frameGoAway, 8), appendVarintFrame(nil, frameGoAway, 12)...))
		}, ErrCodeIDError},
		{"MAX_PUSH_ID from a server", [][]byte{appendVarintFrame(nil, frameMaxPushID, 1)}, nil, ErrCodeFrameUnexpected},
		{"CANCEL_PUSH never allowed", [][]byte{appendVarintFrame(nil, frameCancelPush, 0)}, nil, ErrCodeIDError},
		{"PRIORITY_UPDATE from a server", [][]byte{appendPriorityUpdateFrame(nil, false, 0, "u=1")}, nil, ErrCodeFrameUnexpected},
		{"HEADERS on the control stream", [][]byte{headersFrame(field{":status", "200"})}, nil, ErrCodeFrameUnexpected},
		{"push stream", nil, func(c *rawServerConn) {
			s, _ := c.qc.OpenUniStream(c.s.ctx)
			s.Write([]byte{streamTypePush, 0})
		}, ErrCodeIDError},
		{"server-initiated bidirectional stream", nil, func(c *rawServerConn) {
			s, _ := c.qc.OpenStream(c.s.ctx)
			s.Write(appendGreaseFrame(nil))
		}, ErrCodeStreamCreationError},
		{"PUSH_PROMISE on a request stream", nil, func(c *rawServerConn) {
			st, _, _ := c.request()
			st.Write(appendPushPromiseFrame(nil, 0, encodeAll(getFields("/pushed"))))
		}, ErrCodeIDError},
		{"DATA before HEADERS", nil, func(c *rawServerConn) {
			st, _, _ := c.request()
			st.Write(append(appendDataFrameHeader(nil, 1), 'x'))
		}, ErrCodeFrameUnexpected},
		{"dynamic table reference", nil, func(c *rawServerConn) {
			st, _, _ := c.request()
			st.Write(rawHeadersFrame(unhex(t, "0381 10 11")))
		}, ErrCodeQPACKDecompressionFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newRawServer(t)
			done := s.get("/")
			c := s.accept(tt.control...)
			if tt.do != nil {
				tt.do(c)
			}
			if got := c.closedWith(); got != tt.want {
				t.Fatalf("closed with %v, want %v", got, tt.want)
			}
			if err := <-done; err == nil {
				t.Fatal("request succeeded on a failed connection")
			}
		})
	}
}

func TestClientResponses(t *testing.T) {
	s := newRawServer(t)
	var c *rawServerConn // accepted with the first request
	do := func(path string, answer []byte, fin bool) (*http.Response, []byte, error) {
		t.Helper()
		type result struct {
			resp *http.Response
			body []byte
			err  error
		}
		ch := make(chan result, 1)
		go func() {
			req, _ := http.NewRequestWithContext(s.ctx, "GET", s.url+path, nil)
			resp, err := s.tr.RoundTrip(req)
			var body []byte
			if err == nil {
				body, err = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			ch <- result{resp, body, err}
		}()
		if c == nil {
			c = s.accept(appendGreaseFrame(nil))
		}
		st, fb, _ := c.request()
		if fb.path != path || fb.method != "GET" || fb.scheme != "https" || fb.authority == "" {
			t.Errorf("request %+v", fb)
		}
		st.Write(answer)
		if fin {
			st.CloseWrite()
		}
		r := <-ch
		return r.resp, r.body, r.err
	}

	// Interim responses are skipped; unknown frames too.
	b := headersFrame(field{":status", "103"}, field{"link", "</a.css>"})
	b = append(appendGreaseFrame(b), headersFrame(field{":status", "100"})...)
	b = append(b, okResponse("hello")...)
	b = append(appendGreaseFrame(b), headersFrame(field{"x-trailer", "t"})...)
	resp, body, err := do("/interim", b, true)
	if err != nil || resp.StatusCode != 200 || string(body) != "hello" || resp.Trailer.Get("X-Trailer") != "t" {
		t.Fatalf("interim: %v, %q, %v", resp, body, err)
	}
	if resp.Proto != "HTTP/3.0" || resp.Status != "200 OK" || resp.TLS == nil {
		t.Errorf("response fields: %q %q", resp.Proto, resp.Status)
	}

	// Malformed responses are refused with H3_MESSAGE_ERROR.
	for _, tt := range []struct {
		name   string
		answer []byte
	}{
		{"no :status", headersFrame(field{"content-type", "text/plain"})},
		{"bad :status", headersFrame(field{":status", "2000"})},
		{"101", headersFrame(field{":status", "101"})},
		{"request pseudo-header", headersFrame(field{":status", "200"}, field{":path", "/"})},
		{"uppercase name", headersFrame(field{":status", "200"}, field{"X-A", "1"})},
		{"content-length mismatch", append(headersFrame(field{":status", "200"}, field{"content-length", "10"}), okResponse("short")[len(headersFrame(field{":status", "200"})):]...)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := do("/bad", tt.answer, true)
			if !errors.Is(err, &Error{Code: ErrCodeMessageError}) {
				t.Fatalf("err = %v, want H3_MESSAGE_ERROR", err)
			}
		})
	}

	// A response that ends before its header.
	if _, _, err := do("/empty", nil, true); err == nil {
		t.Error("empty response accepted")
	}
	// The connection served all of this.
	if len(s.tr.all) != 1 {
		t.Errorf("%d connections", len(s.tr.all))
	}
}

// TestClientRetriesRejected: a request the server rejects with
// H3_REQUEST_REJECTED, or that a GOAWAY excludes, is sent again, body
// included.
func TestClientRetriesRejected(t *testing.T) {
	s := newRawServer(t)
	const payload = "replayed body"
	result := make(chan string, 1)
	go func() {
		req, _ := http.NewRequestWithContext(s.ctx, "POST", s.url+"/p", strings.NewReader(payload))
		resp, err := s.tr.RoundTrip(req)
		if err != nil {
			result <- "error: " + err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		result <- string(b)
	}()
	c := s.accept()
	// First attempt: rejected.
	st, _, _ := c.request()
	st.CancelRead(uint64(ErrCodeRequestRejected))
	st.CancelWrite(uint64(ErrCodeRequestRejected))
	// Second attempt, same connection: excluded by a GOAWAY.
	st, _, _ = c.request()
	c.ctrl.Write(appendVarintFrame(nil, frameGoAway, uint64(st.ID())))
	// Third attempt: a new connection, answered with the body it carries.
	c2 := s.accept()
	st, fb, fr := c2.request()
	body := &bodyReader{fr: fr, conn: newH3Conn(c2.qc, true, 1<<20), contentLength: -1, cancel: func(ErrCode) {}}
	got, err := io.ReadAll(body)
	if err != nil || string(got) != payload || fb.method != "POST" {
		t.Fatalf("third attempt: %s %q, %v", fb.method, got, err)
	}
	st.Write(okResponse("ok"))
	st.CloseWrite()
	if r := <-result; r != "ok" {
		t.Fatalf("RoundTrip: %s", r)
	}
	// The old connection, drained after its GOAWAY, was closed.
	if code := c.closedWith(); code != ErrCodeNoError {
		t.Errorf("old connection closed with %v", code)
	}
}

// TestClientConnectionReplaced: a connection the server closed is
// replaced on the next request.
func TestClientConnectionReplaced(t *testing.T) {
	e := newTestEnv(t, http.HandlerFunc(blobHandler))
	get := func() {
		t.Helper()
		resp, err := e.client().Get(e.url + "/blob/100")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !bytes.Equal(b, blob(100)) {
			t.Fatal("wrong body")
		}
	}
	get()
	e.tr.mu.Lock()
	var cc *clientConn
	for c := range e.tr.all {
		cc = c
	}
	e.tr.mu.Unlock()
	e.srv.mu.Lock()
	var scs []*serverConn
	for sc := range e.srv.conns {
		scs = append(scs, sc)
	}
	e.srv.mu.Unlock()
	for _, sc := range scs {
		sc.close()
	}
	<-cc.qc.Context().Done()
	get()
	if e.dials != 2 {
		t.Fatalf("%d dials, want 2", e.dials)
	}
}

// TestTransportSharesDial: concurrent first requests to one authority
// share one connection.
func TestTransportSharesDial(t *testing.T) {
	e := newTestEnv(t, http.HandlerFunc(blobHandler))
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			resp, err := e.client().Get(e.url + "/blob/10")
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		})
	}
	wg.Wait()
	if e.dials != 1 {
		t.Fatalf("%d dials, want 1", e.dials)
	}
}
