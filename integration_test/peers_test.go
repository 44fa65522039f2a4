package integration_test

import (
	"context"
	"crypto/tls"
	"io"
	"testing"
	"time"

	quicgo "github.com/quic-go/quic-go"
	xquic "golang.org/x/net/quic"

	"github.com/tsumugi-quic/tsumugi/internal/certs"
	"github.com/tsumugi-quic/tsumugi/quic"
)

// alpn is the application protocol of every test connection.
const alpn = "tsumugi-test"

// peerStream is what the tests need of a bidirectional stream, whatever the
// implementation: read, write, close the write side (FIN), and Close once
// done with both sides (x/net/quic counts a stream against the peer's limit
// until the application closes it).
type peerStream interface {
	io.Reader
	io.Writer
	CloseWrite() error
	Close() error
}

// peerConn is a connection of any implementation.
type peerConn interface {
	OpenStream(ctx context.Context) (peerStream, error)
	AcceptStream(ctx context.Context) (peerStream, error)
	Close() error
}

// peerOptions are the knobs the tests turn on servers and clients.
type peerOptions struct {
	maxIncomingStreams int64 // 0: the implementation's default

	// keyUpdateInterval, for Tsumugi only, starts a key update every so
	// many 1-RTT packets (0: the default).
	keyUpdateInterval uint64
}

// impl starts servers and clients of one QUIC implementation.
type impl struct {
	name   string
	listen func(t *testing.T, tc *tls.Config, o peerOptions) (addr string, accept func(context.Context) (peerConn, error))
	dial   func(ctx context.Context, addr string, tc *tls.Config, o peerOptions) (peerConn, error)
}

var (
	ours = impl{name: "tsumugi", listen: listenOurs, dial: dialOurs}
	qgo  = impl{name: "quic-go", listen: listenQuicGo, dial: dialQuicGo}
	xnet = impl{name: "x-net-quic", listen: listenXNet, dial: dialXNet}
)

// testTLS returns a server and a client TLS configuration that trust each other.
func testTLS(t testing.TB) (server, client *tls.Config) {
	cert, pool, err := certs.Localhost()
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{alpn}},
		&tls.Config{RootCAs: pool, NextProtos: []string{alpn}, ServerName: "localhost"}
}

// --- Tsumugi ---

type oursConn struct{ c *quic.Conn }

func (c oursConn) OpenStream(ctx context.Context) (peerStream, error) {
	s, err := c.c.OpenStream(ctx)
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (c oursConn) AcceptStream(ctx context.Context) (peerStream, error) {
	s, err := c.c.AcceptStream(ctx)
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (c oursConn) Close() error { return c.c.Close() }

func oursConfig(o peerOptions) *quic.Config {
	return &quic.Config{MaxIncomingStreams: o.maxIncomingStreams, KeyUpdateInterval: o.keyUpdateInterval}
}

func listenOurs(t *testing.T, tc *tls.Config, o peerOptions) (string, func(context.Context) (peerConn, error)) {
	ln, err := quic.Listen("udp", "127.0.0.1:0", tc, oursConfig(o))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().String(), func(ctx context.Context) (peerConn, error) {
		c, err := ln.Accept(ctx)
		if err != nil {
			return nil, err
		}
		return oursConn{c}, nil
	}
}

func dialOurs(ctx context.Context, addr string, tc *tls.Config, o peerOptions) (peerConn, error) {
	c, err := quic.Dial(ctx, "udp", addr, tc, oursConfig(o))
	if err != nil {
		return nil, err
	}
	return oursConn{c}, nil
}

// --- quic-go ---

type qgoConn struct{ c *quicgo.Conn }

// qgoStream adapts quic-go's Stream, whose Close closes the write side.
type qgoStream struct{ *quicgo.Stream }

func (s qgoStream) CloseWrite() error { return s.Stream.Close() }

func (c qgoConn) OpenStream(ctx context.Context) (peerStream, error) {
	s, err := c.c.OpenStreamSync(ctx)
	if err != nil {
		return nil, err
	}
	return qgoStream{s}, nil
}

func (c qgoConn) AcceptStream(ctx context.Context) (peerStream, error) {
	s, err := c.c.AcceptStream(ctx)
	if err != nil {
		return nil, err
	}
	return qgoStream{s}, nil
}

func (c qgoConn) Close() error { return c.c.CloseWithError(0, "") }

func qgoConfig(o peerOptions) *quicgo.Config {
	return &quicgo.Config{MaxIncomingStreams: o.maxIncomingStreams, MaxIdleTimeout: 30 * time.Second}
}

func listenQuicGo(t *testing.T, tc *tls.Config, o peerOptions) (string, func(context.Context) (peerConn, error)) {
	ln, err := quicgo.ListenAddr("127.0.0.1:0", tc, qgoConfig(o))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().String(), func(ctx context.Context) (peerConn, error) {
		c, err := ln.Accept(ctx)
		if err != nil {
			return nil, err
		}
		return qgoConn{c}, nil
	}
}

func dialQuicGo(ctx context.Context, addr string, tc *tls.Config, o peerOptions) (peerConn, error) {
	c, err := quicgo.DialAddr(ctx, addr, tc, qgoConfig(o))
	if err != nil {
		return nil, err
	}
	return qgoConn{c}, nil
}

// --- golang.org/x/net/quic ---

type xnetConn struct {
	c  *xquic.Conn
	ep *xquic.Endpoint // owned by a dialed connection
}

// xnetStream flushes after every Write: x/net/quic buffers writes until
// Flush, CloseWrite or a full buffer.
type xnetStream struct{ *xquic.Stream }

func (s xnetStream) Write(p []byte) (int, error) {
	n, err := s.Stream.Write(p)
	if err == nil {
		err = s.Stream.Flush()
	}
	return n, err
}

func (c xnetConn) OpenStream(ctx context.Context) (peerStream, error) {
	s, err := c.c.NewStream(ctx)
	if err != nil {
		return nil, err
	}
	return xnetStream{s}, nil
}

func (c xnetConn) AcceptStream(ctx context.Context) (peerStream, error) {
	s, err := c.c.AcceptStream(ctx)
	if err != nil {
		return nil, err
	}
	return xnetStream{s}, nil
}

func (c xnetConn) Close() error {
	err := c.c.Close()
	if c.ep != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		c.ep.Close(ctx)
	}
	return err
}

func xnetConfig(tc *tls.Config, o peerOptions) *xquic.Config {
	return &xquic.Config{TLSConfig: tc, MaxBidiRemoteStreams: o.maxIncomingStreams, MaxIdleTimeout: 30 * time.Second}
}

func listenXNet(t *testing.T, tc *tls.Config, o peerOptions) (string, func(context.Context) (peerConn, error)) {
	tc = tc.Clone()
	tc.MinVersion = tls.VersionTLS13
	ep, err := xquic.Listen("udp", "127.0.0.1:0", xnetConfig(tc, o))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		ep.Close(ctx)
	})
	return ep.LocalAddr().String(), func(ctx context.Context) (peerConn, error) {
		c, err := ep.Accept(ctx)
		if err != nil {
			return nil, err
		}
		return xnetConn{c: c}, nil
	}
}

func dialXNet(ctx context.Context, addr string, tc *tls.Config, o peerOptions) (peerConn, error) {
	tc = tc.Clone()
	tc.MinVersion = tls.VersionTLS13
	ep, err := xquic.Listen("udp", "127.0.0.1:0", nil)
	if err != nil {
		return nil, err
	}
	c, err := ep.Dial(ctx, "udp", addr, xnetConfig(tc, o))
	if err != nil {
		ep.Close(context.Background())
		return nil, err
	}
	return xnetConn{c: c, ep: ep}, nil
}
