package quic

import (
	"context"
	"crypto/rand"
	"errors"
	"net"
	"sync/atomic"
	"time"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

// Active migration, client side (RFC 9000 §9.2): the application moves the
// connection to a new local socket, on another network interface or a new
// port. The client probes the new path first: a PATH_CHALLENGE leaves the
// new socket with a connection ID of the server's that it has not used
// before (§9.5), and the connection moves only when the PATH_RESPONSE
// comes back to that socket (§8.2.2, §9.1). From then on every packet
// leaves the new socket; the server, seeing non-probing packets from a new
// address, follows and validates the path itself (§9.3). The old socket
// stays open for a few PTOs for packets already on their way to it.

// Errors of Conn.Migrate.
var (
	// ErrMigrationDisabled: the server sent disable_active_migration
	// (RFC 9000 §18.2) and the connection is still on the address of the
	// handshake.
	ErrMigrationDisabled = errors.New("quic: the server does not allow active migration (disable_active_migration)")
	// ErrNoSpareConnectionID: the server has not issued a connection ID
	// for a new path (RFC 9000 §9.5), or uses one the client may not
	// reuse on another path.
	ErrNoSpareConnectionID = errors.New("quic: no unused connection ID of the server for a new path")
	// ErrPathValidation: the new path did not answer PATH_CHALLENGE in
	// time; the connection stays on its old path.
	ErrPathValidation = errors.New("quic: the new path did not answer PATH_CHALLENGE; the connection stays on its path")
	// errMigrationCancelled answers a request whose context ended.
	errMigrationCancelled = errors.New("quic: migration cancelled")
)

// migrateRequest is an application's request to move to socket sock.
type migrateRequest struct {
	sock      int
	done      chan error // capacity 1: answered once by the connection goroutine
	cancelled atomic.Bool
}

// activeMigration is the client's state for Conn.Migrate, owned by the
// connection goroutine.
type activeMigration struct {
	req      *migrateRequest // the migration in progress, or nil
	probing  bool            // the PATH_CHALLENGE is out (the handshake is confirmed)
	data     [8]byte
	cidSeq   uint64
	sentAt   time.Time
	deadline time.Time

	oldSock  int       // the socket left behind
	oldUntil time.Time // when to close it (zero: nothing to close)
}

// Migrate moves a client connection to a new UDP socket bound to laddr
// ("host:port"; port 0 picks one), for example when the host changes
// networks or a NAT binding went stale (RFC 9000 §9.2). It validates the
// new path with PATH_CHALLENGE before moving and returns once the
// connection sends from the new socket; on error the connection stays
// where it was. It waits for the handshake to be confirmed. Only a
// client migrates; a server follows its client.
func (c *Conn) Migrate(ctx context.Context, laddr string) error {
	if !c.isClient {
		return errors.New("quic: only a client migrates (RFC 9000 §9)")
	}
	network := "udp4"
	if c.remoteAddr.Load().AddrPort().Addr().Is6() {
		network = "udp6"
	}
	pc, err := openUDPSocket(network, laddr)
	if err != nil {
		return err
	}
	return c.migrateOn(ctx, pc)
}

// migrateOn moves the connection to pc, which the endpoint owns from then
// on (tests pass an in-memory socket).
func (c *Conn) migrateOn(ctx context.Context, pc packetConn) error {
	sock, err := c.ep.addSocket(pc)
	if err != nil {
		return err
	}
	r := &migrateRequest{sock: sock, done: make(chan error, 1)}
	if !c.migrateReq.CompareAndSwap(nil, r) {
		c.ep.closeSocket(sock)
		return errors.New("quic: a migration is already in progress")
	}
	c.wake.signal()
	select {
	case err := <-r.done:
		return err
	case <-c.exited:
		return context.Cause(c.ctx)
	case <-ctx.Done():
	}
	r.cancelled.Store(true)
	c.wake.signal()
	select {
	case err := <-r.done:
		if err == errMigrationCancelled {
			return ctx.Err()
		}
		return err
	case <-c.exited:
		return context.Cause(c.ctx)
	}
}

// handleMigrateRequest takes a new request and drives the one in progress:
// it starts probing once the handshake is confirmed, and gives up when the
// application's context ended.
func (c *Conn) handleMigrateRequest(now time.Time) {
	st := &c.st
	r := c.migrateReq.Load()
	if r == nil && (st.paths == nil || st.paths.migr.req == nil) {
		return
	}
	paths := st.pathsAlloc()
	m := &paths.migr
	if m.req == nil {
		m.req = r
	}
	switch {
	case st.phase >= phaseClosing:
		c.endMigration(st.closeErr)
		return
	case m.req.cancelled.Load():
		c.endMigration(errMigrationCancelled)
		return
	case m.probing || !st.handshakeConfirm || paths.pref.active:
		// Not yet, or following the preferred address (§9.6) first.
		return
	case st.peerParams.DisableActiveMigration && !(paths.pref.addr.IsValid() && st.remote == paths.pref.addr):
		// §18.2: the client may still move after it followed the
		// server's preferred address (§9.6).
		c.endMigration(ErrMigrationDisabled)
		return
	}
	seq, ok := st.cids.spareSeq()
	if !ok {
		c.endMigration(ErrNoSpareConnectionID)
		return
	}
	m.probing, m.cidSeq = true, seq
	rand.Read(m.data[:])
	m.sentAt = time.Time{}
	m.deadline = now.Add(max(3*st.rec.PTO(), 6*333*time.Millisecond))
}

// sendMigrationChallenge sends (or re-sends) the PATH_CHALLENGE from the
// new socket, in a datagram padded to 1200 bytes (§8.2.1).
func (c *Conn) sendMigrationChallenge(now time.Time) {
	st := &c.st
	if st.paths == nil {
		return
	}
	m := &st.paths.migr
	if !m.probing || st.app.seal == nil || (!m.sentAt.IsZero() && now.Sub(m.sentAt) < pathChallengeInterval) {
		return
	}
	dcid := st.cids.peerBySeq(m.cidSeq)
	if dcid == nil && !st.cids.zeroLengthPeer() {
		c.endMigration(ErrNoSpareConnectionID) // retired meanwhile
		return
	}
	f := wire.PathChallengeFrame{Data: m.data}
	var frame [9]byte
	c.sendProbe(now, st.remote, m.req.sock, dcid, f.Append(frame[:0]), minInitialPacketSize)
	m.sentAt = now
}

// onMigrationResponse handles a PATH_RESPONSE: if it answers our challenge
// and came back to the new socket from the server, the connection moves.
func (c *Conn) onMigrationResponse(data [8]byte, now time.Time) bool {
	st := &c.st
	if st.paths == nil {
		return false
	}
	m := &st.paths.migr
	if !m.probing || data != m.data || st.rxSock != m.req.sock || st.rxAddr != st.remote {
		return false
	}
	old := st.sock
	st.sock = m.req.sock
	st.cids.useSeq(m.cidSeq)
	// §9.4: a new local address is a new path: fresh congestion window
	// and RTT estimate.
	st.rec.OnPathChange(now)
	if ua, ok := c.ep.socketAddr(st.sock).(*net.UDPAddr); ok {
		c.localAddr.Store(ua)
	}
	st.metrics.PathChanged()
	c.endMigration(nil)
	if c.ownsEndpoint {
		// No other connection sends from the old socket: close it once
		// what was in flight toward it has had time to arrive (and one
		// left by a migration just before, now).
		if !m.oldUntil.IsZero() {
			c.ep.closeSocket(m.oldSock)
		}
		m.oldSock, m.oldUntil = old, now.Add(3*st.rec.PTO())
	}
	return true
}

// checkMigration gives up a validation that timed out and closes an old
// socket whose time is up.
func (c *Conn) checkMigration(now time.Time) {
	if c.st.paths == nil {
		return
	}
	m := &c.st.paths.migr
	if m.probing && !now.Before(m.deadline) {
		c.endMigration(ErrPathValidation)
	}
	if !m.oldUntil.IsZero() && !now.Before(m.oldUntil) {
		m.oldUntil = time.Time{}
		c.ep.closeSocket(m.oldSock)
	}
}

// migrationDeadline is when checkMigration or sendMigrationChallenge must
// run next, or the zero time.
func (m *activeMigration) nextDeadline() time.Time {
	var t time.Time
	if m.probing {
		t = challengeDeadline(m.deadline, m.sentAt)
	}
	if !m.oldUntil.IsZero() {
		t = earlier(t, m.oldUntil)
	}
	return t
}

// earlier returns the earlier of two times, ignoring zero ones.
func earlier(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// endMigration answers the request in progress with err (nil: moved). A
// failed migration's socket closes.
func (c *Conn) endMigration(err error) {
	st := &c.st
	if st.paths == nil || st.paths.migr.req == nil {
		return
	}
	m := &st.paths.migr
	r := m.req
	if err != nil {
		c.ep.closeSocket(r.sock)
	}
	m.req, m.probing = nil, false
	c.migrateReq.CompareAndSwap(r, nil)
	r.done <- err
}

// acceptsFrom reports whether a client takes a datagram from addr on
// socket sock although it is not the current path: the server's answer on
// a path being probed, or late packets on the socket just left.
func (m *activeMigration) acceptsFrom(st *connState, sock int) bool {
	if st.rxAddr != st.remote {
		return false
	}
	return (m.probing && sock == m.req.sock) || (!m.oldUntil.IsZero() && sock == m.oldSock)
}
