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

// maxStreamData bounds what a StreamData assembles: tests move megabytes,
// not more.
const maxStreamData = 64 << 20

// StreamData reassembles one stream's data from STREAM frames, in any
// order, for tests that read a stream over several steps.
type StreamData struct {
	ID    uint64
	buf   []byte
	have  []bool
	finAt int64 // -1 until the FIN arrives
	Reset *wire.ResetStreamFrame
}

// NewStreamData returns an empty assembler for stream id.
func NewStreamData(id uint64) *StreamData { return &StreamData{ID: id, finAt: -1} }

// Add takes the packet's STREAM and RESET_STREAM frames for the stream.
func (s *StreamData) Add(pkt *Packet) error {
	for _, f := range pkt.Frames {
		switch f := f.(type) {
		case wire.StreamFrame:
			if f.StreamID != s.ID {
				continue
			}
			end := int(f.Offset) + len(f.Data)
			if f.Offset > maxStreamData || end > maxStreamData {
				return fmt.Errorf("quictest: stream %d: offset %d too large for a test", s.ID, end)
			}
			if end > len(s.buf) {
				s.buf = append(s.buf, make([]byte, end-len(s.buf))...)
				s.have = append(s.have, make([]bool, end-len(s.have))...)
			}
			copy(s.buf[f.Offset:], f.Data)
			for i := f.Offset; i < uint64(end); i++ {
				s.have[i] = true
			}
			if f.Fin {
				s.finAt = int64(end)
			}
		case wire.ResetStreamFrame:
			if f.StreamID == s.ID && s.Reset == nil {
				s.Reset = &f
			}
		}
	}
	return nil
}

// Contiguous returns the data received without a gap from offset 0.
func (s *StreamData) Contiguous() []byte {
	for i, h := range s.have {
		if !h {
			return s.buf[:i]
		}
	}
	return s.buf
}

// HighestOffset returns the end of the highest data received.
func (s *StreamData) HighestOffset() int { return len(s.buf) }

// Complete reports whether everything up to the FIN has arrived.
func (s *StreamData) Complete() bool {
	return s.finAt >= 0 && int64(len(s.Contiguous())) >= s.finAt
}

// Data returns the stream's data once Complete.
func (s *StreamData) Data() []byte {
	if !s.Complete() {
		return nil
	}
	return s.buf[:s.finAt]
}

// ReadStream collects the data the other side sends on stream id until its
// FIN, acknowledging every packet as it arrives (AckAll after each
// datagram) so that the sender keeps going. It returns the data and the
// packets read on the way (other frames included), or an error if ctx ends
// first, the stream is reset or the connection closes.
func (p *Peer) ReadStream(ctx context.Context, id uint64) ([]byte, []*Packet, error) {
	s := NewStreamData(id)
	packets, err := p.ReadStreamInto(ctx, s)
	return s.Data(), packets, err
}

// ReadStreamInto is ReadStream continuing with data already collected in s.
func (p *Peer) ReadStreamInto(ctx context.Context, s *StreamData) ([]*Packet, error) {
	var packets []*Packet
	for !s.Complete() {
		pkt, err := p.ReadPacket(ctx)
		if err != nil {
			return packets, fmt.Errorf("quictest: reading stream %d (%d bytes so far): %w", s.ID, len(s.Contiguous()), err)
		}
		packets = append(packets, pkt)
		if err := s.Add(pkt); err != nil {
			return packets, err
		}
		if s.Reset != nil {
			return packets, fmt.Errorf("quictest: stream %d reset with code %#x", s.ID, s.Reset.Code)
		}
		for _, f := range pkt.Frames {
			if cc, ok := f.(wire.ConnectionCloseFrame); ok {
				return packets, &CloseError{PacketType: pkt.Type, Frame: cc}
			}
		}
		if !p.AutoAck && len(p.rest) == 0 {
			if err := p.AckAll(); err != nil {
				return packets, err
			}
		}
	}
	return packets, nil
}
