package quic

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/binary"
	"hash"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/tsumugi-quic/tsumugi/metrics"
	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

// Endpoint owns one UDP socket. Its reader goroutine routes each datagram by
// destination connection ID to a connection's inbox; a new Initial creates a
// server connection when the endpoint listens. Client and server
// connections may share an endpoint.
type Endpoint struct {
	pc packetConn // the primary socket's, as socks[0].pc
	// socks holds the primary socket, then a preferred address's or those
	// clients migrated to. Connection goroutines read it without a lock;
	// adding one copies the slice (under mu).
	socks  atomic.Pointer[[]*socket]
	config *Config
	// serverTLS is non-nil when the endpoint accepts connections.
	serverTLS *tls.Config
	listener  *Listener
	resetKey  [32]byte
	resetMACs sync.Pool // of hash.Hash: HMAC-SHA256 keyed with resetKey

	group  *errgroup.Group
	ctx    context.Context // cancelled when the endpoint closes
	cancel context.CancelFunc

	mu    sync.Mutex
	conns map[string]*Conn // by every connection ID that routes to a connection
	// resetTokens finds the connection a stateless reset is for: a reset
	// carries no connection ID we issued (RFC 9000 §10.3).
	resetTokens map[[16]byte]*Conn
	all         map[*Conn]struct{}
	closed      bool
	timeWaits   timeWaits // of connections that ended in their closing or draining period

	resetLimiter tokenBucket    // stateless resets and version negotiation sent
	preferred    netip.AddrPort // a listener's preferred address (RFC 9000 §9.6), if any
	tokensOnce   sync.Once
	tokenKeys    *tokenProtector // made on first use: only servers issue tokens
	handshaking  int             // server connections whose handshake is in progress (under mu)
}

// newEndpoint starts an endpoint on a socket bound to addr.
func newEndpoint(network, addr string, config *Config) (*Endpoint, error) {
	pc, err := openUDPSocket(network, addr)
	if err != nil {
		return nil, err
	}
	return newEndpointOn(pc, config), nil
}

// newEndpointOn starts an endpoint on pc, which it owns from then on.
func newEndpointOn(pc packetConn, config *Config) *Endpoint {
	e := &Endpoint{
		pc:          pc,
		config:      config.withDefaults(),
		conns:       make(map[string]*Conn),
		resetTokens: make(map[[16]byte]*Conn),
		all:         make(map[*Conn]struct{}),
	}
	e.resetLimiter = tokenBucket{rate: 100, burst: 100}
	if e.config.StatelessResetKey != nil {
		e.resetKey = *e.config.StatelessResetKey
	} else {
		rand.Read(e.resetKey[:])
	}
	e.ctx, e.cancel = context.WithCancel(context.Background())
	e.group = new(errgroup.Group)
	s := newSocket(0, pc)
	e.socks.Store(&[]*socket{s})
	s.start(e)
	return e
}

// LocalAddr returns the socket's address.
func (e *Endpoint) LocalAddr() net.Addr { return e.pc.LocalAddr() }

// handleDatagram routes d; it takes ownership of d's buffer.
func (e *Endpoint) handleDatagram(d datagram) {
	dcid, err := wire.PeekDstConnID(d.b, e.config.ConnectionIDLength)
	if err != nil {
		d.release()
		return
	}
	e.mu.Lock()
	c := e.conns[string(dcid)]
	e.mu.Unlock()
	if c != nil {
		if !c.inbox.put(d) {
			c.st.metrics.PacketDropped(metrics.DropQueue)
			d.release()
		}
		return
	}
	if e.absorbTimeWait(d, dcid) {
		return
	}
	if !wire.IsLongHeader(d.b[0]) {
		if c := e.resetTarget(d.b); c != nil {
			// The connection checks the token and ends (RFC 9000 §10.3.1).
			if !c.inbox.put(d) {
				d.release()
			}
			return
		}
		e.maybeSendStatelessReset(d, dcid)
		d.release()
		return
	}
	if len(d.b) < 5 {
		d.release()
		return
	}
	version := binary.BigEndian.Uint32(d.b[1:5])
	if e.serverTLS == nil || version == 0 {
		d.release()
		return
	}
	// RFC 9000 §14.1: a server discards an Initial in a datagram smaller
	// than 1200 bytes, and answers unknown versions only then (§6.1).
	if len(d.b) < minInitialPacketSize {
		d.release()
		return
	}
	if !e.config.supportsVersion(version) {
		e.sendVersionNegotiation(d)
		d.release()
		return
	}
	hdr, err := wire.ParseLongHeader(d.b)
	if err != nil || hdr.Type != wire.PacketInitial || len(hdr.DstConnID) < 8 {
		// RFC 9000 §7.2: the client's first Destination Connection ID
		// is at least 8 bytes long. 0-RTT packets that arrive before
		// their Initial are dropped.
		d.release()
		return
	}
	c = e.acceptConn(d, &hdr)
	if c == nil {
		d.release()
		return
	}
	if !c.inbox.put(d) {
		d.release()
	}
}

// acceptConn creates a server connection for a client's first Initial, or
// answers it with a Retry (RFC 9000 §8.1.2) and returns nil.
func (e *Endpoint) acceptConn(d datagram, hdr *wire.LongHeader) *Conn {
	seal, open := initialKeysIfOpens(d.b, hdr)
	if open == nil {
		// Garbage or forged Initials cost no connection state, no Retry
		// and no handshake slot: only a key derivation and a decryption.
		return nil
	}
	now := time.Now()
	s := connSetup{
		remote: d.addr, version: hdr.Version, tlsConf: e.serverTLS, config: e.config,
		odcid: hdr.DstConnID, peerSCID: hdr.SrcConnID,
		// The Initial keys derive from this packet's Destination
		// Connection ID, whether or not it follows a Retry (RFC 9001 §5.2).
		initialSeal: seal, initialOpen: open,
	}
	if len(hdr.Token) > 0 {
		// An invalid token is treated as no token (RFC 9000 §8.1.3).
		if t, err := e.tokens().open(hdr.Token, d.addr, now); err == nil {
			switch {
			case t.kind == tokenNewToken:
				s.validated = true
			case t.kind == tokenRetry && bytes.Equal(t.retrySCI, hdr.DstConnID):
				s.validated = true
				s.odcid, s.initialDCID, s.retrySCID = t.odcid, hdr.DstConnID, t.retrySCI
			}
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed || e.listener == nil || e.handshaking >= e.config.MaxHandshakes {
		return nil
	}
	if c := e.conns[string(hdr.DstConnID)]; c != nil {
		return c // raced with another datagram of the same connection
	}
	if !s.validated && (e.config.RequireAddressValidation ||
		e.config.RetryThreshold >= 0 && e.handshaking >= e.config.RetryThreshold) {
		e.sendRetry(d, hdr, now)
		return nil
	}
	c := newConn(e, s)
	e.conns[string(hdr.DstConnID)] = c
	for _, id := range c.st.cids.localIDs() {
		e.conns[string(id)] = c
	}
	e.all[c] = struct{}{}
	e.handshaking++
	c.countsAsHandshake = true
	e.group.Go(c.run)
	return c
}

// initialKeysIfOpens returns the server's Initial keys for the client
// Initial at the start of b, derived from its Destination Connection ID
// (RFC 9001 §5.2), if the packet decrypts with them; nil keys otherwise.
// It works on a copy: the connection opens the packet again, with the
// same keys.
func initialKeysIfOpens(b []byte, hdr *wire.LongHeader) (seal, open *wire.Keys) {
	n := hdr.PacketLen
	if n <= 0 || n > len(b) || n > maxPacketBufferSize {
		return nil, nil
	}
	scratch := getRxBuf(false) // a packet-sized buffer from the pool
	defer scratch.unref()
	pkt := scratch.b[:n]
	copy(pkt, b)
	seal, open = wire.NewInitialKeys(hdr.Version, hdr.DstConnID, false)
	pnLen, truncated, err := open.RemoveHeaderProtection(pkt, hdr.PNOffset)
	if err != nil {
		return nil, nil
	}
	pn := wire.DecodePacketNumber(wire.NoPacketNumber, truncated, pnLen*8)
	if _, err = open.Open(pkt, hdr.PNOffset+pnLen, pn); err != nil {
		return nil, nil
	}
	return seal, open
}

// sendRetry answers an Initial with a Retry carrying a token bound to the
// client's address (RFC 9000 §8.1.2, §17.2.5). It keeps no state: the
// token brings back what the connection needs. A Retry is smaller than the
// Initial that caused it, so it cannot amplify.
func (e *Endpoint) sendRetry(d datagram, hdr *wire.LongHeader, now time.Time) {
	scid := make([]byte, e.config.ConnectionIDLength)
	rand.Read(scid)
	tok := e.tokens().seal(token{kind: tokenRetry, issued: now, odcid: hdr.DstConnID, retrySCI: scid}, d.addr)
	var buf [512]byte
	pkt := wire.AppendRetry(buf[:0], hdr.Version, hdr.SrcConnID, scid, tok, hdr.DstConnID)
	e.writeTo(pkt, d.addr)
}

// tokens returns the endpoint's token protector, with a random key made on
// first use.
func (e *Endpoint) tokens() *tokenProtector {
	e.tokensOnce.Do(func() {
		var k [32]byte
		rand.Read(k[:])
		e.tokenKeys = newTokenProtector(k)
	})
	return e.tokenKeys
}

// handshakeFinished: a server connection's handshake completed or failed.
func (e *Endpoint) handshakeFinished(c *Conn) {
	e.mu.Lock()
	if c.countsAsHandshake {
		c.countsAsHandshake = false
		e.handshaking--
	}
	e.mu.Unlock()
}

// addResetToken lets a stateless reset with token t reach c.
func (e *Endpoint) addResetToken(t [16]byte, c *Conn) {
	e.mu.Lock()
	e.resetTokens[t] = c
	e.mu.Unlock()
}

// removeResetToken forgets a token of c's peer (its connection ID retired).
func (e *Endpoint) removeResetToken(t [16]byte, c *Conn) {
	e.mu.Lock()
	if e.resetTokens[t] == c {
		delete(e.resetTokens, t)
	}
	e.mu.Unlock()
}

// resetTarget returns the connection whose peer's reset token ends d.
func (e *Endpoint) resetTarget(d []byte) *Conn {
	if len(d) < 21 {
		return nil
	}
	var t [16]byte
	copy(t[:], d[len(d)-16:])
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.resetTokens[t]
}

// addConnID routes id to c; the connection calls it for each connection ID
// it issues.
func (e *Endpoint) addConnID(id []byte, c *Conn) {
	e.mu.Lock()
	e.conns[string(id)] = c
	e.mu.Unlock()
}

// removeConnID stops routing id.
func (e *Endpoint) removeConnID(id []byte, c *Conn) {
	e.mu.Lock()
	if e.conns[string(id)] == c {
		delete(e.conns, string(id))
	}
	e.mu.Unlock()
}

// connDone forgets every route to c; the connection goroutine calls it as
// it exits.
func (e *Endpoint) connDone(c *Conn) {
	tw := c.st.timeWait
	now := time.Now()
	if tw != nil && !now.Before(tw.until) {
		tw = nil
	}
	e.mu.Lock()
	for id, cc := range e.conns {
		if cc == c {
			delete(e.conns, id)
			if tw != nil {
				tw.keys = append(tw.keys, id)
			}
		}
	}
	if tw != nil && !e.closed {
		e.timeWaits.add(tw, now)
	}
	delete(e.all, c)
	for t, cc := range e.resetTokens {
		if cc == c {
			delete(e.resetTokens, t)
		}
	}
	if c.countsAsHandshake {
		c.countsAsHandshake = false
		e.handshaking--
	}
	owned := c.ownsEndpoint && len(e.all) == 0 && !e.closed
	if owned {
		e.closed = true
	}
	e.mu.Unlock()
	if owned {
		// A Dial endpoint lives as long as its connection: close the
		// socket now so that its reader exits; Conn.Close waits for it.
		e.cancel()
		e.closeSockets()
	}
}

// closeSockets closes every socket of the endpoint; their readers exit.
func (e *Endpoint) closeSockets() error {
	var err error
	for _, s := range *e.socks.Load() {
		if cerr := s.close(); err == nil {
			err = cerr
		}
	}
	return err
}

// ecnCapable reports whether the primary socket carries ECN codepoints.
func (e *Endpoint) ecnCapable() bool { return (*e.socks.Load())[0].ecnCapable() }

// writeTrain sends a train of datagrams from socket sock (see
// socket.writeTrain).
func (e *Endpoint) writeTrain(sock int, buf []byte, seg int, addr netip.AddrPort, ecn uint8) error {
	return (*e.socks.Load())[sock].writeTrain(buf, seg, addr, ecn)
}

// writeTo sends one datagram.
func (e *Endpoint) writeTo(b []byte, addr netip.AddrPort) error {
	_, err := e.pc.WriteToUDPAddrPort(b, addr)
	return err
}

// statelessResetToken derives the token for one of our connection IDs
// (RFC 9000 §10.3.2): an HMAC of the ID under the endpoint's static key.
// The keyed HMACs are pooled: a connection takes several tokens (one per
// connection ID it issues), and keying an HMAC costs two SHA-256 blocks
// and its allocations.
func (e *Endpoint) statelessResetToken(cid []byte) [16]byte {
	m, _ := e.resetMACs.Get().(hash.Hash)
	if m == nil {
		m = hmac.New(sha256.New, e.resetKey[:])
	} else {
		m.Reset()
	}
	m.Write(cid)
	var sum [sha256.Size]byte
	var t [16]byte
	copy(t[:], m.Sum(sum[:0]))
	e.resetMACs.Put(m)
	return t
}

// maybeSendStatelessReset answers a short-header packet for an unknown
// connection (RFC 9000 §10.3): it looks like a short-header packet, is
// shorter than the packet that triggered it (so that two endpoints cannot
// loop), and ends with the token for the destination connection ID.
func (e *Endpoint) maybeSendStatelessReset(d datagram, dcid []byte) {
	const minReset = 21 // 5 unpredictable bytes + 16-byte token
	if len(d.b) <= minReset || len(dcid) == 0 || !e.resetLimiter.allow(time.Now()) {
		return
	}
	size := min(len(d.b)-1, 40)
	var pkt [40]byte
	rand.Read(pkt[:size-16])
	pkt[0] = 0x40 | pkt[0]&0x3f // fixed bit set, short header
	tok := e.statelessResetToken(dcid)
	copy(pkt[size-16:size], tok[:])
	e.writeTo(pkt[:size], d.addr)
}

// sendVersionNegotiation answers a long-header packet of a version we do
// not speak (RFC 9000 §6.1).
func (e *Endpoint) sendVersionNegotiation(d datagram) {
	if !e.resetLimiter.allow(time.Now()) {
		return
	}
	// Invariants (RFC 8999 §5.1): byte 0, version, DCID len+DCID, SCID len+SCID.
	b := d.b
	if len(b) < 6 {
		return
	}
	dl := int(b[5])
	if len(b) < 6+dl+1 {
		return
	}
	dcid := b[6 : 6+dl]
	sl := int(b[6+dl])
	if len(b) < 7+dl+sl {
		return
	}
	scid := b[7+dl : 7+dl+sl]
	var out [256 + 64]byte
	// The answer swaps the connection IDs (RFC 9000 §17.2.1).
	pkt := wire.AppendVersionNegotiation(out[:0], scid, dcid, e.config.Versions...)
	e.writeTo(pkt, d.addr)
}

// Close closes every connection (without waiting for their peers), the
// socket, and waits for the endpoint's goroutines.
func (e *Endpoint) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return e.group.Wait()
	}
	e.closed = true
	e.timeWaits = timeWaits{} // the socket goes: nothing left to absorb
	conns := make([]*Conn, 0, len(e.all))
	for c := range e.all {
		conns = append(conns, c)
	}
	e.mu.Unlock()
	for _, c := range conns {
		c.abortLocal(ErrEndpointClosed)
	}
	// Connections send their CONNECTION_CLOSE as they exit; wait for them
	// before closing the socket.
	for _, c := range conns {
		<-c.exited
	}
	e.cancel()
	err := e.closeSockets()
	e.group.Wait()
	return err
}

// tokenBucket is a simple rate limiter owned by one goroutine at a time.
type tokenBucket struct {
	rate, burst float64
	tokens      float64
	last        time.Time
}

func (t *tokenBucket) allow(now time.Time) bool {
	if t.last.IsZero() {
		t.tokens = t.burst
	} else {
		t.tokens = min(t.burst, t.tokens+now.Sub(t.last).Seconds()*t.rate)
	}
	t.last = now
	if t.tokens < 1 {
		return false
	}
	t.tokens--
	return true
}
