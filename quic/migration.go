package quic

import (
	"crypto/rand"
	"net"
	"net/netip"
	"time"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
	"github.com/tsumugi-quic/tsumugi/sched"
)

// Connection migration, server side (RFC 9000 §9): a client's packets may
// arrive from a new address, because a NAT rebound its port or address or
// because the client moved. The connection follows the client to the new
// address when the packet with the highest packet number so far arrives
// there carrying more than probing frames (§9.3), and validates the new
// path with PATH_CHALLENGE (§8.2); until then it sends at most three times
// what it received there (§9.3.1). Packets with only probing frames from
// another address get a PATH_RESPONSE on that path and change nothing.

// pathStates holds what a connection knows of paths other than its first:
// a server's validation of a client's new address, a client's validation
// of the server's preferred address, and a client's own migration.
type pathStates struct {
	path pathValidation
	pref preferredPath
	migr activeMigration
}

// pathsAlloc returns st.paths, made on first use.
func (st *connState) pathsAlloc() *pathStates {
	if st.paths == nil {
		st.paths = new(pathStates)
	}
	return st.paths
}

// acceptsFrom reports whether a client takes a datagram that did not come
// from its current path: an answer from the preferred address, or one of
// its own migration's paths.
func (p *pathStates) acceptsFrom(st *connState, addr netip.AddrPort, sock int) bool {
	if p == nil {
		return false
	}
	return (p.pref.active && addr == p.pref.addr) || p.migr.acceptsFrom(st, sock)
}

// nextDeadline is the earliest timer of the path validations in progress.
func (p *pathStates) nextDeadline() time.Time {
	if p == nil {
		return time.Time{}
	}
	t := p.migr.nextDeadline()
	if p.path.active {
		t = earlier(t, challengeDeadline(p.path.deadline, p.path.sentAt))
	}
	if p.pref.active {
		t = earlier(t, challengeDeadline(p.pref.deadline, p.pref.sentAt))
	}
	return t
}

// challengeDeadline is when a validation sending PATH_CHALLENGE (last at
// sentAt, zero if not yet) must run next: to give up, or to send again.
func challengeDeadline(deadline, sentAt time.Time) time.Time {
	if sentAt.IsZero() {
		return deadline
	}
	return earlier(deadline, sentAt.Add(pathChallengeInterval))
}

// pathValidation is a PATH_CHALLENGE in progress.
type pathValidation struct {
	active   bool
	data     [8]byte
	deadline time.Time
	sentAt   time.Time
	prev     netip.AddrPort // the path to return to if validation fails
	prevSock int
	prevOK   bool // prev was validated
}

// pathChallengeInterval spaces retransmitted PATH_CHALLENGE frames.
const pathChallengeInterval = 200 * time.Millisecond

// onPacketFromNewAddress decides what a processed 1-RTT packet from addr
// (not the current path) means. probing: it carried only probing frames.
func (c *Conn) onPacketFromNewAddress(addr netip.AddrPort, sock int, pn uint64, probing bool, now time.Time) {
	st := &c.st
	l := &st.levels[sched.AppData]
	if probing || c.isClient || !st.handshakeConfirm {
		// RFC 9000 §9: no migration before the handshake is confirmed,
		// and only a client's address moves.
		return
	}
	if largest, ok := l.recv.Largest(); ok && pn < largest {
		return // an older packet, reordered (§9.3)
	}
	c.migrateTo(addr, sock, now)
}

// migrateTo moves the connection to addr and starts validating it.
func (c *Conn) migrateTo(addr netip.AddrPort, sock int, now time.Time) {
	st := &c.st
	path := &st.pathsAlloc().path
	old := st.remote
	path.prev, path.prevSock, path.prevOK = old, st.sock, st.addrValidated
	st.remote, st.sock = addr, sock
	c.remoteAddr.Store(net.UDPAddrFromAddrPort(addr))
	// RFC 9000 §9.4: a new address needs a fresh congestion window and
	// RTT estimate; a changed port alone is most likely a NAT rebinding
	// on the same path.
	if old.Addr() != addr.Addr() {
		st.rec.OnPathChange(now)
	}
	// §9.3.1: limit what we send until the new address is validated.
	st.addrValidated = false
	st.bytesReceived, st.bytesSent = 0, 0
	// §9.5: use a connection ID the client has not seen on the old path.
	st.cids.rotatePeer()
	path.active = true
	rand.Read(path.data[:])
	path.deadline = now.Add(max(3*st.rec.PTO(), 6*333*time.Millisecond))
	// The first packet on the new path is the PATH_CHALLENGE, in its own
	// datagram padded toward 1200 bytes within three times what arrived
	// there (§8.2.1, §9.3.1); ACKs and data follow.
	f := wire.PathChallengeFrame{Data: path.data}
	var frame [9]byte
	c.sendProbe(now, addr, sock, st.cids.peerCurrent(), f.Append(frame[:0]), min(minInitialPacketSize, 3*st.rxBytes))
	path.sentAt = now
	st.metrics.PathChanged()
}

// checkPathValidation retries or abandons a validation in progress.
func (c *Conn) checkPathValidation(now time.Time) {
	st := &c.st
	if st.paths == nil {
		return
	}
	path := &st.paths.path
	if !path.active || now.Before(path.deadline) {
		return
	}
	// §9.3.2: validation failed; go back to the old path if it was good.
	path.active = false
	if path.prevOK {
		st.remote, st.sock = path.prev, path.prevSock
		c.remoteAddr.Store(net.UDPAddrFromAddrPort(st.remote))
		st.addrValidated = true
		return
	}
	c.closeSilently(&TransportError{Code: wire.NoViablePath, Reason: "path validation failed"})
}

// onPathResponse handles a PATH_RESPONSE: the current path is validated if
// it answers our challenge.
func (c *Conn) onPathResponse(data [8]byte) {
	st := &c.st
	if st.paths == nil {
		return
	}
	if path := &st.paths.path; path.active && data == path.data {
		path.active = false
		st.addrValidated = true
	}
}

// pathChallengeDue reports whether a PATH_CHALLENGE should go in the next
// packet; markPathChallengeSent records that it went.
func (c *Conn) pathChallengeDue(now time.Time) bool {
	if c.st.paths == nil {
		return false
	}
	p := &c.st.paths.path
	return p.active && (p.sentAt.IsZero() || now.Sub(p.sentAt) >= pathChallengeInterval)
}

// sendPathResponse answers a PATH_CHALLENGE that arrived from addr, not
// the current path, on that path (RFC 9000 §8.2.2), in its own datagram
// padded to 1200 bytes (§8.2.1) within three times what came from there.
func (c *Conn) sendPathResponse(addr netip.AddrPort, data [8]byte, received int, now time.Time) {
	st := &c.st
	if st.app.seal == nil {
		return
	}
	f := wire.PathResponseFrame{Data: data}
	var frame [9]byte
	// §9.5: a connection ID is not used toward more than one address: the
	// answer takes one the peer gave us and we have not used, the one we
	// move to should the peer migrate there (rotatePeer).
	dcid := st.cids.peerCurrent()
	if seq, ok := st.cids.spareSeq(); ok {
		if id := st.cids.peerBySeq(seq); id != nil {
			dcid = id
		}
	}
	c.sendProbe(now, addr, st.rxSock, dcid, f.Append(frame[:0]), min(minInitialPacketSize, 3*received))
}
