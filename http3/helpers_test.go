package http3

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net/http"
	"testing"
	"time"

	"github.com/tsumugi-quic/tsumugi/internal/certs"
	"github.com/tsumugi-quic/tsumugi/quic"
)

// testEnv is a Server on a loopback quic.Listener and a Transport that
// trusts it.
type testEnv struct {
	srv   *Server
	ln    *quic.Listener
	tr    *Transport
	pool  *x509.CertPool
	url   string // https://127.0.0.1:port
	dials int    // connections the Transport opened
	done  chan error
}

func newTestEnv(t testing.TB, h http.Handler, configure ...func(*Server)) *testEnv {
	t.Helper()
	cert, pool, err := certs.Localhost()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := quic.Listen("udp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{NextProtoH3}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := &testEnv{
		srv:  &Server{Handler: h},
		ln:   ln,
		pool: pool,
		url:  "https://" + ln.Addr().String(),
		done: make(chan error, 1),
	}
	for _, f := range configure {
		f(e.srv)
	}
	e.tr = &Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	e.tr.Dial = func(ctx context.Context, addr string, tc *tls.Config, conf *quic.Config) (*quic.Conn, error) {
		e.dials++
		return quic.Dial(ctx, "udp", addr, tc, conf)
	}
	go func() { e.done <- e.srv.Serve(ln) }()
	t.Cleanup(func() {
		e.tr.Close()
		e.srv.Close()
		ln.Close()
		if err := <-e.done; err != http.ErrServerClosed {
			t.Errorf("Serve: %v", err)
		}
	})
	return e
}

func (e *testEnv) client() *http.Client { return &http.Client{Transport: e.tr} }

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// discardLog silences the server's error log in tests that provoke
// errors on purpose.
var discardLog = log.New(io.Discard, "", 0)
