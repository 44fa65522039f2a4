package http3

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"sync"

	"github.com/tsumugi-quic/tsumugi/quic"
)

// Transport is an http.RoundTripper that speaks HTTP/3 (RFC 9114) over
// Tsumugi QUIC connections: one connection per authority (host:port),
// reused while it lives, with concurrent requests on concurrent streams. A
// connection that died or received GOAWAY is replaced on the next request.
// Only https URLs are served. Close it when done.
type Transport struct {
	// TLSClientConfig is cloned for each connection; its NextProtos is
	// set to "h3" and its ServerName, if empty, to the URL's host.
	TLSClientConfig *tls.Config

	// QUICConfig tunes each connection; nil means defaults.
	QUICConfig *quic.Config

	// MaxResponseHeaderBytes bounds a response's header section and its
	// trailer section (RFC 9114 §4.2.2 size), and is advertised as
	// SETTINGS_MAX_FIELD_SECTION_SIZE. Zero means 1 MiB.
	MaxResponseHeaderBytes int64

	// Dial, if set, opens connections instead of quic.Dial; addr is
	// "host:port" and tlsConf already carries ALPN "h3".
	Dial func(ctx context.Context, addr string, tlsConf *tls.Config, conf *quic.Config) (*quic.Conn, error)

	mu     sync.Mutex
	ctx    context.Context // done when the Transport is closed
	cancel context.CancelFunc
	conns  map[string]*clientConn
	dials  map[string]*dialCall
	all    map[*clientConn]struct{} // every live connection, for Close
	dialWG sync.WaitGroup
}

// dialCall is a connection being dialed, shared by the requests waiting
// for it.
type dialCall struct {
	done chan struct{}
	cc   *clientConn
	err  error
}

// errTransportClosed is returned by RoundTrip after Close.
var errTransportClosed = errors.New("http3: transport closed")

func (t *Transport) init() {
	if t.ctx == nil {
		t.ctx, t.cancel = context.WithCancel(context.Background())
		t.conns = make(map[string]*clientConn)
		t.dials = make(map[string]*dialCall)
		t.all = make(map[*clientConn]struct{})
	}
}

// RoundTrip sends one request and returns its response, whose Body
// streams the content (http.RoundTripper). A request that the server
// refused unprocessed (GOAWAY, H3_REQUEST_REJECTED) is retried on a new
// connection when its body can be replayed.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL == nil {
		closeBody(req)
		return nil, errors.New("http3: request without URL")
	}
	if req.URL.Scheme != "https" {
		closeBody(req)
		return nil, errors.New("http3: unsupported scheme " + req.URL.Scheme)
	}
	if req.URL.Host == "" {
		closeBody(req)
		return nil, errors.New("http3: request without host")
	}
	addr := authorityAddr(req.URL.Host)
	for attempt := 0; ; attempt++ {
		cc, err := t.getConn(req.Context(), addr)
		if err != nil {
			closeBody(req)
			return nil, err
		}
		resp, err := cc.roundTrip(req)
		var re *retryableError
		if err == nil || !errors.As(err, &re) || attempt >= 2 {
			if re != nil {
				err = re.err
			}
			return resp, err
		}
		if re.bodySent {
			if req, err = rewindRequest(req); err != nil {
				return nil, re.err
			}
		}
	}
}

// retryableError wraps the failure of a request the server did not
// process. bodySent says whether its body was handed to the stream (and
// must be replayed from GetBody).
type retryableError struct {
	err      error
	bodySent bool
}

func (e *retryableError) Error() string { return e.err.Error() }
func (e *retryableError) Unwrap() error { return e.err }

// rewindRequest prepares req to be sent again, with a fresh body if it has
// one.
func rewindRequest(req *http.Request) (*http.Request, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return req, nil
	}
	if req.GetBody == nil {
		return nil, errors.New("http3: cannot replay the request body")
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, err
	}
	r := *req
	r.Body = body
	return &r, nil
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// authorityAddr returns host:port, with port 443 when the URL has none.
func authorityAddr(host string) string {
	if _, _, err := net.SplitHostPort(host); err == nil {
		return host
	}
	if len(host) > 1 && host[0] == '[' && host[len(host)-1] == ']' {
		host = host[1 : len(host)-1]
	}
	return net.JoinHostPort(host, "443")
}

// getConn returns a usable connection to addr, dialing one if needed;
// concurrent requests share one dial.
func (t *Transport) getConn(ctx context.Context, addr string) (*clientConn, error) {
	t.mu.Lock()
	t.init()
	if t.ctx.Err() != nil {
		t.mu.Unlock()
		return nil, errTransportClosed
	}
	if cc := t.conns[addr]; cc != nil {
		if cc.usable() {
			t.mu.Unlock()
			return cc, nil
		}
		delete(t.conns, addr)
	}
	call := t.dials[addr]
	if call == nil {
		call = &dialCall{done: make(chan struct{})}
		t.dials[addr] = call
		t.dialWG.Add(1)
		go func() {
			defer t.dialWG.Done()
			t.dial(addr, call)
		}()
	}
	t.mu.Unlock()
	select {
	case <-call.done:
		return call.cc, call.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// dial opens a connection for addr, independently of any one request's
// context (others may be waiting for it); the QUIC handshake timeout
// bounds it.
func (t *Transport) dial(addr string, call *dialCall) {
	defer close(call.done)
	tc := &tls.Config{}
	if t.TLSClientConfig != nil {
		tc = t.TLSClientConfig.Clone()
	}
	tc.NextProtos = []string{NextProtoH3}
	if tc.ServerName == "" {
		if host, _, err := net.SplitHostPort(addr); err == nil {
			tc.ServerName = host
		}
	}
	dial := t.Dial
	if dial == nil {
		dial = func(ctx context.Context, addr string, tc *tls.Config, conf *quic.Config) (*quic.Conn, error) {
			return quic.Dial(ctx, "udp", addr, tc, conf)
		}
	}
	qc, err := dial(t.ctx, addr, tc, t.QUICConfig)
	var cc *clientConn
	if err == nil {
		cc = newClientConn(t, addr, qc)
		err = cc.start()
	}
	t.mu.Lock()
	delete(t.dials, addr)
	if err == nil && t.ctx.Err() != nil {
		err = errTransportClosed
	}
	if err == nil {
		t.conns[addr] = cc
		t.all[cc] = struct{}{}
	}
	t.mu.Unlock()
	if err != nil && cc != nil {
		cc.close()
	}
	call.cc, call.err = cc, err
	if err != nil {
		call.cc = nil
	}
}

// forget drops cc from the pool once it can take no new request.
func (t *Transport) forget(cc *clientConn) {
	t.mu.Lock()
	if t.conns[cc.addr] == cc {
		delete(t.conns, cc.addr)
	}
	t.mu.Unlock()
}

// connClosed is called when cc's connection has ended.
func (t *Transport) connClosed(cc *clientConn) {
	t.mu.Lock()
	if t.conns[cc.addr] == cc {
		delete(t.conns, cc.addr)
	}
	delete(t.all, cc)
	t.mu.Unlock()
}

// CloseIdleConnections closes the connections that have no request in
// progress.
func (t *Transport) CloseIdleConnections() {
	t.mu.Lock()
	var idle []*clientConn
	for cc := range t.all {
		if cc.idle() {
			idle = append(idle, cc)
		}
	}
	t.mu.Unlock()
	for _, cc := range idle {
		t.forget(cc)
		cc.close()
	}
}

// Close closes every connection with H3_NO_ERROR, abandoning requests in
// progress, and waits for the Transport's goroutines. Later requests fail.
func (t *Transport) Close() error {
	t.mu.Lock()
	t.init()
	t.cancel()
	var all []*clientConn
	for cc := range t.all {
		all = append(all, cc)
	}
	t.mu.Unlock()
	for _, cc := range all {
		cc.close()
	}
	t.dialWG.Wait()
	for _, cc := range all {
		cc.wait()
	}
	return nil
}
