package quic

import (
	"context"
	"crypto/tls"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
	"github.com/tsumugi-quic/tsumugi/stream"
)

// Conn is a QUIC connection. One goroutine per connection (run) owns its
// state; the methods here, called from application goroutines, reach it
// through small locked queues and capacity-1 wake channels, never by
// touching that state.
type Conn struct {
	// Set at creation, then read-only.
	ep           *Endpoint
	ownsEndpoint bool // a Dial endpoint: closed when the connection ends
	// countsAsHandshake: a server connection counted in the endpoint's
	// handshakes in progress (guarded by the endpoint's mutex).
	countsAsHandshake bool
	isClient          bool
	earlyAllowed      bool // client: DialEarly asked for 0-RTT
	config            *Config
	tlsConf           *tls.Config
	created           time.Time

	ctx           context.Context // done when the connection is gone; context.Cause says why
	cancel        context.CancelCauseFunc
	handshakeDone chan struct{} // closed when the handshake completes
	earlyReady    chan struct{} // client: closed when 0-RTT data can be sent
	exited        chan struct{} // closed when the connection goroutine returns
	closed        chan struct{} // closed once the connection is closing and its CONNECTION_CLOSE went out

	// Written by the connection goroutine before handshakeDone closes.
	tlsState tls.ConnectionState
	version  uint32
	used0RTT bool

	localAddr  atomic.Pointer[net.UDPAddr] // changes when a client migrates
	remoteAddr atomic.Pointer[net.UDPAddr]
	srtt       atomic.Int64  // smoothed RTT in ns, for stream window tuning
	retried    atomic.Bool   // client: the server sent a Retry (for tests and qlog)
	epClosing  atomic.Bool   // the endpoint is closing: end without a closing period
	ecnMarking atomic.Bool   // our packets carry ECT(0) and the peer's counts validate
	spurious   atomic.Uint64 // losses that turned out spurious

	inbox *inbox
	wake  wakeQueue
	open  opener // local stream opening, shared with OpenStream callers

	acceptBidi acceptQueue
	acceptUni  acceptQueue

	consumed atomic.Uint64 // stream bytes the application has read (Owner.Consumed)

	datagramsIn, datagramsOut datagramQueue
	peerDatagramLimit         atomic.Uint64 // the peer's max_datagram_frame_size; 0: none
	mtuForDatagrams           atomic.Int64  // the current path MTU, for MaxDatagramSize

	closeMu  sync.Mutex
	closeReq *closeRequest // set by Close/CloseWithError, taken by the goroutine
	// migrateReq is Migrate's request, until the goroutine answers it (an
	// atomic: the goroutine looks at it every round).
	migrateReq atomic.Pointer[migrateRequest]

	// Everything below is owned by the connection goroutine.
	st connState
}

// closeRequest is an application's request to close the connection.
type closeRequest struct {
	code     uint64
	reason   string
	graceful bool // deliver data already written and closed first
	err      error
}

// connSetup is what a new connection starts from.
type connSetup struct {
	isClient bool
	remote   netip.AddrPort
	version  uint32
	tlsConf  *tls.Config
	config   *Config
	// odcid is the Destination Connection ID of the client's first Initial
	// (RFC 9000 §7.3): chosen by a client; for a server, from that Initial
	// or from the Retry token the client brought back.
	odcid []byte
	// initialDCID is what the Initial keys derive from (RFC 9001 §5.2):
	// odcid, except on a server after a Retry (the Retry's Source
	// Connection ID, which the client now sends to).
	initialDCID []byte
	// initialSeal and initialOpen, on a server, are the Initial keys the
	// endpoint derived to open the client's first Initial (nil: derive).
	initialSeal, initialOpen *wire.Keys
	peerSCID                 []byte // server: the client's Source Connection ID
	retrySCID                []byte // server: the Source Connection ID of our Retry, if any
	validated                bool   // server: a token validated the client's address
	token                    []byte // client: the token to send in Initials
	tokenKey                 string // client: where NEW_TOKEN tokens for this server are kept
}

// newConn creates a connection; the caller registers its connection IDs and
// starts run.
func newConn(ep *Endpoint, s connSetup) *Conn {
	if s.initialDCID == nil {
		s.initialDCID = s.odcid
	}
	c := &Conn{
		ep:            ep,
		isClient:      s.isClient,
		config:        s.config,
		tlsConf:       s.tlsConf,
		created:       time.Now(),
		handshakeDone: make(chan struct{}),
		earlyReady:    make(chan struct{}),
		exited:        make(chan struct{}),
		closed:        make(chan struct{}),
		inbox:         newInbox(),
	}
	c.ctx, c.cancel = context.WithCancelCause(context.Background())
	c.remoteAddr.Store(net.UDPAddrFromAddrPort(s.remote))
	if ua, ok := ep.LocalAddr().(*net.UDPAddr); ok {
		c.localAddr.Store(ua)
	}
	c.wake.init()
	c.acceptBidi.init()
	c.acceptUni.init()
	if s.config.EnableDatagrams {
		c.datagramsIn.init()
		c.datagramsOut.init()
	}
	c.st.init(c, &s)
	c.open.init(c)
	return c
}

// Context is done when the connection is gone; context.Cause tells why
// (an *ApplicationError, *TransportError, ErrIdleTimeout, ...).
func (c *Conn) Context() context.Context { return c.ctx }

// LocalAddr returns the local network address.
func (c *Conn) LocalAddr() net.Addr {
	if a := c.localAddr.Load(); a != nil {
		return a
	}
	return c.ep.LocalAddr()
}

// RemoteAddr returns the peer's network address.
func (c *Conn) RemoteAddr() net.Addr { return c.remoteAddr.Load() }

// ConnectionState describes a connection once its handshake is complete.
type ConnectionState struct {
	TLS     tls.ConnectionState
	Version uint32 // QUIC version
	ALPN    string // negotiated application protocol
	// Used0RTT: the client sent 0-RTT data and the server accepted it.
	Used0RTT bool
}

// ConnectionState returns the TLS state, QUIC version and ALPN. Before the
// handshake completes it returns the zero value.
func (c *Conn) ConnectionState() ConnectionState {
	select {
	case <-c.handshakeDone:
		return ConnectionState{TLS: c.tlsState, Version: c.version, ALPN: c.tlsState.NegotiatedProtocol, Used0RTT: c.used0RTT}
	default:
		return ConnectionState{}
	}
}

// OpenStream opens a bidirectional stream, waiting for stream credit from
// the peer (MAX_STREAMS) if needed. The peer learns of the stream with its
// first frame: write to it (or close it) for the peer's AcceptStream to
// return.
func (c *Conn) OpenStream(ctx context.Context) (*stream.Stream, error) {
	core, err := c.open.open(ctx, true)
	if err != nil {
		return nil, err
	}
	return core.Stream(), nil
}

// OpenUniStream opens a unidirectional stream, waiting for credit if needed.
func (c *Conn) OpenUniStream(ctx context.Context) (*stream.SendStream, error) {
	core, err := c.open.open(ctx, false)
	if err != nil {
		return nil, err
	}
	return core.SendStream(), nil
}

// AcceptStream waits for the peer's next bidirectional stream.
func (c *Conn) AcceptStream(ctx context.Context) (*stream.Stream, error) {
	core, err := c.acceptBidi.accept(ctx, c.ctx)
	if err != nil {
		return nil, err
	}
	return core.Stream(), nil
}

// AcceptUniStream waits for the peer's next unidirectional stream.
func (c *Conn) AcceptUniStream(ctx context.Context) (*stream.ReceiveStream, error) {
	core, err := c.acceptUni.accept(ctx, c.ctx)
	if err != nil {
		return nil, err
	}
	return core.ReceiveStream(), nil
}

// DialStream opens a bidirectional stream as a net.Conn. Its network and
// address arguments are ignored: it fits http.Transport.DialContext, so that
// net/http can run over streams of one QUIC connection.
func (c *Conn) DialStream(ctx context.Context, network, addr string) (net.Conn, error) {
	s, err := c.OpenStream(ctx)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Close closes the connection gracefully: data already written to streams
// whose write side was closed is delivered (acknowledged by the peer) first,
// bounded by a few round trips' worth of patience, then CONNECTION_CLOSE
// with application code 0 is sent. It returns once that is sent. The
// connection is then gone: on a Listener's endpoint, a small time-wait
// record answers stray packets with the same CONNECTION_CLOSE for three
// PTOs (RFC 9000 §10.2); a dialed connection has no closing period and
// releases its socket before Close returns.
func (c *Conn) Close() error {
	c.requestClose(&closeRequest{graceful: true})
	c.waitClosed()
	return nil
}

// CloseGraceful is Close with an application error code and reason in the
// CONNECTION_CLOSE that ends it: data already written and closed is
// delivered first. HTTP/3, for example, closes with H3_NO_ERROR (0x100).
func (c *Conn) CloseGraceful(code uint64, reason string) error {
	c.requestClose(&closeRequest{graceful: true, code: code, reason: reason})
	c.waitClosed()
	return nil
}

// CloseWithError closes the connection at once with an application error
// code and reason (CONNECTION_CLOSE of type 0x1d). It returns once the
// CONNECTION_CLOSE is sent, like Close.
func (c *Conn) CloseWithError(code uint64, reason string) error {
	c.requestClose(&closeRequest{code: code, reason: reason})
	c.waitClosed()
	return nil
}

// waitClosed waits until the CONNECTION_CLOSE is sent. A connection with a
// socket of its own (Dial) has no closing period: it then waits for the
// connection and its socket to be gone, so that nothing outlives Close.
func (c *Conn) waitClosed() {
	<-c.closed
	if c.ownsEndpoint {
		<-c.exited
		c.ep.Close()
	}
}

func (c *Conn) requestClose(r *closeRequest) {
	c.closeMu.Lock()
	if c.closeReq == nil {
		c.closeReq = r
	}
	c.closeMu.Unlock()
	c.wake.signal()
}

// abortLocal closes the connection at once because of err, for example when
// the endpoint closes.
func (c *Conn) abortLocal(err error) {
	if err == ErrEndpointClosed {
		c.epClosing.Store(true)
	}
	c.requestClose(&closeRequest{code: 0, err: err})
}

// signalClosed tells Close callers that the connection is closing and
// its CONNECTION_CLOSE, if any, is sent. Connection goroutine only.
func (c *Conn) signalClosed() {
	if !c.st.closedSignaled {
		c.st.closedSignaled = true
		close(c.closed)
	}
}

// stream.Owner, for the streams of this connection.

// Wake implements stream.Owner.
func (c *Conn) Wake(id stream.ID) { c.wake.add(id) }

// Consumed implements stream.Owner.
func (c *Conn) Consumed(n int) {
	total := c.consumed.Add(uint64(n))
	if total >= c.st.flow.wakeAt.Load() {
		c.wake.signal()
	}
}

// SmoothedRTT implements stream.Owner.
func (c *Conn) SmoothedRTT() time.Duration { return time.Duration(c.srtt.Load()) }

var _ stream.Owner = (*Conn)(nil)
