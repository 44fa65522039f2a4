package quic

import (
	"crypto/rand"
	"net"
	"net/netip"
	"time"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
	"github.com/tsumugi-quic/tsumugi/sched"
)

// The server's preferred address (RFC 9000 §9.6): a server listening on a
// second address offers it in its transport parameters with a connection
// ID (sequence number 1); once the handshake is confirmed the client
// validates a path to it with PATH_CHALLENGE and moves there. The server's
// side needs nothing more than the second socket: the client's packets to
// it route by connection ID, and the server follows the client to the new
// path as for any migration.

// preferredPath is the client's validation of the server's preferred address.
type preferredPath struct {
	addr     netip.AddrPort
	cidSeq   uint64 // the connection ID to use there (1)
	active   bool
	data     [8]byte
	sentAt   time.Time
	deadline time.Time
}

// listenPreferred opens the listener's second socket.
func (e *Endpoint) listenPreferred(addr netip.AddrPort) error {
	network := "udp4"
	if addr.Addr().Is6() {
		network = "udp6"
	}
	pc, err := openUDPSocket(network, addr.String())
	if err != nil {
		return err
	}
	if _, err := e.addSocket(pc); err != nil {
		return err
	}
	e.preferred = pc.LocalAddr().(*net.UDPAddr).AddrPort()
	return nil
}

// preferredAddressParam is the preferred_address transport parameter of a
// server connection, with the connection ID of sequence number 1.
func (st *connState) preferredAddressParam() *wire.PreferredAddress {
	pref := st.c.ep.preferred
	if !pref.IsValid() || len(st.cids.local) < 2 || st.cids.local[1].seq != 1 {
		return nil
	}
	l := &st.cids.local[1]
	p := &wire.PreferredAddress{ConnectionID: l.id, StatelessResetToken: l.token}
	if pref.Addr().Is4() {
		p.IPv4 = pref
	} else {
		p.IPv6 = pref
	}
	return p
}

// onPreferredAddress (client) records the server's preferred address and
// its connection ID from the transport parameters.
func (c *Conn) onPreferredAddress(p *wire.PreferredAddress) error {
	st := &c.st
	addr := p.IPv4
	if st.remote.Addr().Is6() || !addr.IsValid() {
		addr = p.IPv6
	}
	if !addr.IsValid() || len(p.ConnectionID) == 0 {
		return nil
	}
	f := wire.NewConnectionIDFrame{Seq: 1, ConnID: p.ConnectionID, ResetToken: p.StatelessResetToken}
	if err := st.cids.handleNewConnectionID(&f); err != nil {
		return err
	}
	st.pathsAlloc().pref = preferredPath{addr: addr, cidSeq: 1}
	return nil
}

// startPreferredValidation (client, handshake confirmed) starts probing the
// preferred address.
func (c *Conn) startPreferredValidation(now time.Time) {
	if c.st.paths == nil {
		return
	}
	p := &c.st.paths.pref
	if !p.addr.IsValid() || p.active {
		return
	}
	p.active = true
	rand.Read(p.data[:])
	p.deadline = now.Add(max(3*c.st.rec.PTO(), 6*333*time.Millisecond))
}

// sendPreferredChallenge sends (or re-sends) the PATH_CHALLENGE to the
// preferred address, in its own datagram padded to 1200 bytes (§8.2.1).
func (c *Conn) sendPreferredChallenge(now time.Time) {
	st := &c.st
	if st.paths == nil {
		return
	}
	p := &st.paths.pref
	if !p.active || st.app.seal == nil || (!p.sentAt.IsZero() && now.Sub(p.sentAt) < pathChallengeInterval) {
		return
	}
	if !now.Before(p.deadline) {
		p.active = false // the server keeps its first address
		p.addr = netip.AddrPort{}
		return
	}
	dcid := st.cids.peerBySeq(p.cidSeq)
	if dcid == nil {
		p.active = false
		return
	}
	f := wire.PathChallengeFrame{Data: p.data}
	c.sendProbe(now, p.addr, st.sock, dcid, f.Append(nil), minInitialPacketSize)
	p.sentAt = now
}

// onPreferredResponse (client): the preferred address answered; move there.
func (c *Conn) onPreferredResponse(data [8]byte, now time.Time) bool {
	st := &c.st
	if st.paths == nil {
		return false
	}
	p := &st.paths.pref
	if !p.active || data != p.data || st.rxAddr != p.addr {
		return false
	}
	p.active = false
	st.remote = p.addr
	c.remoteAddr.Store(net.UDPAddrFromAddrPort(p.addr))
	st.cids.useSeq(p.cidSeq)
	st.rec.OnPathChange(now) // RFC 9000 §9.4: a new address, new estimates
	return true
}

// sendProbe sends one 1-RTT packet with the given frames to addr (not the
// current path), with destination connection ID dcid, padded to size.
func (c *Conn) sendProbe(now time.Time, addr netip.AddrPort, sock int, dcid []byte, frames []byte, size int) {
	st := &c.st
	l := &st.levels[sched.AppData]
	p := builtPacket{sp: sched.AppData, pt: wire.Packet1RTT, lengthOffset: -1, keys: st.app.seal, pn: l.nextPN}
	p.pnLen = wire.PacketNumberLen(p.pn, l.largestAcked, l.hasAcked)
	tb := txPool.Get().(*[]byte)
	defer txPool.Put(tb)
	buf := (*tb)[:0]
	buf = wire.AppendShortHeader(buf, dcid, p.pnLen, st.app.sendPhase, false)
	p.pnOffset = len(buf)
	buf = wire.AppendPacketNumber(buf, p.pn, p.pnLen)
	buf = append(buf, frames...)
	if pad := size - aeadOverhead - len(buf); pad > 0 {
		buf = wire.AppendPadding(buf, pad)
	}
	rec := st.records.Get()
	rec.Space, rec.PacketNumber = sched.AppData, p.pn
	rec.Add(sched.FrameRecord{Kind: sched.FramePing})
	p.rec = rec
	p.payloadEnd = len(buf)
	l.nextPN++
	buf = buf[:len(buf)+aeadOverhead]
	c.sealPacket(buf, &p, now)
	c.writeDatagram(buf, sock, addr)
	if addr == st.remote && sock == st.sock {
		st.bytesSent += uint64(len(buf)) // counts toward the 3x limit (RFC 9000 §8.1)
	}
}
