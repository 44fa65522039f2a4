package quictest

import (
	"errors"
	"fmt"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

// aeadOverhead is the tag length of every QUIC AEAD.
const aeadOverhead = 16

// ErrNoKeys is returned when the peer has no keys for the packet type asked.
var ErrNoKeys = errors.New("quictest: no keys for this packet type")

// AppendPacket builds one protected packet of type pt (Initial, Handshake or
// 1-RTT) holding frames and appends it to b, taking the next packet number
// of its space. If the packet ends before padTo bytes of b, PADDING frames
// fill it up to there: pass the datagram size wanted to pad the datagram's
// last packet, or 0.
func (p *Peer) AppendPacket(b []byte, pt wire.PacketType, padTo int, frames ...Frame) ([]byte, error) {
	sp, ok := spaceOf(pt)
	if !ok {
		return b, fmt.Errorf("quictest: cannot build a %v packet", pt)
	}
	l := &p.levels[sp]
	if l.seal == nil {
		return b, ErrNoKeys
	}
	pn := l.nextPN
	l.nextPN++
	l.lastSent = pn
	pnLen := wire.PacketNumberLen(pn, l.largestAckd, l.hasAckd)
	start := len(b)
	lengthOff := -1
	if sp == spaceApp {
		b = wire.AppendShortHeader(b, p.dcid, pnLen, p.sendPhase, false)
	} else {
		h := wire.LongHeader{Type: pt, Version: p.version, DstConnID: p.dcid, SrcConnID: p.scid}
		if pt == wire.PacketInitial {
			h.Token = p.token
		}
		if !wire.IsSupportedVersion(p.version) {
			h.Version = wire.Version1 // AppendLongHeader knows v1 and v2 only
		}
		b, lengthOff = wire.AppendLongHeader(b, &h, pnLen)
		if h.Version != p.version {
			b[start+1], b[start+2], b[start+3], b[start+4] = byte(p.version>>24), byte(p.version>>16), byte(p.version>>8), byte(p.version)
		}
	}
	pnOff := len(b)
	b = wire.AppendPacketNumber(b, pn, pnLen)
	payloadStart := len(b)
	for _, f := range frames {
		b = f.Append(b)
	}
	// Header protection samples 16 bytes from 4 bytes after the packet
	// number's start (RFC 9001 §5.4.2).
	if need := wire.MinPayloadLen(pnLen) - (len(b) - payloadStart); need > 0 {
		b = wire.AppendPadding(b, need)
	}
	if extra := padTo - (len(b) + aeadOverhead); extra > 0 {
		b = wire.AppendPadding(b, extra)
	}
	if lengthOff >= 0 {
		wire.PatchLength(b, lengthOff, pnLen, len(b)-payloadStart+aeadOverhead)
	}
	sealed := l.seal.Seal(b[start:], pnOff-start, pnLen, pn)
	return append(b[:start], sealed...), nil
}

// SendFrames sends frames in one packet of type pt, alone in its datagram.
// A client's Initial is padded to MinInitialDatagramSize.
func (p *Peer) SendFrames(pt wire.PacketType, frames ...Frame) error {
	pad := 0
	if pt == wire.PacketInitial {
		pad = MinInitialDatagramSize
	}
	d, err := p.AppendPacket(nil, pt, pad, frames...)
	if err != nil {
		return err
	}
	return p.SendRaw(d)
}

// SendRaw sends b as one datagram to the remote address.
func (p *Peer) SendRaw(b []byte) error {
	p.stats.DatagramsSent++
	p.stats.BytesSent += len(b)
	_, err := p.pc.WriteToUDPAddrPort(b, p.remote)
	return err
}

// AckFrame returns an ACK frame for every packet received in pt's space
// (the newest maxAckRanges ranges), or nil if none was.
func (p *Peer) AckFrame(pt wire.PacketType) *wire.AckFrame {
	sp, ok := spaceOf(pt)
	if !ok {
		return nil
	}
	rs := &p.levels[sp].received
	n := rs.NumRanges()
	if n == 0 {
		return nil
	}
	f := &wire.AckFrame{}
	for i := n - 1; i >= 0 && len(f.Ranges) < maxAckRanges; i-- {
		r := rs.Range(i)
		f.Ranges = append(f.Ranges, wire.AckRange{Smallest: r.Start, Largest: r.End - 1})
	}
	return f
}

// AckAll acknowledges every packet received, one packet per space that
// has keys and received something ack-eliciting since its last ACK.
func (p *Peer) AckAll() error {
	for sp := spaceInitial; sp < numSpaces; sp++ {
		l := &p.levels[sp]
		if !l.ackPending || l.seal == nil {
			continue
		}
		if err := p.SendFrames(sp.packetType(), p.AckFrame(sp.packetType())); err != nil {
			return err
		}
		l.ackPending = false
	}
	return nil
}

// Flush sends what the handshake needs: pending CRYPTO data and ACKs of
// every space, coalesced into as few datagrams as fit, a datagram with an
// Initial padded to MinInitialDatagramSize with PADDING frames in its last
// packet (RFC 9000 §14.1). A server also sends HANDSHAKE_DONE once TLS
// completes (RFC 9001 §4.1.2).
func (p *Peer) Flush() error {
	type planned struct {
		pt     wire.PacketType
		frames []Frame
	}
	var dgram []planned
	size := 0
	send := func() error {
		if len(dgram) == 0 {
			return nil
		}
		pad := 0
		for _, pk := range dgram {
			if pk.pt == wire.PacketInitial {
				pad = MinInitialDatagramSize
			}
		}
		var d []byte
		for i, pk := range dgram {
			padTo := 0
			if i == len(dgram)-1 {
				padTo = pad
			}
			var err error
			if d, err = p.AppendPacket(d, pk.pt, padTo, pk.frames...); err != nil {
				return err
			}
		}
		dgram, size = nil, 0
		return p.SendRaw(d)
	}
	// Room left for frames after a packet's header and tag.
	const packetOverhead = 1 + 4 + 2*21 + 2 + 4 + aeadOverhead
	for sp := spaceInitial; sp < numSpaces; sp++ {
		l := &p.levels[sp]
		if l.seal == nil {
			continue
		}
		for {
			var frames []Frame
			fsize := 0
			if l.ackPending {
				ack := p.AckFrame(sp.packetType())
				frames = append(frames, ack)
				fsize += ack.Len()
				l.ackPending = false
			}
			if sp == spaceApp && p.complete && !p.isClient && !p.handshakeDone {
				frames = append(frames, &wire.HandshakeDoneFrame{})
				fsize++
				p.handshakeDone, p.confirmed = true, true
			}
			if len(l.cryptoOut) > 0 {
				room := MaxDatagramSize - size - packetOverhead - fsize - 16
				if room < 64 {
					if err := send(); err != nil {
						return err
					}
					room = MaxDatagramSize - packetOverhead - fsize - 16
				}
				n := min(len(l.cryptoOut), room)
				frames = append(frames, &wire.CryptoFrame{Offset: l.cryptoOutOff, Data: l.cryptoOut[:n]})
				fsize += 16 + n
				l.cryptoOut = l.cryptoOut[n:]
				l.cryptoOutOff += uint64(n)
			}
			if len(frames) == 0 {
				break
			}
			dgram = append(dgram, planned{sp.packetType(), frames})
			size += packetOverhead + fsize
			if len(l.cryptoOut) == 0 {
				break
			}
		}
	}
	return send()
}
