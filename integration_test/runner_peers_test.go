package integration_test

import (
	"context"
	"crypto/tls"
	"net"
	"os"
	"testing"
	"time"

	quicgo "github.com/quic-go/quic-go"
	qgoqlog "github.com/quic-go/quic-go/qlog"

	"github.com/tsumugi-quic/tsumugi/quic"
	"github.com/tsumugi-quic/tsumugi/quic/wire"
	"github.com/tsumugi-quic/tsumugi/stream"
)

// The interop runner's roles, played by Tsumugi and by quic-go with the
// settings each runner test case asks of an endpoint (see cmd/tsumugi's
// interop.go for Tsumugi's, and the runner's testcases_quic.py).

// runnerOpts are what a test case turns on at the endpoints.
type runnerOpts struct {
	network    string // "udp4" (default) or "udp6"
	maxStreams int64  // server: bidirectional stream limit; 0: the default
	retry      bool   // server: a Retry for every new connection
	allow0RTT  bool   // server: accept 0-RTT data
	v2         bool   // server: prefer QUIC v2; client: offer v1, then v2
	v2First    bool   // client: start in v2, offering v1 too
	preferred  bool   // Tsumugi server: offer a preferred address (RFC 9000 §9.6)
	// keyUpdate, for a Tsumugi client, starts a key update every so many
	// packets (quic-go always starts one after its first 100 packets).
	keyUpdate uint64
	// early makes the client send its requests as 0-RTT data (DialEarly)
	// when its session cache allows.
	early bool
	// patientHandshake stretches handshake timeouts for extreme loss.
	patientHandshake bool
}

// connInfo is what the checks learn from an endpoint's connection.
type connInfo struct {
	version   uint32
	didResume bool // TLS session resumption
	used0RTT  bool
	stats     *quic.Stats // Tsumugi only
}

// runnerConn is a connection that can also describe itself.
type runnerConn interface {
	peerConn
	info() connInfo
	// handshakeDone is closed once the handshake is complete (an early
	// connection returns before that).
	handshakeDone() <-chan struct{}
}

// runnerImpl plays the runner's roles for one implementation.
type runnerImpl struct {
	name   string
	listen func(t *testing.T, tc *tls.Config, o runnerOpts) (addr string, accept func(context.Context) (runnerConn, error))
	// dial connects to addr; the connection is closed when the test
	// ends, if not before.
	dial func(t *testing.T, ctx context.Context, addr string, tc *tls.Config, o runnerOpts) (runnerConn, error)
}

var (
	runnerOurs = runnerImpl{name: "tsumugi", listen: listenRunnerOurs, dial: dialRunnerOurs}
	runnerQgo  = runnerImpl{name: "quic-go", listen: listenRunnerQgo, dial: dialRunnerQgo}
)

// loopback is the loopback address of o's network.
func (o runnerOpts) loopback() string {
	if o.network == "udp6" {
		return "[::1]:0"
	}
	return "127.0.0.1:0"
}

// --- Tsumugi ---

type runnerOursConn struct{ oursConn }

func (c runnerOursConn) info() connInfo {
	cs, st := c.c.ConnectionState(), c.c.Stats()
	return connInfo{version: cs.Version, didResume: cs.TLS.DidResume, used0RTT: cs.Used0RTT, stats: &st}
}

func (c runnerOursConn) handshakeDone() <-chan struct{} { return c.c.HandshakeComplete() }

func runnerOursConfig(o runnerOpts, server bool) *quic.Config {
	conf := &quic.Config{MaxIdleTimeout: 30 * time.Second}
	if server {
		conf.MaxIncomingStreams = o.maxStreams
		conf.RequireAddressValidation = o.retry
		conf.Allow0RTT = o.allow0RTT
		if o.v2 {
			conf.Versions = []uint32{wire.Version2, wire.Version1}
		}
		if o.preferred {
			conf.PreferredAddress = o.loopback()
		}
	} else {
		conf.KeyUpdateInterval = o.keyUpdate
		switch {
		case o.v2First:
			conf.Versions = []uint32{wire.Version2, wire.Version1}
		case o.v2:
			conf.Versions = []uint32{wire.Version1, wire.Version2}
		}
	}
	if o.patientHandshake {
		conf.HandshakeTimeout = 2 * time.Minute
	}
	// RUNNER_QLOG=dir makes Tsumugi's servers in the runner cells write
	// qlog traces there: a debugging aid.
	if d := os.Getenv("RUNNER_QLOG"); d != "" && server {
		conf.QlogDir = d
	}
	return conf
}

func listenRunnerOurs(t *testing.T, tc *tls.Config, o runnerOpts) (string, func(context.Context) (runnerConn, error)) {
	ln, err := quic.Listen("udp", o.loopback(), tc, runnerOursConfig(o, true))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().String(), func(ctx context.Context) (runnerConn, error) {
		c, err := ln.Accept(ctx)
		if err != nil {
			return nil, err
		}
		return runnerOursConn{oursConn{c}}, nil
	}
}

// dialRunnerOurs dials from an endpoint of the connection's own that is
// closed when the test ends, closing the connection at once (see
// clientEndpoint: no closing period outlives the test; and Endpoint.Close
// would wait out the closing period of a connection closed before it, 3
// PTOs: 10 s at longrtt's RTT). 0-RTT needs DialEarly and a socket of the
// connection's own.
func dialRunnerOurs(t *testing.T, ctx context.Context, addr string, tc *tls.Config, o runnerOpts) (runnerConn, error) {
	conf := runnerOursConfig(o, false)
	if o.early {
		c, err := quic.DialEarly(ctx, "udp", addr, tc, conf)
		if err != nil {
			return nil, err
		}
		t.Cleanup(func() { c.Close() })
		return runnerOursConn{oursConn{c}}, nil
	}
	stc, _ := testTLS(t) // a listener needs a certificate, even if nobody dials it
	ep, err := quic.Listen("udp", o.loopback(), stc, conf)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { ep.Close() })
	c, err := ep.Dial(ctx, addr, tc)
	if err != nil {
		return nil, err
	}
	return runnerOursConn{oursConn{c}}, nil
}

// --- quic-go ---

type runnerQgoConn struct{ qgoConn }

func (c runnerQgoConn) info() connInfo {
	cs := c.c.ConnectionState()
	return connInfo{version: uint32(cs.Version), didResume: cs.TLS.DidResume, used0RTT: cs.Used0RTT}
}

func (c runnerQgoConn) handshakeDone() <-chan struct{} { return c.c.HandshakeComplete() }

func runnerQgoConfig(o runnerOpts, server bool) *quicgo.Config {
	conf := &quicgo.Config{MaxIdleTimeout: 30 * time.Second, Allow0RTT: server && o.allow0RTT}
	if server {
		conf.MaxIncomingStreams = o.maxStreams
		if o.v2 {
			conf.Versions = []quicgo.Version{quicgo.Version2, quicgo.Version1}
		}
	} else if o.v2First {
		conf.Versions = []quicgo.Version{quicgo.Version2, quicgo.Version1}
	} else if o.v2 {
		conf.Versions = []quicgo.Version{quicgo.Version1, quicgo.Version2}
	}
	if o.patientHandshake {
		conf.HandshakeIdleTimeout = time.Minute
	}
	// RUNNER_QLOG=dir makes quic-go's connections in the runner cells
	// write qlog traces there too (its tracer reads QLOGDIR).
	if d := os.Getenv("RUNNER_QLOG"); d != "" {
		os.Setenv("QLOGDIR", d)
		conf.Tracer = qgoqlog.DefaultConnectionTracer
	}
	return conf
}

func listenRunnerQgo(t *testing.T, tc *tls.Config, o runnerOpts) (string, func(context.Context) (runnerConn, error)) {
	network := o.network
	if network == "" {
		network = "udp4"
	}
	addr, err := net.ResolveUDPAddr(network, o.loopback())
	if err != nil {
		t.Fatal(err)
	}
	uc, err := net.ListenUDP(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	tr := &quicgo.Transport{Conn: uc}
	if o.retry {
		tr.VerifySourceAddress = func(net.Addr) bool { return true }
	}
	// An early listener hands out connections before their handshake
	// completes, which 0-RTT needs; otherwise they are the same.
	var accept func(context.Context) (*quicgo.Conn, error)
	var closeLn func() error
	if o.allow0RTT {
		ln, err := tr.ListenEarly(tc, runnerQgoConfig(o, true))
		if err != nil {
			t.Fatal(err)
		}
		accept, closeLn = ln.Accept, ln.Close
	} else {
		ln, err := tr.Listen(tc, runnerQgoConfig(o, true))
		if err != nil {
			t.Fatal(err)
		}
		accept, closeLn = ln.Accept, ln.Close
	}
	t.Cleanup(func() {
		closeLn()
		tr.Close()
		uc.Close()
	})
	return uc.LocalAddr().String(), func(ctx context.Context) (runnerConn, error) {
		c, err := accept(ctx)
		if err != nil {
			return nil, err
		}
		return runnerQgoConn{qgoConn{c}}, nil
	}
}

func dialRunnerQgo(t *testing.T, ctx context.Context, addr string, tc *tls.Config, o runnerOpts) (runnerConn, error) {
	dial := quicgo.DialAddr
	if o.early {
		dial = quicgo.DialAddrEarly
	}
	c, err := dial(ctx, addr, tc, runnerQgoConfig(o, false))
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.CloseWithError(0, "") })
	return runnerQgoConn{qgoConn{c}}, nil
}

// streamIndex is the index of a client-initiated bidirectional stream
// (RFC 9000 §2.1: its ID is 4 times the index), or -1 if s does not tell.
func streamIndex(s peerStream) int64 {
	switch s := s.(type) {
	case *stream.Stream:
		return int64(s.ID()) / 4
	case qgoStream:
		return int64(s.StreamID()) / 4
	}
	return -1
}
