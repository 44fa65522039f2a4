package quic

import (
	"github.com/tsumugi-quic/tsumugi/quic/internal/udpio"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
	"github.com/tsumugi-quic/tsumugi/sched"
)

// aeadOverhead is the AEAD tag length of every QUIC cipher suite.
const aeadOverhead = 16

// builtPacket is a packet assembled in the datagram buffer, not yet sealed.
type builtPacket struct {
	sp           sched.Space
	pt           wire.PacketType
	start        int // offset of the packet in the datagram
	pnOffset     int // offset of the packet number, from the datagram start
	pnLen        int
	lengthOffset int // offset of a long header's Length field, -1 for short headers
	payloadEnd   int
	pn           uint64
	keys         *wire.Keys
	rec          *sched.Record
}

// send sends datagrams while there is something to send and the congestion
// controller, pacer and anti-amplification limit allow. It reports whether
// it stopped early with more to send.
func (c *Conn) send(now time.Time) (more bool) {
	st := &c.st
	st.pacingWait = time.Time{}
	switch st.phase {
	case phaseDraining, phaseDone:
		return false
	case phaseClosing:
		if st.closeFrame.due {
			tb := txPool.Get().(*[]byte)
			if d := c.appendDatagram((*tb)[:0], now); len(d) > 0 {
				c.writeDatagram(d, st.sock, st.remote)
				c.noteCloseSent(d, now)
			}
			txPool.Put(tb)
			st.closeFrame.due = false
			st.closeFrame.lastSent = now
		}
		return false
	}
	c.sendMTUProbe(now)
	c.sendPreferredChallenge(now)
	c.sendMigrationChallenge(now)
	// Datagrams of the same size go out as one train per system call
	// (GSO): build them back to back in a pooled buffer.
	tb := txPool.Get().(*[]byte)
	defer txPool.Put(tb)
	b := (*tb)[:0]
	seg := 0        // the train's datagram size
	closed := false // the last datagram was shorter: the train is complete
	flush := func() {
		if len(b) > 0 {
			st.metrics.SendCall()
			if err := c.ep.writeTrain(st.sock, b, seg, st.remote, c.ecnCodepoint()); err != nil {
				st.metrics.SendError()
			}
		}
		b, seg, closed = b[:0], 0, false
	}
	for i := 0; i < maxDatagramsPerRound; i++ {
		if cap(b)-len(b) < st.mtu {
			flush()
		}
		start := len(b)
		b = c.appendDatagram(b, now)
		size := len(b) - start
		if size == 0 {
			flush()
			// Nothing more to send: if the window still has room, the
			// application, not the network, limits us (RFC 9002 §7.8).
			if st.pacingWait.IsZero() && st.rec.CanSend() > 0 {
				st.rec.SetAppLimited(true)
			}
			return false
		}
		switch {
		case seg == 0:
			seg = size
		case size > seg || closed:
			// It cannot join the train: send the train, and start a new
			// one with this datagram.
			d := append([]byte(nil), b[start:]...)
			b = b[:start]
			flush()
			b = append(b, d...)
			seg = size
		case size < seg:
			closed = true
		}
	}
	flush()
	return true
}

// ecnCodepoint is the ECN mark of the packets we send: ECT(0) while loss
// recovery tests or uses ECN on the path (RFC 9000 §13.4.2). Every packet
// must go out with it, since recovery counts them all as marked.
func (c *Conn) ecnCodepoint() uint8 {
	if c.st.rec.ECNMarking() {
		return udpio.ECT0
	}
	return udpio.NotECT
}

// writeDatagram sends one datagram that is not part of a train.
func (c *Conn) writeDatagram(d []byte, sock int, addr netip.AddrPort) error {
	return c.ep.writeTrain(sock, d, len(d), addr, c.ecnCodepoint())
}

// sealKeys returns the keys to send with in space sp, or nil, and whether
// they are 0-RTT keys (a client before its 1-RTT keys).
func (st *connState) sealKeys(sp sched.Space) (*wire.Keys, bool) {
	if sp == sched.AppData {
		if st.app.seal == nil && st.app.zeroSeal != nil {
			return st.app.zeroSeal, true
		}
		return st.app.seal, false
	}
	return st.levels[sp].seal, false
}

// appendDatagram assembles, seals and accounts one datagram of coalesced
// packets (RFC 9000 §12.2) at the end of dst, which must have room for the
// MTU; it returns dst unchanged when there is nothing to send.
func (c *Conn) appendDatagram(dst []byte, now time.Time) []byte {
	st := &c.st
	base := len(dst)
	limit := st.mtu
	if !c.isClient && !st.addrValidated {
		// RFC 9000 §8.1: at most three times the bytes received.
		allowed := int64(3*st.bytesReceived) - int64(st.bytesSent)
		if allowed < int64(limit) {
			limit = int(max(allowed, 0))
		}
	}
	buf := dst
	var pkts [sched.NumSpaces]builtPacket
	n := 0
	needPad := false
	for sp := sched.Initial; sp < sched.NumSpaces; sp++ {
		if k, _ := st.sealKeys(sp); k == nil {
			continue
		}
		var p builtPacket
		var ok bool
		buf, p, ok = c.buildPacket(buf, sp, base+limit, now)
		if !ok {
			continue
		}
		pkts[n] = p
		n++
		if p.pt == wire.PacketInitial && (c.isClient || p.rec.AckEliciting) || p.rec.HasControl(wire.FrameTypePathChallenge) {
			// RFC 9000 §14.1, and §8.2.1 for path validation.
			needPad = true
		}
	}
	if n == 0 {
		return dst
	}
	// RFC 9000 §14.1: datagrams with a client's Initial, and with a
	// server's ack-eliciting Initial, are padded to 1200 bytes.
	if needPad && len(buf)-base < minInitialPacketSize {
		last := &pkts[n-1]
		pad := min(minInitialPacketSize, limit) - (len(buf) - base)
		if pad > 0 {
			buf = buf[:len(buf)+pad]
			clear(buf[last.payloadEnd : last.payloadEnd+pad])
			last.payloadEnd += pad
			last.rec.InFlight = true
		}
	}
	for i := 0; i < n; i++ {
		c.sealPacket(buf, &pkts[i], now)
	}
	st.bytesSent += uint64(len(buf) - base)
	st.metrics.DatagramSent(n, len(buf)-base, limit)
	if c.isClient && st.levels[sched.Initial].seal != nil {
		for i := 0; i < n; i++ {
			if pkts[i].sp == sched.Handshake {
				// RFC 9001 §4.9.1: a client drops its Initial keys when
				// it first sends a Handshake packet.
				c.discardLevel(sched.Initial)
				break
			}
		}
	}
	if st.phase < phaseClosing {
		st.app.maybeInitiate(c.config.KeyUpdateInterval, st.handshakeConfirm)
		st.metrics.KeyUpdated(st.app.generation)
	}
	return buf
}

// sealPacket fills in the Length field, encrypts the packet in place and
// hands its record to loss recovery.
func (c *Conn) sealPacket(buf []byte, p *builtPacket, now time.Time) {
	st := &c.st
	end := p.payloadEnd + aeadOverhead
	if p.lengthOffset >= 0 {
		wire.PutVarintN(buf[p.lengthOffset:], uint64(end-p.pnOffset), 2)
	}
	st.tracePacket(now, true, p.pt, p.pn, buf[p.pnOffset+p.pnLen:p.payloadEnd], end-p.start)
	p.keys.Seal(buf[p.start:p.payloadEnd:end], p.pnOffset-p.start, p.pnLen, p.pn)
	rec := p.rec
	rec.SentBytes = end - p.start
	st.metrics.PacketSent(p.pt, rec.SentBytes)
	if st.phase >= phaseClosing {
		st.records.Put(rec)
		return
	}
	if sched.Space(p.sp) == sched.AppData {
		st.app.onSent(p.pn)
	}
	if rec.AckEliciting {
		if st.probes[p.sp] > 0 {
			st.probes[p.sp]--
		}
		if !st.sentAckElicitingSinceRecv {
			// RFC 9000 §10.1: sending restarts the idle timer if no
			// ack-eliciting packet went out since the last receipt.
			st.lastActivity = now
			st.sentAckElicitingSinceRecv = true
		}
		st.lastAckEliciting = now
	}
	st.rec.OnPacketSent(rec, now)
}

// buildPacket appends one packet of space sp, unsealed, to buf. It returns
// ok=false (and buf unchanged) when the packet would carry nothing worth
// sending.
func (c *Conn) buildPacket(buf []byte, sp sched.Space, limit int, now time.Time) ([]byte, builtPacket, bool) {
	st := &c.st
	l := &st.levels[sp]
	keys, zeroRTT := st.sealKeys(sp)
	if sp == sched.AppData && l.nextPN >= st.skipPN {
		c.skipPacketNumber(l)
	}
	p := builtPacket{sp: sp, start: len(buf), lengthOffset: -1, keys: keys, pn: l.nextPN}
	p.pnLen = wire.PacketNumberLen(p.pn, l.largestAcked, l.hasAcked)
	dcid := st.cids.peerCurrent()
	switch {
	case zeroRTT:
		p.pt = wire.Packet0RTT
		h := wire.LongHeader{Type: p.pt, Version: st.version, DstConnID: dcid, SrcConnID: st.cids.scid()}
		buf, p.lengthOffset = wire.AppendLongHeader(buf, &h, p.pnLen)
	case sp == sched.AppData:
		p.pt = wire.Packet1RTT
		buf = wire.AppendShortHeader(buf, dcid, p.pnLen, st.app.sendPhase, false)
	default:
		p.pt = wire.PacketInitial
		if sp == sched.Handshake {
			p.pt = wire.PacketHandshake
		}
		h := wire.LongHeader{Type: p.pt, Version: st.version, DstConnID: dcid, SrcConnID: st.cids.scid()}
		if sp == sched.Initial && c.isClient {
			h.Token = st.token
		}
		buf, p.lengthOffset = wire.AppendLongHeader(buf, &h, p.pnLen)
	}
	p.pnOffset = len(buf)
	buf = wire.AppendPacketNumber(buf, p.pn, p.pnLen)
	payloadStart := len(buf)
	budget := limit - payloadStart - aeadOverhead
	// The header protection sample needs 4 bytes of packet number and
	// payload before it (RFC 9001 §5.4.2); a tiny budget isn't worth a packet.
	if budget < 8 {
		return buf[:p.start], p, false
	}
	rec := st.records.Get()
	rec.Space, rec.PacketNumber = sp, p.pn
	closing := st.phase == phaseClosing
	probe := st.probes[sp] > 0
	switch {
	case closing:
		buf = (*closeSource)(l).AppendFrames(buf, budget, rec)
	case zeroRTT:
		if probe || c.mayIncreaseFlight(now) {
			// RFC 9000 §12.4: no ACK, CRYPTO or most control frames in 0-RTT.
			pkt := sched.Packet{Space: sp, Budget: budget, ZeroRTT: true, Credit: &st.flow.credit}
			buf = st.sched.Build(buf, &pkt, rec)
			st.zeroRTTSent = st.zeroRTTSent || rec.AckEliciting
		}
	case probe || c.mayIncreaseFlight(now):
		pkt := sched.Packet{Space: sp, Budget: budget, Ack: (*ackSource)(l), Crypto: (*cryptoSource)(l)}
		if sp == sched.AppData {
			pkt.Control = &st.control
			pkt.Credit = &st.flow.credit
			if c.config.EnableDatagrams && st.handshakeComplete {
				pkt.Datagrams = &st.dgrams
			}
		}
		buf = st.sched.Build(buf, &pkt, rec)
	default:
		// Congestion- or pacing-limited: ACKs only, which are not
		// congestion controlled (RFC 9002 §7).
		rec.Space = sp
		buf = (*ackSource)(l).AppendFrames(buf, budget, rec)
	}
	if !closing && (probe || st.pingQueued[sp]) && !rec.AckEliciting && len(buf) < payloadStart+budget {
		buf = append(buf, byte(wire.FrameTypePing))
		rec.Add(sched.FrameRecord{Kind: sched.FramePing})
		st.pingQueued[sp] = false
	}
	hasAck := len(rec.Frames) > 0 && rec.Frames[0].Kind == sched.FrameAck
	if len(buf) == payloadStart || (!closing && !rec.AckEliciting && !(hasAck && l.recv.AckNeeded(now))) {
		// Nothing, or an ACK that is not due yet: don't send.
		st.records.Put(rec)
		return buf[:p.start], p, false
	}
	if hasAck {
		l.recv.OnAckSent()
	}
	if pad := 4 - p.pnLen - (len(buf) - payloadStart); pad > 0 {
		buf = append(buf, make([]byte, pad)...) // PADDING frames for the sample
	}
	if sp == sched.AppData && st.flow.credit == 0 && st.sched.HasStreamWork() {
		st.flow.noteBlocked()
	}
	p.payloadEnd = len(buf)
	p.rec = rec
	l.nextPN++
	// Reserve room for the AEAD tag; Seal writes it there.
	buf = buf[:len(buf)+aeadOverhead]
	return buf, p, true
}

// skipPacketNumber leaves out one 1-RTT packet number now and then, at
// random intervals: a peer that acknowledges it acknowledges a packet it
// never received (an "optimistic ACK" to inflate our sending rate), which
// recovery then treats as PROTOCOL_VIOLATION (RFC 9000 §21.4).
func (c *Conn) skipPacketNumber(l *level) {
	st := &c.st
	if st.skipPN != 0 {
		st.rec.SkipPacketNumber(sched.AppData, l.nextPN)
		l.nextPN++
	}
	st.skipPN = l.nextPN + 256 + rand.Uint64N(64<<10)
}

// mayIncreaseFlight reports whether congestion control and pacing let an
// ack-eliciting packet go now; if pacing holds it back, it notes when to
// try again.
func (c *Conn) mayIncreaseFlight(now time.Time) bool {
	st := &c.st
	if st.rec.CanSend() <= 0 {
		return false
	}
	if t := st.rec.NextSendTime(now); t.After(now) {
		st.pacingWait = t
		return false
	}
	return true
}

// ackSource appends the ACK frame of one space (RFC 9000 §13.2), newest
// ranges first when it must be truncated to fit.
// The sources are views of a level: converting a *level gives the
// scheduler an interface value without storing or allocating anything.
type ackSource level

func (a *ackSource) AppendFrames(b []byte, max int, rec *sched.Record) []byte {
	l := (*level)(a)
	if !l.recv.HasUnacked() {
		return b
	}
	exp := uint8(ackDelayExponent)
	if l.space != sched.AppData {
		exp = 3 // the default: the peer may not know ours yet
	}
	ack := &l.c.st.ackScratch
	if !l.recv.AppendAck(ack, l.c.st.now, exp) {
		return b
	}
	out, ok := wire.AppendAckFrameLimit(b, ack, max)
	if !ok {
		return b
	}
	rec.Add(sched.FrameRecord{Kind: sched.FrameAck, Offset: ack.Ranges[0].Largest})
	return out
}

// cryptoSource appends CRYPTO frames of one space: lost data first.
type cryptoSource level

func (s *cryptoSource) AppendFrames(b []byte, max int, rec *sched.Record) []byte {
	out := &s.cryptoOut
	limit := len(b) + max
	for out.Pending() {
		space := limit - len(b)
		// Size the frame for the largest offset the data can have, so
		// that the header never outgrows its room.
		n := wire.CryptoDataFit(out.Written(), space, space)
		if n <= 0 {
			break
		}
		off, data := out.Next(n)
		if len(data) == 0 {
			break
		}
		b = wire.AppendCryptoFrameHeader(b, off, len(data))
		b = append(b, data...)
		rec.Add(sched.FrameRecord{Kind: sched.FrameCrypto, Offset: off, Length: uint64(len(data))})
	}
	return b
}

// closeSource appends our CONNECTION_CLOSE (RFC 9000 §10.2).
type closeSource level

func (s *closeSource) AppendFrames(b []byte, max int, rec *sched.Record) []byte {
	return s.c.st.closeFrame.appendTo(b, s.space, len(b)+max)
}
