package quictest

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

// ReadDatagram waits for the next datagram from any address, without
// processing it: the raw bytes, for tests of stateless resets, Version
// Negotiation and the like. It fails when ctx ends.
func (p *Peer) ReadDatagram(ctx context.Context) ([]byte, netip.AddrPort, error) {
	if err := ctx.Err(); err != nil {
		return nil, netip.AddrPort{}, err
	}
	p.pc.SetReadDeadline(time.Time{})
	stop := context.AfterFunc(ctx, func() {
		// A deadline in the past wakes the read now.
		p.pc.SetReadDeadline(time.Unix(1, 0))
	})
	n, from, err := p.pc.ReadFromUDPAddrPort(p.rbuf)
	stop()
	if err != nil {
		if ctx.Err() != nil {
			return nil, netip.AddrPort{}, ctx.Err()
		}
		return nil, netip.AddrPort{}, err
	}
	p.stats.DatagramsReceived++
	p.stats.BytesReceived += n
	// A copy per datagram: parsed frames alias it and outlive the next read.
	return bytes.Clone(p.rbuf[:n]), from, nil
}

// ReadPacket returns the next packet the peer can decrypt, reading
// datagrams as needed and splitting coalesced packets (RFC 9000 §12.2).
// Packets it cannot decrypt are counted in Stats and skipped. Version
// Negotiation and Retry packets are returned with their Versions or Token.
// It records the packet number for ACKs, feeds CRYPTO frames to TLS and
// tracks HANDSHAKE_DONE, NEW_CONNECTION_ID and key updates (see the
// package documentation). A frame that does not parse is an error. With
// AutoAck, once it has returned the last packet of a datagram, the next
// call acknowledges them (AckAll) before it reads on; in between, Forget
// can take a packet out of the acknowledgments.
func (p *Peer) ReadPacket(ctx context.Context) (*Packet, error) {
	if p.autoAckDue && len(p.rest) == 0 {
		p.autoAckDue = false
		if p.AutoAck {
			if err := p.AckAll(); err != nil {
				return nil, err
			}
		}
	}
	for {
		if len(p.rest) == 0 {
			d, from, err := p.ReadDatagram(ctx)
			if err != nil {
				return nil, err
			}
			if p.remote.IsValid() && from != p.remote {
				continue // not from the peer we talk to
			}
			p.rest, p.restFrom, p.restSize, p.restDCID = d, from, len(d), nil
		}
		pkt, err := p.nextPacket()
		if err != nil {
			return nil, err
		}
		if len(p.rest) == 0 {
			p.autoAckDue = true
		}
		if pkt != nil {
			return pkt, nil
		}
	}
}

// nextPacket takes the next packet off p.rest. It returns nil, nil for a
// packet it could not decrypt.
func (p *Peer) nextPacket() (*Packet, error) {
	b := p.rest
	if len(b) == 0 {
		return nil, nil
	}
	if !wire.IsLongHeader(b[0]) {
		p.rest = nil
		return p.shortPacket(b)
	}
	hdr, err := wire.ParseLongHeader(b)
	if err != nil {
		p.rest = nil
		p.stats.Undecryptable++
		return nil, nil
	}
	switch hdr.Type {
	case wire.PacketVersionNegotiation:
		p.rest = nil
		_, _, vs, err := wire.ParseVersionNegotiation(b)
		if err != nil {
			p.stats.Undecryptable++
			return nil, nil
		}
		pkt := &Packet{Type: hdr.Type, DstID: hdr.DstConnID, SrcID: hdr.SrcConnID, Size: len(b), DatagramSize: p.restSize}
		for i := 0; i+4 <= len(vs); i += 4 {
			pkt.Versions = append(pkt.Versions, binary.BigEndian.Uint32(vs[i:]))
		}
		return pkt, nil
	case wire.PacketRetry:
		p.rest = nil
		return &Packet{Type: hdr.Type, DstID: hdr.DstConnID, SrcID: hdr.SrcConnID, Token: hdr.Token, Size: len(b), DatagramSize: p.restSize}, nil
	}
	pkt := b[:hdr.PacketLen]
	p.rest = b[hdr.PacketLen:]
	if p.restDCID == nil {
		p.restDCID = hdr.DstConnID
	} else if !bytes.Equal(p.restDCID, hdr.DstConnID) {
		p.stats.Undecryptable++ // RFC 9000 §12.2: coalesced packets share a DCID
		return nil, nil
	}
	sp, ok := spaceOf(hdr.Type)
	if !ok {
		p.stats.Undecryptable++ // 0-RTT
		return nil, nil
	}
	l := &p.levels[sp]
	if l.open == nil {
		p.stats.Undecryptable++
		return nil, nil
	}
	pnLen, truncated, err := l.open.RemoveHeaderProtection(pkt, hdr.PNOffset)
	if err != nil {
		p.stats.Undecryptable++
		return nil, nil
	}
	pn := wire.DecodePacketNumber(l.largestRecv(), truncated, pnLen*8)
	payload, err := l.open.Open(pkt, hdr.PNOffset+pnLen, pn)
	if err != nil {
		p.stats.Undecryptable++
		return nil, nil
	}
	if !p.gotFirst && sp == spaceInitial {
		p.gotFirst = true
		p.peerInitialSCID = append([]byte(nil), hdr.SrcConnID...)
		if p.isClient {
			// RFC 9000 §7.2: the client switches to the server's ID.
			p.dcid = append([]byte(nil), hdr.SrcConnID...)
		}
	}
	out := &Packet{Type: hdr.Type, Number: pn, DstID: hdr.DstConnID, SrcID: hdr.SrcConnID, Size: len(pkt), DatagramSize: p.restSize}
	return out, p.process(sp, out, payload)
}

// shortPacket opens a 1-RTT packet, following key updates (RFC 9001 §6.2).
func (p *Peer) shortPacket(b []byte) (*Packet, error) {
	l := &p.levels[spaceApp]
	dcid, pnOff, err := wire.ParseShortHeader(b, len(p.scid))
	if err != nil || l.open == nil {
		p.stats.Undecryptable++
		return nil, nil
	}
	pnLen, truncated, err := l.open.RemoveHeaderProtection(b, pnOff)
	if err != nil {
		p.stats.Undecryptable++
		return nil, nil
	}
	pn := wire.DecodePacketNumber(l.largestRecv(), truncated, pnLen*8)
	phase := wire.KeyPhase(b[0])
	var payload []byte
	if phase == p.recvPhase {
		payload, err = l.open.Open(b, pnOff+pnLen, pn)
	} else {
		// The next key phase, or a late packet of the previous one.
		saved := bytes.Clone(b)
		payload, err = p.nextOpen.Open(b, pnOff+pnLen, pn)
		if err == nil {
			p.prevOpen, l.open, p.nextOpen = l.open, p.nextOpen, p.nextOpen.Next()
			p.recvPhase = phase
			if p.FollowKeyUpdates && p.sendPhase != p.recvPhase {
				l.seal = l.seal.Next()
				p.sendPhase = p.recvPhase
			}
		} else if p.prevOpen != nil {
			copy(b, saved)
			payload, err = p.prevOpen.Open(b, pnOff+pnLen, pn)
		}
	}
	if err != nil {
		p.stats.Undecryptable++
		return nil, nil
	}
	out := &Packet{Type: wire.Packet1RTT, Number: pn, KeyPhase: phase, DstID: dcid, Size: len(b), DatagramSize: p.restSize}
	return out, p.process(spaceApp, out, payload)
}

// Forget makes the peer act as if pkt had been lost: its number leaves the
// set of received packets, so that no ACK covers it (unless the other side
// sends the packet number again). Its frames were processed all the same.
func (p *Peer) Forget(pkt *Packet) {
	if sp, ok := spaceOf(pkt.Type); ok {
		p.levels[sp].received.Remove(pkt.Number, pkt.Number+1)
	}
}

func (l *level) largestRecv() uint64 {
	if l.received.Empty() {
		return wire.NoPacketNumber
	}
	return l.received.Max()
}

// process parses a decrypted payload into pkt and applies what the peer
// tracks by itself.
func (p *Peer) process(sp space, pkt *Packet, payload []byte) error {
	p.stats.PacketsReceived++
	l := &p.levels[sp]
	frames, padding, err := ParseFrames(payload)
	pkt.Frames, pkt.Padding = frames, padding
	if err != nil {
		return fmt.Errorf("quictest: %v packet %d: %w", pkt.Type, pkt.Number, err)
	}
	l.received.Add(pkt.Number, pkt.Number+1)
	if pkt.AckEliciting() {
		l.ackPending = true
	}
	for _, f := range frames {
		switch f := f.(type) {
		case wire.AckFrame:
			if largest := f.LargestAcked(); !l.hasAckd || largest > l.largestAckd {
				l.largestAckd, l.hasAckd = largest, true
			}
		case wire.CryptoFrame:
			if err := p.handleCrypto(sp, f); err != nil {
				return err
			}
		case wire.HandshakeDoneFrame:
			if p.isClient {
				p.confirmed = true
			}
		case wire.NewConnectionIDFrame:
			f.ConnID = bytes.Clone(f.ConnID)
			p.peerConnIDs = append(p.peerConnIDs, f)
		case wire.ConnectionCloseFrame:
			if p.closeFrame == nil {
				p.closeFrame = &f
			}
		}
	}
	return nil
}

// handleCrypto reassembles CRYPTO data in order and hands it to TLS.
func (p *Peer) handleCrypto(sp space, f wire.CryptoFrame) error {
	l := &p.levels[sp]
	if p.tls == nil {
		return errors.New("quictest: CRYPTO frame before TLS started")
	}
	if f.Offset+uint64(len(f.Data)) <= l.cryptoIn {
		return nil
	}
	if len(l.cryptoPending) >= 256 {
		return errors.New("quictest: too many CRYPTO frames out of order")
	}
	l.cryptoPending = append(l.cryptoPending, f)
	for progress := true; progress; {
		progress = false
		kept := l.cryptoPending[:0]
		for _, c := range l.cryptoPending {
			end := c.Offset + uint64(len(c.Data))
			switch {
			case end <= l.cryptoIn:
				progress = true // stale: drop it
			case c.Offset <= l.cryptoIn:
				if err := p.tls.HandleData(sp.tlsLevel(), c.Data[l.cryptoIn-c.Offset:]); err != nil {
					p.tlsErr = err
					return nil
				}
				l.cryptoIn = end
				progress = true
			default:
				kept = append(kept, c)
			}
		}
		l.cryptoPending = kept
	}
	p.handleTLSEvents()
	return nil
}
