package quic

import (
	"net/netip"
	"time"

	"github.com/tsumugi-quic/tsumugi/quic/internal/recovery"
	"github.com/tsumugi-quic/tsumugi/sched"
)

// Packets that arrive before their keys (RFC 9001 §5.7): a Handshake
// packet overtaking the server's Initial, or a client's first 1-RTT packet
// arriving at the server before the Handshake packet with its Finished
// (lost, say). Dropped, they cost the peer a retransmission it may be slow
// to make: a client whose handshake is not confirmed probes the Handshake
// space, not its 1-RTT data. A few are kept, copied, and processed once the
// keys are installed; the rest are dropped as before.

// maxUndecryptable bounds the packets kept per connection (each at most
// maxPacketBufferSize bytes), as RFC 9001 §5.7 asks for a limit.
const maxUndecryptable = 8

// pendingPackets is made when a first packet is kept (most connections
// never need it).
type pendingPackets struct {
	list []pendingPacket
}

// pendingPacket is a packet kept until its keys exist.
type pendingPacket struct {
	b     []byte
	sp    sched.Space // Handshake or AppData (1-RTT)
	addr  netip.AddrPort
	sock  int
	ecn   recovery.ECNCodepoint
	bytes int // the size of the datagram it came in
}

// keepUndecryptable keeps a copy of the packet b of space sp, received in
// the datagram being processed, if there is room; it reports whether it
// did.
func (c *Conn) keepUndecryptable(b []byte, sp sched.Space) bool {
	st := &c.st
	if len(b) > maxPacketBufferSize || st.handshakeConfirm {
		return false
	}
	if st.pending == nil {
		st.pending = new(pendingPackets)
	}
	if len(st.pending.list) >= maxUndecryptable {
		return false
	}
	st.pending.list = append(st.pending.list, pendingPacket{
		b: append([]byte(nil), b...), sp: sp,
		addr: st.rxAddr, sock: st.rxSock, ecn: st.rxECN, bytes: st.rxBytes,
	})
	return true
}

// processPending processes the kept packets whose keys now exist, in the
// order they arrived (again while one of them brings keys for another),
// and forgets those whose keys will never come.
func (c *Conn) processPending(now time.Time) {
	st := &c.st
	if st.pending == nil {
		return
	}
	defer func() {
		if len(st.pending.list) == 0 {
			st.pending = nil
		}
	}()
	for progress := true; progress && len(st.pending.list) > 0; {
		progress = false
		list := st.pending.list
		st.pending.list = nil
		for _, p := range list {
			ready := st.app.open != nil
			gone := st.handshakeConfirm && !ready
			if p.sp == sched.Handshake {
				ready = st.levels[sched.Handshake].open != nil
				gone = st.levels[sched.Handshake].discarded
			}
			switch {
			case st.phase >= phaseClosing || gone:
				continue
			case !ready:
				st.pending.list = append(st.pending.list, p)
				continue
			}
			progress = true
			st.rxAddr, st.rxBytes, st.rxSock, st.rxECN = p.addr, p.bytes, p.sock, p.ecn
			var err error
			if p.sp == sched.Handshake {
				var firstDCID []byte
				_, _, err = c.handleLongPacket(p.b, &firstDCID, now)
			} else {
				_, _, err = c.handleShortPacket(p.b, nil, now)
			}
			if err != nil {
				c.closeLocal(err, now)
				st.pending.list = nil
				return
			}
		}
	}
}
