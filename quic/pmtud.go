package quic

import (
	"time"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
	"github.com/tsumugi-quic/tsumugi/sched"
)

// Path MTU discovery (DPLPMTUD, RFC 9000 §14.3, RFC 8899): once the
// handshake is confirmed, probe packets of growing size (PING and PADDING)
// find the largest datagram the path carries, by binary search between
// the size known to work and an upper bound. A probe that is acknowledged
// raises the MTU; a lost probe lowers the bound and is not a congestion
// signal (RFC 9000 §14.4).
type pmtud struct {
	low      int       // the largest size known to work (the current MTU)
	high     int       // the smallest size known not to work, or the search's upper bound + 1
	inFlight int       // size of the probe in flight, 0 if none
	next     time.Time // not before: probes are spaced out
	done     bool
}

const (
	// pmtudMinStep ends the search when the bounds are this close.
	pmtudMinStep = 16
	// pmtudRetry spaces the probes.
	pmtudRetry = 100 * time.Millisecond
)

// init starts the search between the current size and max (inclusive).
func (p *pmtud) init(current, max int) {
	p.low, p.high = current, max+1
	p.done = p.high-p.low <= pmtudMinStep
}

// probeSize returns the size of the next probe to send now, or 0.
func (p *pmtud) probeSize(now time.Time) int {
	if p.done || p.inFlight != 0 || now.Before(p.next) {
		return 0
	}
	return p.low + (p.high-p.low)/2
}

// onAcked: a probe of size n got through.
func (p *pmtud) onAcked(n int, now time.Time) (newMTU int) {
	p.inFlight = 0
	if n > p.low {
		p.low = n
	}
	p.done = p.high-p.low <= pmtudMinStep
	p.next = now
	return p.low
}

// onLost: a probe of size n did not get through.
func (p *pmtud) onLost(n int, now time.Time, rtt time.Duration) {
	p.inFlight = 0
	if n < p.high {
		p.high = n
	}
	p.done = p.high-p.low <= pmtudMinStep
	p.next = now.Add(max(rtt, pmtudRetry))
}

// pmtudLimit is the largest UDP payload we probe for: an Ethernet MTU of
// 1500 bytes minus the IP and UDP headers, bounded by our buffers and the
// peer's max_udp_payload_size.
func (c *Conn) pmtudLimit() int {
	st := &c.st
	limit := 1500 - 8 - 20 // IPv4
	if st.remote.Addr().Is6() {
		limit = 1500 - 8 - 40
	}
	limit = min(limit, maxPacketBufferSize)
	if st.havePeerParams {
		limit = min(limit, int(st.peerParams.MaxUDPPayloadSize))
	}
	return limit
}

// sendMTUProbe sends a probe if one is due, as its own datagram.
func (c *Conn) sendMTUProbe(now time.Time) {
	st := &c.st
	// Probe only while there is application data to carry: larger
	// packets matter for bulk transfers, and an idle connection should
	// stay quiet.
	if !st.handshakeConfirm || st.app.seal == nil || !st.sched.HasStreamWork() {
		return
	}
	size := st.pmtud.probeSize(now)
	if size == 0 || st.rec.CanSend() < size {
		return
	}
	l := &st.levels[sched.AppData]
	p := builtPacket{sp: sched.AppData, pt: wire.Packet1RTT, lengthOffset: -1, keys: st.app.seal, pn: l.nextPN}
	p.pnLen = wire.PacketNumberLen(p.pn, l.largestAcked, l.hasAcked)
	tb := txPool.Get().(*[]byte)
	defer txPool.Put(tb)
	buf := (*tb)[:0]
	buf = wire.AppendShortHeader(buf, st.cids.peerCurrent(), p.pnLen, st.app.sendPhase, false)
	p.pnOffset = len(buf)
	buf = wire.AppendPacketNumber(buf, p.pn, p.pnLen)
	buf = append(buf, byte(wire.FrameTypePing))
	pad := size - aeadOverhead - len(buf)
	if pad < 0 || size > cap(buf) {
		st.pmtud.done = true
		return
	}
	buf = wire.AppendPadding(buf, pad)
	rec := st.records.Get()
	rec.Space, rec.PacketNumber = sched.AppData, p.pn
	rec.Add(sched.FrameRecord{Kind: sched.FramePing, Length: uint64(size)})
	rec.MTUProbe = true
	p.rec = rec
	p.payloadEnd = len(buf)
	l.nextPN++
	buf = buf[:len(buf)+aeadOverhead]
	c.sealPacket(buf, &p, now)
	st.pmtud.inFlight = size
	if err := c.writeDatagram(buf, st.sock, st.remote); err != nil {
		// EMSGSIZE: the local interface is smaller than the probe.
		st.pmtud.onLost(size, now, st.rec.SmoothedRTT())
	}
	st.bytesSent += uint64(len(buf))
}

// onMTUProbeAcked raises the MTU after a probe got through.
func (c *Conn) onMTUProbeAcked(size int) {
	st := &c.st
	mtu := st.pmtud.onAcked(size, st.now)
	if mtu > st.mtu {
		st.setMTU(mtu)
		st.rec.SetMaxDatagramSize(mtu)
	}
}
