package qlog

import (
	"time"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

// PacketHeader is what a packet event logs of a packet's header, a
// PacketHeader of quic events §8.8.
type PacketHeader struct {
	Type wire.PacketType // 0 is written as "unknown"
	// PacketNumber is written for Initial, Handshake, 0-RTT and 1-RTT
	// packets.
	PacketNumber uint64
	// KeyPhase is the full key phase of a 1-RTT packet (RFC 9001 §6: the
	// number of key updates; the header's Key Phase bit is its low bit).
	KeyPhase uint64
	// Version is written when not 0 (long headers).
	Version wire.Version
	// SCID and DCID are written when not nil. For 1-RTT packets DCID can
	// stay nil when connection_id_updated events tell the IDs (§8.8).
	SCID, DCID []byte
	// Token is an Initial's or a Retry's token; only its length is
	// written (main schema §14: tokens identify clients).
	Token []byte
}

// hasPacketNumber reports whether packets of type pt have a packet number.
func hasPacketNumber(pt wire.PacketType) bool {
	switch pt {
	case wire.PacketInitial, wire.PacketHandshake, wire.Packet0RTT, wire.Packet1RTT:
		return true
	}
	return false
}

// appendHeader appends "header":{…}. keyPhase writes the key phase of a
// 1-RTT packet (known when it is sent or received, not when it is lost).
func appendHeader(b []byte, h *PacketHeader, keyPhase bool) []byte {
	b = obj(b, "header")
	b = fs(b, "packet_type", h.Type.String())
	if hasPacketNumber(h.Type) {
		b = fu(b, "packet_number", h.PacketNumber)
	}
	if keyPhase && h.Type == wire.Packet1RTT {
		b = fu(b, "key_phase", h.KeyPhase)
	}
	if h.Version != 0 {
		b = appendVersion(key(b, "version"), h.Version)
	}
	if h.SCID != nil {
		b = fhex(b, "scid", h.SCID)
	}
	if h.DCID != nil {
		b = fhex(b, "dcid", h.DCID)
	}
	if len(h.Token) > 0 && (h.Type == wire.PacketInitial || h.Type == wire.PacketRetry) {
		b = obj(b, "token") // a Token, §8.9
		if h.Type == wire.PacketRetry {
			b = fs(b, "type", "retry")
		}
		b = appendRaw(b, len(h.Token))
		b = append(b, '}')
	}
	return append(b, '}')
}

// appendRaw appends "raw":{"length":n}, a RawInfo (main schema §10).
func appendRaw(b []byte, n int) []byte {
	b = obj(b, "raw")
	b = fu(b, "length", uint64(max(n, 0)))
	return append(b, '}')
}

// appendTypeHeader appends a header with only its packet type, or nothing
// for type 0: all a dropped or buffered packet may reveal (§5.7).
func appendTypeHeader(b []byte, pt wire.PacketType) []byte {
	if pt == 0 {
		return b
	}
	b = obj(b, "header")
	b = fs(b, "packet_type", pt.String())
	return append(b, '}')
}

// packetState is the packet record Trace.BeginPacket opened.
type packetState struct {
	gen      uint32 // counts BeginPacket calls; a Packet of an older one is dead
	open     bool
	mtuProbe bool
	trigger  PacketTrigger
	ackExp   uint8 // ack_delay_exponent of the ACK frames in this packet
}

// Packet is an open packet_sent or packet_received event, returned by
// Trace.BeginPacket. Its frame methods add a frame each; End writes the
// record. The zero Packet (from a nil Trace) does nothing. A Packet is dead
// once ended or once the next BeginPacket is called: its methods then do
// nothing. Other events may be logged while a Packet is open; they are
// written first.
type Packet struct {
	t   *Trace
	gen uint32
}

// BeginPacket opens a quic:packet_sent (sent) or quic:packet_received event
// (§5.5, §5.6) for the packet with header hdr. Add its frames with the
// Packet's methods, then call End. A packet left open is discarded by the
// next BeginPacket.
func (t *Trace) BeginPacket(now time.Time, sent bool, hdr PacketHeader) Packet {
	if t == nil || t.off { // inlined at the caller: free when tracing is off
		return Packet{}
	}
	return t.beginPacket(now, sent, &hdr)
}

func (t *Trace) beginPacket(now time.Time, sent bool, hdr *PacketHeader) Packet {
	name := "packet_received"
	p := &t.pkt
	p.ackExp = t.ackExpRemote
	if sent {
		name = "packet_sent"
		p.ackExp = t.ackExpLocal
	}
	p.gen++
	p.open, p.mtuProbe, p.trigger = true, false, ""
	b := appendEventStart(t.pbuf[:0], now.Sub(t.start), name)
	b = appendHeader(b, hdr, true)
	t.pbuf = arr(b, "frames")
	return Packet{t: t, gen: p.gen}
}

// buf returns the packet's record buffer, or nil if p is not open.
func (p Packet) buf() []byte {
	if p.t == nil || !p.t.pkt.open || p.t.pkt.gen != p.gen || p.t.off {
		return nil
	}
	return p.t.pbuf
}

// frame starts a frame object: `{"frame_type":"<name>"`. It returns nil if
// p is not open.
func (p Packet) frame(name string) []byte {
	b := p.buf()
	if b == nil {
		return nil
	}
	b = append(elem(b), '{')
	return fs(b, "frame_type", name)
}

// done closes a frame object started by frame.
func (p Packet) done(b []byte) { p.t.pbuf = append(b, '}') }

// Trigger sets the packet's trigger (§5.5, §5.6), e.g. SentPTOProbe.
func (p Packet) Trigger(tr PacketTrigger) {
	if p.buf() != nil {
		p.t.pkt.trigger = tr
	}
}

// MTUProbe marks a sent packet as a path MTU probe (is_mtu_probe_packet,
// §5.5).
func (p Packet) MTUProbe() {
	if p.buf() != nil {
		p.t.pkt.mtuProbe = true
	}
}

// End writes the packet's record with raw.length rawLen: the packet's
// length on the wire, header and AEAD tag included (main schema §10; quic
// events §1.2).
func (p Packet) End(rawLen int) {
	if p.t != nil {
		p.end(rawLen)
	}
}

func (p Packet) end(rawLen int) {
	b := p.buf()
	if b == nil {
		return
	}
	t := p.t
	b = append(b, ']')
	b = appendRaw(b, rawLen)
	if t.pkt.trigger != "" {
		b = fs(b, "trigger", string(t.pkt.trigger))
	}
	if t.pkt.mtuProbe {
		b = fbool(b, "is_mtu_probe_packet", true)
	}
	b = append(b, '}', '}', '\n')
	t.pkt.open = false
	t.write(b)
	t.pbuf = keep(b)
}

// PacketLost logs quic:packet_lost (§7.4) for the packet with header hdr
// (its type and number suffice).
func (t *Trace) PacketLost(now time.Time, hdr PacketHeader, trigger LossTrigger) {
	if t == nil || t.off {
		return
	}
	b := t.begin(now, "packet_lost")
	b = appendHeader(b, &hdr, false)
	if trigger != "" {
		b = fs(b, "trigger", string(trigger))
	}
	t.end(b)
}

// PacketDropped logs quic:packet_dropped (§5.7): a packet of type pt (0 if
// unknown: no header is written) and rawLen bytes was discarded.
func (t *Trace) PacketDropped(now time.Time, pt wire.PacketType, rawLen int, trigger DropTrigger) {
	if t == nil || t.off {
		return
	}
	b := t.begin(now, "packet_dropped")
	b = appendTypeHeader(b, pt)
	b = appendRaw(b, rawLen)
	if trigger != "" {
		b = fs(b, "trigger", string(trigger))
	}
	t.end(b)
}

// PacketBuffered logs quic:packet_buffered (§5.8): a packet of type pt and
// rawLen bytes is kept until it can be processed (usually: until its keys
// arrive).
func (t *Trace) PacketBuffered(now time.Time, pt wire.PacketType, rawLen int, trigger BufferTrigger) {
	if t == nil || t.off {
		return
	}
	b := t.begin(now, "packet_buffered")
	b = appendTypeHeader(b, pt)
	b = appendRaw(b, rawLen)
	if trigger != "" {
		b = fs(b, "trigger", string(trigger))
	}
	t.end(b)
}

// PacketsAcked logs quic:packets_acked (§5.9): packets of space sp
// acknowledged for the first time. Nothing is logged for an empty list.
func (t *Trace) PacketsAcked(now time.Time, sp Space, pns []uint64) {
	if t == nil || t.off || len(pns) == 0 {
		return
	}
	b := t.begin(now, "packets_acked")
	b = fs(b, "packet_number_space", sp.name())
	b = arr(b, "packet_numbers")
	for _, pn := range pns {
		b = appendUint(elem(b), pn)
	}
	b = append(b, ']')
	t.end(b)
}

// VersionNegotiation logs a Version Negotiation packet sent or received
// (§5.5, §5.6): its connection IDs and supported_versions.
func (t *Trace) VersionNegotiation(now time.Time, sent bool, dcid, scid []byte, versions []wire.Version) {
	if t == nil || t.off {
		return
	}
	name := "packet_received"
	if sent {
		name = "packet_sent"
	}
	b := t.begin(now, name)
	b = appendHeader(b, &PacketHeader{Type: wire.PacketVersionNegotiation, SCID: scid, DCID: dcid}, false)
	if len(versions) > 0 {
		b = appendVersions(b, "supported_versions", versions)
	}
	t.end(b)
}

// StatelessReset logs a Stateless Reset (RFC 9000 §10.3) sent or received
// (§5.5, §5.6) with its token and length.
func (t *Trace) StatelessReset(now time.Time, sent bool, token *[16]byte, rawLen int) {
	if t == nil || t.off {
		return
	}
	name := "packet_received"
	if sent {
		name = "packet_sent"
	}
	b := t.begin(now, name)
	b = obj(b, "header")
	b = fs(b, "packet_type", "stateless_reset")
	b = append(b, '}')
	if token != nil {
		b = fhex(b, "stateless_reset_token", token[:])
	}
	b = appendRaw(b, rawLen)
	t.end(b)
}
