package quic

import (
	"bytes"
	"github.com/tsumugi-quic/tsumugi/metrics"
	"github.com/tsumugi-quic/tsumugi/quic/internal/recovery"
	"time"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
	"github.com/tsumugi-quic/tsumugi/sched"
)

// handleDatagram processes every packet coalesced in one datagram
// (RFC 9000 §12.2).
func (c *Conn) handleDatagram(d *datagram, now time.Time) {
	st := &c.st
	if st.phase >= phaseDraining {
		return
	}
	st.rxAddr, st.rxBytes, st.rxSock, st.rxECN = d.addr, len(d.b), d.sock, recovery.ECNCodepoint(d.ecn&3)
	if d.addr == st.remote && d.sock == st.sock {
		st.bytesReceived += uint64(len(d.b))
	} else if wire.IsLongHeader(d.b[0]) || c.isClient && !st.paths.acceptsFrom(st, d.addr, d.sock) {
		// Only a client moves, and only with 1-RTT packets (RFC 9000 §9).
		st.metrics.PacketDropped(metrics.DropAddress)
		return
	}
	b := d.b
	var firstDCID []byte
	processed := false
	for len(b) > 0 {
		var n int
		var ok bool
		var err error
		if wire.IsLongHeader(b[0]) {
			n, ok, err = c.handleLongPacket(b, &firstDCID, now)
		} else {
			n, ok, err = c.handleShortPacket(b, firstDCID, now)
		}
		if err != nil {
			c.closeLocal(err, now)
			return
		}
		processed = processed || ok
		if n <= 0 || n > len(b) {
			break
		}
		b = b[n:]
	}
	if !processed && !wire.IsLongHeader(d.b[0]) && st.cids.isStatelessReset(d.b) {
		c.closeSilently(ErrStatelessReset)
		return
	}
	if processed && st.phase == phaseClosing {
		c.onClosingPacket(now)
	}
	if processed && st.pending != nil {
		c.processPending(now)
	}
}

// handleLongPacket processes one long-header packet at the start of b. It
// returns the packet's length (0: drop the rest of the datagram) and whether
// the packet was processed.
func (c *Conn) handleLongPacket(b []byte, firstDCID *[]byte, now time.Time) (int, bool, error) {
	st := &c.st
	hdr, err := wire.ParseLongHeader(b)
	if err != nil {
		st.metrics.PacketDropped(metrics.DropHeader)
		return 0, false, nil
	}
	switch {
	case hdr.Type == wire.PacketVersionNegotiation:
		if c.isClient && !st.gotServerInitial {
			c.handleVersionNegotiation(b)
		}
		return 0, false, nil
	case hdr.Version != st.version && !c.acceptVersion(&hdr):
		return 0, false, nil
	case hdr.Type == wire.PacketRetry:
		if c.isClient {
			c.handleRetry(b, now)
		}
		return 0, false, nil
	}
	n := hdr.PNOffset + int(hdr.Length)
	if n > len(b) {
		return 0, false, nil
	}
	if *firstDCID == nil {
		*firstDCID = hdr.DstConnID
	} else if !bytes.Equal(*firstDCID, hdr.DstConnID) {
		return n, false, nil // RFC 9000 §12.2: all packets of a datagram share a DCID
	}
	var sp sched.Space
	switch hdr.Type {
	case wire.PacketInitial:
		sp = sched.Initial
	case wire.PacketHandshake:
		sp = sched.Handshake
	case wire.Packet0RTT:
		sp = sched.AppData
		if c.isClient {
			return n, false, nil
		}
	default:
		return n, false, nil
	}
	l := &st.levels[sp]
	keys := l.open
	if hdr.Type == wire.Packet0RTT {
		keys = st.app.zeroOpen
	}
	if hdr.Version != st.version {
		// A server's Initial keys of the original version, after a
		// compatible version switch (RFC 9369 §4).
		keys = st.origInitialOpen
	}
	if keys == nil {
		// A Handshake packet before the Handshake keys: kept for them
		// (RFC 9001 §5.7).
		if !(sp == sched.Handshake && !l.discarded && c.keepUndecryptable(b[:n], sp)) {
			st.metrics.PacketDropped(metrics.DropNoKeys)
		}
		return n, false, nil
	}
	pkt := b[:n]
	pnLen, truncated, err := keys.RemoveHeaderProtection(pkt, hdr.PNOffset)
	if err != nil {
		return n, false, nil
	}
	pn := wire.DecodePacketNumber(l.largestRecv(), truncated, pnLen*8)
	payload, err := keys.Open(pkt, hdr.PNOffset+pnLen, pn)
	if err != nil {
		st.metrics.PacketDropped(metrics.DropDecrypt)
		return n, false, nil
	}
	// RFC 9000 §17.2: reserved bits must be zero once protection is removed.
	if pkt[0]&0x0c != 0 {
		return n, true, &wire.TransportError{Code: wire.ProtocolViolation, Reason: "reserved bits set"}
	}
	if l.recv.IsDuplicate(pn) {
		return n, true, nil
	}
	if hdr.Type == wire.Packet0RTT {
		st.zeroRTTReceived = true
	}
	if c.isClient && sp == sched.Initial && !st.gotServerInitial {
		// RFC 9000 §7.2: the client switches to the server's chosen ID.
		st.gotServerInitial = true
		st.cids.setServerID(hdr.SrcConnID)
	}
	st.metrics.PacketReceived(hdr.Type, len(pkt))
	st.tracePacket(now, false, hdr.Type, pn, payload, len(pkt))
	ackEliciting, _, err := c.handleFrames(sp, hdr.Type, payload, hdr.DstConnID, now)
	if err != nil {
		return n, true, err
	}
	l.recv.OnPacket(pn, ackEliciting, st.rxECN, now)
	st.lastActivity = now
	if !c.isClient && sp == sched.Handshake && !st.addrValidated {
		// RFC 9000 §8.1: a Handshake packet validates the client's
		// address; RFC 9001 §4.9.1: the server drops its Initial keys.
		st.addrValidated = true
		c.discardLevel(sched.Initial)
	}
	if sp == sched.Handshake {
		st.origInitialOpen = nil // RFC 9369 §4: no longer needed
	}
	return n, true, nil
}

// acceptVersion decides about a long-header packet whose version is not the
// connection's (RFC 9368 §4, RFC 9369 §4). A client learns the negotiated
// version from the first server Initial of another version we speak, and
// switches to it; a server still accepts Initials of the original version
// after switching.
func (c *Conn) acceptVersion(hdr *wire.LongHeader) bool {
	st := &c.st
	if hdr.Type != wire.PacketInitial {
		return false
	}
	if !c.isClient {
		return hdr.Version == st.origVersion && st.origInitialOpen != nil
	}
	if st.versionSettled || !c.config.supportsVersion(hdr.Version) {
		return false
	}
	st.version = hdr.Version
	st.installInitialKeys(st.initialDCID)
	return true
}

// handleShortPacket processes a 1-RTT packet: the rest of the datagram.
func (c *Conn) handleShortPacket(b []byte, firstDCID []byte, now time.Time) (int, bool, error) {
	st := &c.st
	dcid, pnOffset, err := wire.ParseShortHeader(b, c.config.ConnectionIDLength)
	if err != nil {
		return 0, false, nil
	}
	if firstDCID != nil && !bytes.Equal(firstDCID, dcid) {
		return 0, false, nil
	}
	if st.app.open == nil {
		// Before the 1-RTT keys (a server's come with the client's
		// Finished): kept for them (RFC 9001 §5.7).
		if !c.keepUndecryptable(b, sched.AppData) {
			st.metrics.PacketDropped(metrics.DropNoKeys)
		}
		return 0, false, nil
	}
	l := &st.levels[sched.AppData]
	pnLen, truncated, err := st.app.open.RemoveHeaderProtection(b, pnOffset)
	if err != nil {
		return 0, false, nil
	}
	pn := wire.DecodePacketNumber(l.largestRecv(), truncated, pnLen*8)
	phase := b[0]&0x04 != 0
	keys, next := st.app.openKeys(phase, pn, now)
	if keys == nil {
		return 0, false, nil
	}
	payload, err := keys.Open(b, pnOffset+pnLen, pn)
	if err != nil {
		st.metrics.PacketDropped(metrics.DropDecrypt)
		return 0, false, nil
	}
	if next {
		st.app.rotate(pn, now, 3*st.rec.PTO())
		st.metrics.KeyUpdated(st.app.generation)
	} else {
		st.app.opened(pn)
	}
	// RFC 9000 §17.3.1: reserved bits must be zero.
	if b[0]&0x18 != 0 {
		return len(b), true, &wire.TransportError{Code: wire.ProtocolViolation, Reason: "reserved bits set"}
	}
	if l.recv.IsDuplicate(pn) {
		return len(b), true, nil
	}
	st.metrics.PacketReceived(wire.Packet1RTT, len(b))
	st.tracePacket(now, false, wire.Packet1RTT, pn, payload, len(b))
	ackEliciting, probing, err := c.handleFrames(sched.AppData, wire.Packet1RTT, payload, dcid, now)
	if err != nil {
		return len(b), true, err
	}
	if st.rxAddr != st.remote || st.rxSock != st.sock {
		c.onPacketFromNewAddress(st.rxAddr, st.rxSock, pn, probing, now)
		if st.rxAddr == st.remote && st.rxSock == st.sock {
			st.bytesReceived += uint64(st.rxBytes)
		}
	}
	l.recv.OnPacket(pn, ackEliciting, st.rxECN, now)
	st.lastActivity = now
	return len(b), true, nil
}

// handleVersionNegotiation: the server speaks none of our versions
// (RFC 9000 §6.2). We offer only one version at a time, so this ends the
// attempt with a clear error, unless the packet lists our version (then it
// is ignored, §6.2).
func (c *Conn) handleVersionNegotiation(b []byte) {
	st := &c.st
	dcid, scid, versions, err := wire.ParseVersionNegotiation(b)
	if err != nil || !bytes.Equal(dcid, st.cids.scid()) || !bytes.Equal(scid, st.odcid) {
		return
	}
	var theirs []uint32
	for i := 0; i+4 <= len(versions); i += 4 {
		v := uint32(versions[i])<<24 | uint32(versions[i+1])<<16 | uint32(versions[i+2])<<8 | uint32(versions[i+3])
		if v == st.version {
			return
		}
		theirs = append(theirs, v)
	}
	c.closeSilently(&VersionNegotiationError{Ours: []uint32{st.version}, Theirs: theirs})
}

// handleRetry processes a server's Retry (RFC 9000 §17.2.5.2): at most one,
// and only before any Initial from the server. The client then sends its
// Initials, with the token, to the Retry's Source Connection ID under keys
// derived from it, starting its handshake over.
func (c *Conn) handleRetry(b []byte, now time.Time) {
	st := &c.st
	if st.gotRetry || st.gotServerInitial {
		return
	}
	hdr, err := wire.ValidateRetry(b, st.odcid)
	if err != nil || !bytes.Equal(hdr.DstConnID, st.cids.scid()) {
		return
	}
	st.gotRetry = true
	c.retried.Store(true)
	st.retrySCID = append([]byte(nil), hdr.SrcConnID...)
	st.token = append([]byte(nil), hdr.Token...)
	st.cids.remote[0].id = st.retrySCID
	st.installInitialKeys(st.retrySCID)
	// RFC 9002 §6.3: the Initial packets sent so far count as lost
	// without a congestion response; their CRYPTO data is sent again.
	st.rec.OnRetry(now)
}
