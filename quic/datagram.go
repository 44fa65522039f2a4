package quic

import (
	"context"
	"errors"
	"github.com/tsumugi-quic/tsumugi/metrics"
	"sync"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
	"github.com/tsumugi-quic/tsumugi/sched"
)

// DATAGRAM frames, RFC 9221: unreliable, unordered application data that
// shares the connection's congestion control but is never retransmitted.

// maxDatagramQueue bounds datagrams waiting to be sent and waiting to be
// received; beyond it a new datagram is dropped (they are unreliable).
const maxDatagramQueue = 128

// ourMaxDatagramFrameSize is the max_datagram_frame_size we advertise: any
// DATAGRAM frame that fits a packet.
const ourMaxDatagramFrameSize = 65535

var (
	// ErrDatagramsDisabled: the peer (or our Config) does not allow DATAGRAM frames.
	ErrDatagramsDisabled = errors.New("quic: DATAGRAM frames not negotiated")
	// ErrDatagramTooLarge: the datagram cannot fit in one packet.
	ErrDatagramTooLarge = errors.New("quic: datagram too large for a packet")
	// ErrDatagramQueueFull: too many datagrams wait to be sent; this one was dropped.
	ErrDatagramQueueFull = errors.New("quic: datagram send queue full")
)

// datagramQueue is a bounded FIFO of datagrams shared between application
// goroutines and the connection goroutine.
type datagramQueue struct {
	mu     sync.Mutex
	q      [][]byte
	signal chan struct{} // capacity 1: not empty
}

func (d *datagramQueue) init() { d.signal = make(chan struct{}, 1) }

func (d *datagramQueue) push(b []byte) bool {
	d.mu.Lock()
	if len(d.q) >= maxDatagramQueue {
		d.mu.Unlock()
		return false
	}
	d.q = append(d.q, b)
	d.mu.Unlock()
	select {
	case d.signal <- struct{}{}:
	default:
	}
	return true
}

// pop removes the first datagram if it is at most max bytes long
// (fits == false: it is there but too big for the room left).
func (d *datagramQueue) pop(max int) (b []byte, fits bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.q) == 0 {
		return nil, true
	}
	if len(d.q[0]) > max {
		return nil, false
	}
	b = d.q[0]
	d.q[0] = nil
	d.q = d.q[1:]
	if len(d.q) > 0 {
		select {
		case d.signal <- struct{}{}:
		default:
		}
	}
	return b, true
}

func (d *datagramQueue) empty() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.q) == 0
}

// SendDatagram queues b to be sent in a DATAGRAM frame. It does not block:
// datagrams are unreliable, and one that cannot be queued is dropped with
// an error. b is copied.
func (c *Conn) SendDatagram(b []byte) error {
	if !c.config.EnableDatagrams {
		return ErrDatagramsDisabled
	}
	select {
	case <-c.handshakeDone:
	default:
		return ErrDatagramsDisabled // the peer's limit is not known yet
	}
	limit := c.peerDatagramLimit.Load()
	if limit == 0 {
		return ErrDatagramsDisabled
	}
	if uint64(wire.DatagramFrameLen(len(b), true)) > limit || len(b) > c.MaxDatagramSize() {
		return ErrDatagramTooLarge
	}
	if err := context.Cause(c.ctx); err != nil {
		return err
	}
	if !c.datagramsOut.push(append([]byte(nil), b...)) {
		return ErrDatagramQueueFull
	}
	c.wake.signal()
	return nil
}

// MaxDatagramSize is the largest datagram SendDatagram accepts now: what
// fits in one 1-RTT packet at the current path MTU.
func (c *Conn) MaxDatagramSize() int {
	// Short header (1 + CID + up to 4 bytes of packet number), AEAD tag,
	// and the frame's type and Length fields.
	n := int(c.mtuForDatagrams.Load()) - (1 + c.config.ConnectionIDLength + 4) - aeadOverhead - 3
	return max(n, 0)
}

// ReceiveDatagram waits for the next DATAGRAM frame from the peer.
func (c *Conn) ReceiveDatagram(ctx context.Context) ([]byte, error) {
	for {
		if b, _ := c.datagramsIn.pop(1 << 30); b != nil {
			return b, nil
		}
		if !c.config.EnableDatagrams {
			return nil, ErrDatagramsDisabled
		}
		select {
		case <-c.datagramsIn.signal:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-c.ctx.Done():
			if b, _ := c.datagramsIn.pop(1 << 30); b != nil {
				return b, nil
			}
			return nil, context.Cause(c.ctx)
		}
	}
}

// handleDatagramFrame queues a received DATAGRAM frame for the application.
func (c *Conn) handleDatagramFrame(f *wire.DatagramFrame, ft uint64) error {
	if !c.config.EnableDatagrams {
		// RFC 9221 §3: DATAGRAM frames we did not advertise.
		return &wire.TransportError{Code: wire.ProtocolViolation, FrameType: ft, Reason: "DATAGRAM frame not negotiated"}
	}
	if uint64(wire.DatagramFrameLen(len(f.Data), true)) > ourMaxDatagramFrameSize {
		return &wire.TransportError{Code: wire.ProtocolViolation, FrameType: ft, Reason: "DATAGRAM frame above max_datagram_frame_size"}
	}
	if !c.datagramsIn.push(append([]byte(nil), f.Data...)) {
		c.st.metrics.PacketDropped(metrics.DropQueue) // the frame is still acknowledged
	}
	return nil
}

// datagramSource appends queued DATAGRAM frames to 1-RTT packets.
type datagramSource struct{ c *Conn }

func (s *datagramSource) AppendFrames(b []byte, max int, rec *sched.Record) []byte {
	limit := len(b) + max
	for {
		room := limit - len(b)
		d, fits := s.c.datagramsOut.pop(room - 3)
		if d == nil {
			if !fits && room >= s.c.MaxDatagramSize()+3 {
				// Too big even for an empty packet now (the MTU shrank):
				// drop it rather than block the queue.
				s.c.datagramsOut.pop(1 << 30)
				continue
			}
			return b
		}
		f := wire.DatagramFrame{Data: d}
		b = f.Append(b, true)
		rec.Add(sched.FrameRecord{Kind: sched.FrameDatagram, Length: uint64(len(d))})
	}
}
