package quictest

import (
	"context"
	"fmt"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

// ExpectFrame reads packets until one holds a frame of type T for which
// match returns true (nil matches any), and returns that frame and its
// packet. Packets read on the way are processed (see ReadPacket) and
// dropped.
func ExpectFrame[T any](ctx context.Context, p *Peer, match func(T) bool) (T, *Packet, error) {
	var zero T
	for {
		pkt, err := p.ReadPacket(ctx)
		if err != nil {
			return zero, nil, fmt.Errorf("quictest: waiting for %T: %w", zero, err)
		}
		for _, f := range pkt.Frames {
			if v, ok := f.(T); ok && (match == nil || match(v)) {
				return v, pkt, nil
			}
		}
	}
}

// ExpectFrame reads packets until match returns true for one of their
// frames, and returns that frame and its packet: the untyped form of the
// package-level ExpectFrame.
func (p *Peer) ExpectFrame(ctx context.Context, match func(f any) bool) (any, *Packet, error) {
	return ExpectFrame(ctx, p, match)
}

// ExpectClose reads packets until a CONNECTION_CLOSE arrives and returns
// it. If one arrived already, it returns that one at once.
func (p *Peer) ExpectClose(ctx context.Context) (wire.ConnectionCloseFrame, error) {
	if p.closeFrame != nil {
		return *p.closeFrame, nil
	}
	f, _, err := ExpectFrame[wire.ConnectionCloseFrame](ctx, p, nil)
	return f, err
}

// ReadStream collects the data the other side sends on stream id until its
// FIN, acknowledging every packet as it arrives (AckAll after each
// datagram) so that the sender keeps going. It returns the data and the
// packets read on the way (other frames included), or an error if ctx ends
// first, the stream is reset (the RESET_STREAM is in the packets) or the
// connection closes.
func (p *Peer) ReadStream(ctx context.Context, id uint64) ([]byte, []*Packet, error) {
	var (
		buf     []byte
		have    []bool
		finAt   = int64(-1)
		packets []*Packet
	)
	complete := func() bool {
		if finAt < 0 || int64(len(have)) < finAt {
			return false
		}
		for _, h := range have[:finAt] {
			if !h {
				return false
			}
		}
		return true
	}
	for !complete() {
		pkt, err := p.ReadPacket(ctx)
		if err != nil {
			return buf, packets, fmt.Errorf("quictest: reading stream %d: %w", id, err)
		}
		packets = append(packets, pkt)
		for _, f := range pkt.Frames {
			switch f := f.(type) {
			case wire.StreamFrame:
				if f.StreamID != id {
					continue
				}
				end := int(f.Offset) + len(f.Data)
				if end > 64<<20 {
					return buf, packets, fmt.Errorf("quictest: stream %d: offset %d too large for a test", id, end)
				}
				if end > len(buf) {
					buf = append(buf, make([]byte, end-len(buf))...)
					have = append(have, make([]bool, end-len(have))...)
				}
				copy(buf[f.Offset:], f.Data)
				for i := f.Offset; i < uint64(end); i++ {
					have[i] = true
				}
				if f.Fin {
					finAt = int64(end)
				}
			case wire.ResetStreamFrame:
				if f.StreamID == id {
					return buf, packets, fmt.Errorf("quictest: stream %d reset with code %#x", id, f.Code)
				}
			case wire.ConnectionCloseFrame:
				return buf, packets, &CloseError{PacketType: pkt.Type, Frame: f}
			}
		}
		if !p.AutoAck && len(p.rest) == 0 {
			if err := p.AckAll(); err != nil {
				return buf, packets, err
			}
		}
	}
	return buf[:finAt], packets, nil
}
