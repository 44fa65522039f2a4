package quic

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/tsumugi-quic/tsumugi/internal/certs"
	"github.com/tsumugi-quic/tsumugi/internal/memnet"
	"github.com/tsumugi-quic/tsumugi/internal/quictest"
	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

// The connection scripts run inside testing/synctest bubbles on a memnet
// network: every timer (ack delay, PTO, idle, closing period) runs on the
// bubble's fake clock, so they take microseconds and always unfold the
// same way. The helpers here build endpoints on memnet through the
// package's internal seams (newEndpointOn, listenOn, dialAddr).

var (
	serverAddr = netip.MustParseAddrPort("10.0.0.1:443")
	clientIP   = netip.MustParseAddr("10.0.0.2")
)

const testALPN = "test"

// testNet is one test's network, certificate and server.
type testNet struct {
	t    *testing.T
	n    *memnet.Network
	cert tls.Certificate
	pool *x509.CertPool
}

// newTestNet makes a network and a certificate; call it inside the bubble
// (the certificate's validity is relative to the bubble's clock).
func newTestNet(t *testing.T) *testNet {
	t.Helper()
	cert, pool, err := certs.Localhost()
	if err != nil {
		t.Fatal(err)
	}
	return &testNet{t: t, n: memnet.New(), cert: cert, pool: pool}
}

// bigCertificate replaces the certificate with one of about 10 KB.
func (tn *testNet) bigCertificate() {
	hosts := []string{"localhost"}
	for i := range 200 {
		hosts = append(hosts, fmt.Sprintf("host-%03d.a-rather-long-domain-name.example", i))
	}
	cert, pool, err := certs.SelfSigned(hosts...)
	if err != nil {
		tn.t.Fatal(err)
	}
	tn.cert, tn.pool = cert, pool
}

func (tn *testNet) serverTLS(protos ...string) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{tn.cert}, NextProtos: protos}
}

func (tn *testNet) clientTLS(protos ...string) *tls.Config {
	return &tls.Config{RootCAs: tn.pool, ServerName: "localhost", NextProtos: protos, MinVersion: tls.VersionTLS13}
}

// listen starts our server at serverAddr; it is closed when the test ends.
func (tn *testNet) listen(conf *Config) (*Listener, *memnet.Conn) {
	tn.t.Helper()
	tc, err := serverTLSConfig(tn.serverTLS(testALPN))
	if err != nil {
		tn.t.Fatal(err)
	}
	pc := tn.n.Listen(serverAddr)
	ln := listenOn(newEndpointOn(pc, conf), tc)
	tn.t.Cleanup(func() { ln.Close() })
	return ln, pc
}

// serverConns counts the live connections of the listener's endpoint.
func (tn *testNet) serverConns(ln *Listener) int {
	ln.ep.mu.Lock()
	defer ln.ep.mu.Unlock()
	return len(ln.ep.all)
}

// clientConn binds a new client socket.
func (tn *testNet) clientConn() *memnet.Conn {
	return tn.n.Listen(netip.AddrPortFrom(clientIP, 0))
}

// dial dials serverAddr from a new endpoint that the connection owns.
// setup, if not nil, may set filters on the client socket before anything
// is sent.
func (tn *testNet) dial(ctx context.Context, conf *Config, tlsConf *tls.Config, setup func(*memnet.Conn)) (*Conn, error) {
	pc := tn.clientConn()
	if setup != nil {
		setup(pc)
	}
	ep := newEndpointOn(pc, conf)
	c, err := ep.dialAddr(ctx, serverAddr, "localhost:443", tlsConf, true, false)
	if err != nil {
		// As in Dial: a failed connection closes the endpoint it owns
		// when it ends (after its draining period, say); wait for that
		// when the test ends, not now.
		tn.t.Cleanup(func() { ep.Close() })
		return nil, err
	}
	tn.t.Cleanup(func() {
		c.Close()
		// Close returns once CONNECTION_CLOSE is out; the connection
		// (and the endpoint it owns) lives on through the closing
		// period. A bubble must not end before it does.
		<-c.exited
	})
	return c, nil
}

// pair starts a server and dials it: our client, our server.
func (tn *testNet) pair(serverConf, clientConf *Config) (ln *Listener, cc, sc *Conn) {
	tn.t.Helper()
	ln, _ = tn.listen(serverConf)
	ctx := testCtx(tn.t)
	cc, err := tn.dial(ctx, clientConf, tn.clientTLS(testALPN), nil)
	if err != nil {
		tn.t.Fatalf("dial: %v", err)
	}
	sc, err = ln.Accept(ctx)
	if err != nil {
		tn.t.Fatalf("accept: %v", err)
	}
	return ln, cc, sc
}

// peer returns a scripted client for serverAddr on a new socket, not yet
// started. No protos means testALPN.
func (tn *testNet) peer(params wire.TransportParameters, protos ...string) (*quictest.Peer, *memnet.Conn) {
	if len(protos) == 0 {
		protos = []string{testALPN}
	}
	return tn.peerTLS(params, tn.clientTLS(protos...))
}

func (tn *testNet) peerTLS(params wire.TransportParameters, conf *tls.Config) (*quictest.Peer, *memnet.Conn) {
	pc := tn.clientConn()
	p := quictest.NewClient(pc, serverAddr, conf, params)
	tn.t.Cleanup(func() { p.Close(); pc.Close() })
	return p, pc
}

// peerPair starts our server, connects a scripted client to it and
// returns the client and our server's connection.
func (tn *testNet) peerPair(serverConf *Config, params wire.TransportParameters) (*quictest.Peer, *Conn, *Listener) {
	tn.t.Helper()
	ln, _ := tn.listen(serverConf)
	p, _ := tn.peer(params)
	ctx := testCtx(tn.t)
	if err := p.Handshake(ctx); err != nil {
		tn.t.Fatalf("scripted handshake: %v", err)
	}
	sc, err := ln.Accept(ctx)
	if err != nil {
		tn.t.Fatalf("accept: %v", err)
	}
	return p, sc, ln
}

// testCtx is a context for one step of a script: generous in fake time.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// shortCtx is a context for "nothing more arrives" checks.
func shortCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// expectClose reads until the scripted peer receives CONNECTION_CLOSE and
// checks its type and code.
func expectClose(t *testing.T, p *quictest.Peer, app bool, code uint64) wire.ConnectionCloseFrame {
	t.Helper()
	f, err := p.ExpectClose(testCtx(t))
	if err != nil {
		t.Fatalf("waiting for CONNECTION_CLOSE (code %#x): %v", code, err)
	}
	if f.App != app || f.Code != code {
		t.Fatalf("CONNECTION_CLOSE app=%v code=%#x (%q), want app=%v code=%#x", f.App, f.Code, f.Reason, app, code)
	}
	return f
}

// hasInitial reports whether a datagram starts with an Initial packet.
func hasInitial(d []byte) bool {
	if len(d) == 0 || !wire.IsLongHeader(d[0]) {
		return false
	}
	h, err := wire.ParseLongHeader(d)
	return err == nil && h.Type == wire.PacketInitial
}
