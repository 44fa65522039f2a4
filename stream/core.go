package stream

import (
	"sync/atomic"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
	"github.com/tsumugi-quic/tsumugi/sched"
)

// Core is one stream as its connection sees it. One allocation holds the
// core, both halves (a unidirectional stream uses one) and the values the
// application gets (Stream, SendStream, ReceiveStream).
//
// The methods of Core are for the connection goroutine only; each takes a
// half's mutex briefly and never waits for the application. The
// application's methods live on Stream, SendStream and ReceiveStream.
type Core struct {
	id          ID
	hasSend     bool
	hasRecv     bool
	wakePending atomic.Bool   // Owner.Wake called, Work not yet
	prio        atomic.Uint32 // urgency | incremental<<8
	owner       Owner

	send sendHalf
	recv recvHalf

	stream     Stream
	sendStream SendStream
	recvStream ReceiveStream
}

// Default priority, RFC 9218 §4.
const (
	DefaultUrgency     = 3
	defaultIncremental = false
)

// New returns the stream with ID id of a connection on which we are the
// client when isClient is set. It has a sending half if we may send on id's
// type and a receiving half if we may receive (RFC 9000 §2.1).
func New(id ID, isClient bool, owner Owner, cfg Config) *Core {
	cfg = cfg.withDefaults()
	c := &Core{
		id:      id,
		hasSend: id.Type().CanSend(isClient),
		hasRecv: id.Type().CanReceive(isClient),
		owner:   owner,
	}
	c.prio.Store(DefaultUrgency)
	if c.hasSend {
		c.send.init(cfg)
	}
	if c.hasRecv {
		c.recv.init(cfg)
	}
	c.stream.c = c
	c.sendStream.c = c
	c.recvStream.c = c
	return c
}

// ID returns the stream's ID.
func (c *Core) ID() ID { return c.id }

// Stream returns the application's view of a bidirectional stream, or nil
// for a unidirectional one.
func (c *Core) Stream() *Stream {
	if !c.hasSend || !c.hasRecv {
		return nil
	}
	return &c.stream
}

// SendStream returns the application's view of the sending half, or nil if
// there is none.
func (c *Core) SendStream() *SendStream {
	if !c.hasSend {
		return nil
	}
	return &c.sendStream
}

// ReceiveStream returns the application's view of the receiving half, or
// nil if there is none.
func (c *Core) ReceiveStream() *ReceiveStream {
	if !c.hasRecv {
		return nil
	}
	return &c.recvStream
}

// wake tells the owner that the stream has something for the connection,
// unless a wake is already pending (cleared by Work). Call with no stream
// lock held.
func (c *Core) wake() {
	if c.wakePending.CompareAndSwap(false, true) {
		c.owner.Wake(c.id)
	}
}

// Work reports what the stream has to send and clears the pending-wake
// flag, so that the next change calls Owner.Wake again. The connection calls
// it after each Wake, then tells its scheduler.
func (c *Core) Work() Work {
	c.wakePending.Store(false)
	var w Work
	if c.hasSend {
		s := &c.send
		s.mu.Lock()
		if s.resetCtl == ctlPending || s.blockedCtl == ctlPending {
			w |= WorkControl
		}
		if s.active() {
			if s.buf.hasLost() || s.finLost {
				w |= WorkRetransmit
			}
			if s.newAllowed() {
				w |= WorkNewData
			}
		}
		s.mu.Unlock()
	}
	if c.hasRecv {
		r := &c.recv
		r.mu.Lock()
		if r.stopCtl == ctlPending || r.maxCtl == ctlPending {
			w |= WorkControl
		}
		r.mu.Unlock()
	}
	return w
}

// Priority returns the stream's priority (RFC 9218): urgency 0 (highest) to
// 7, and whether its data may be interleaved with other streams of the same
// urgency. The default is urgency 3, not incremental.
func (c *Core) Priority() (urgency uint8, incremental bool) {
	p := c.prio.Load()
	return uint8(p), p>>8 != 0
}

func (c *Core) setPriority(urgency uint8, incremental bool) {
	p := uint32(min(urgency, 7))
	if incremental {
		p |= 1 << 8
	}
	if c.prio.Swap(p) != p {
		c.owner.Wake(c.id) // a change the scheduler must see even if a wake is pending
	}
}

// Done reports whether both halves reached a terminal state (sending: Data
// Recvd or Reset Recvd; receiving: Data Read or Reset Read; RFC 9000 §3):
// the connection may forget the stream and, for a peer's stream, count it
// toward a new MAX_STREAMS.
func (c *Core) Done() bool {
	if c.hasSend {
		c.send.mu.Lock()
		t := c.send.terminal()
		c.send.mu.Unlock()
		if !t {
			return false
		}
	}
	if c.hasRecv {
		c.recv.mu.Lock()
		t := c.recv.terminal()
		c.recv.mu.Unlock()
		if !t {
			return false
		}
	}
	return true
}

// FinPending reports whether the application closed the sending side (FIN)
// and not everything through the FIN is acknowledged yet, with no reset: a
// graceful connection Close waits for these streams.
func (c *Core) FinPending() bool {
	if !c.hasSend {
		return false
	}
	s := &c.send
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.finWanted && s.active()
}

// Abort ends the stream because the connection is gone: every blocked and
// later Read, Write and WaitAcked returns err at once, and the buffers are
// released.
func (c *Core) Abort(err error) {
	if c.hasSend {
		c.send.mu.Lock()
		c.send.abort(err)
		c.send.mu.Unlock()
	}
	if c.hasRecv {
		c.recv.mu.Lock()
		c.recv.abort(err)
		c.recv.mu.Unlock()
	}
}

// HandleStream processes a STREAM frame for this stream (RFC 9000 §19.8).
// It returns how much the highest received offset grew, which the
// connection counts against its connection-level limit (RFC 9000 §4.1).
// Errors are *wire.TransportError: STREAM_STATE_ERROR (we cannot receive on
// this stream), FLOW_CONTROL_ERROR, FINAL_SIZE_ERROR. Frames that arrive
// after the receiving part finished are accepted and ignored, but still
// checked against the final size.
func (c *Core) HandleStream(f wire.StreamFrame) (grow uint64, err error) {
	if !c.hasRecv {
		return 0, stateError(wire.FrameTypeStream, "STREAM frame for a send-only stream")
	}
	r := &c.recv
	r.mu.Lock()
	grow, signal, err := r.handleData(f.Offset, f.Data, f.Fin)
	if signal {
		r.w.signal()
	}
	credit := r.creditDue()
	r.mu.Unlock()
	if credit > 0 {
		c.owner.Consumed(credit)
	}
	return grow, err
}

// HandleResetStream processes a RESET_STREAM frame (RFC 9000 §19.4, §3.2):
// a pending Read returns a *StreamError with the code. It returns how much
// the highest received offset grew (up to the final size). Errors:
// STREAM_STATE_ERROR, FLOW_CONTROL_ERROR, FINAL_SIZE_ERROR.
func (c *Core) HandleResetStream(code, finalSize uint64) (grow uint64, err error) {
	if !c.hasRecv {
		return 0, stateError(wire.FrameTypeResetStream, "RESET_STREAM for a send-only stream")
	}
	r := &c.recv
	r.mu.Lock()
	grow, signal, err := r.handleReset(code, finalSize)
	if signal {
		r.w.signal()
	}
	credit := r.creditDue()
	r.mu.Unlock()
	if credit > 0 {
		c.owner.Consumed(credit)
	}
	return grow, err
}

// HandleStopSending processes a STOP_SENDING frame (RFC 9000 §19.5, §3.5):
// pending and later Writes fail with a *StreamError{Code: code, Remote:
// true}, and RESET_STREAM with that code is queued. In Data Sent (FIN sent)
// the reset waits until outstanding data is declared lost, and does not
// happen if everything is acknowledged (RFC 9000 §3.5 allows this).
// STREAM_STATE_ERROR if we cannot send on this stream.
func (c *Core) HandleStopSending(code uint64) error {
	if !c.hasSend {
		return stateError(wire.FrameTypeStopSending, "STOP_SENDING for a receive-only stream")
	}
	s := &c.send
	s.mu.Lock()
	wake := s.stopSending(c.id, code)
	s.mu.Unlock()
	if wake {
		c.wake()
	}
	return nil
}

// HandleMaxStreamData processes a MAX_STREAM_DATA frame (RFC 9000 §19.10);
// limits that do not increase are ignored. STREAM_STATE_ERROR if we cannot
// send on this stream.
func (c *Core) HandleMaxStreamData(limit uint64) error {
	if !c.hasSend {
		return stateError(wire.FrameTypeMaxStreamData, "MAX_STREAM_DATA for a receive-only stream")
	}
	s := &c.send
	s.mu.Lock()
	wake := s.maxStreamData(limit)
	s.mu.Unlock()
	if wake {
		c.wake()
	}
	return nil
}

// HandleStreamDataBlocked processes a STREAM_DATA_BLOCKED frame (RFC 9000
// §19.13). It changes nothing (we send MAX_STREAM_DATA as the reader
// consumes, never in answer to this frame, RFC 9000 §4.2) but checks that
// we can receive on this stream: STREAM_STATE_ERROR otherwise.
func (c *Core) HandleStreamDataBlocked(limit uint64) error {
	if !c.hasRecv {
		return stateError(wire.FrameTypeStreamDataBlocked, "STREAM_DATA_BLOCKED for a send-only stream")
	}
	return nil
}

// StreamID returns the stream's ID (sched.StreamSource).
func (c *Core) StreamID() uint64 { return uint64(c.id) }

var _ sched.StreamSource = (*Core)(nil)
