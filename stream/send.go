package stream

import "sync"

// sendState is a state of the sending part of a stream, RFC 9000 §3.1.
type sendState uint8

const (
	sendReady      sendState = iota // nothing sent yet
	sendSend                        // sending; FIN not sent
	sendDataSent                    // FIN sent; only retransmissions remain
	sendDataRecvd                   // everything through FIN acknowledged (terminal)
	sendResetSent                   // RESET_STREAM queued or sent
	sendResetRecvd                  // RESET_STREAM acknowledged (terminal)
)

var sendStateNames = [...]string{"Ready", "Send", "Data Sent", "Data Recvd", "Reset Sent", "Reset Recvd"}

func (s sendState) String() string { return sendStateNames[s] }

// noLimit marks "no STREAM_DATA_BLOCKED sent yet".
const noLimit = ^uint64(0)

// sendHalf is the sending part of a stream. The application's Write copies
// into buf under mu; the connection goroutine copies from buf into packets
// under mu. Neither waits for the other while holding mu.
type sendHalf struct {
	mu    sync.Mutex
	state sendState

	buf       SendBuffer
	bufMax    int    // Config.SendBuffer
	peerLimit uint64 // the peer's MAX_STREAM_DATA (RFC 9000 §4.1)

	finWanted bool // the application closed: FIN goes at buf.Written()
	finSent   bool // a frame with FIN went out (Data Sent)
	finLost   bool // that frame was lost and not re-sent yet
	finAcked  bool
	closed    bool // local Close or CloseWrite: Write returns net.ErrClosed

	resetCtl  ctlState
	resetCode uint64
	finalSize uint64 // RESET_STREAM's Final Size

	blockedCtl ctlState
	blockedAt  uint64 // limit the last STREAM_DATA_BLOCKED reported, or noLimit

	stopDeferred bool   // STOP_SENDING arrived in Data Sent; reset only if data is lost
	stopCode     uint64 // its code

	writeErr error // after a reset: the StreamError Write returns
	err      error // set by Abort

	w          waiter
	done       chan struct{} // closed when WaitAcked can return; made on demand
	doneClosed bool
	writeMu    sync.Mutex // serialises Writes
}

func (s *sendHalf) init(cfg Config) {
	s.bufMax = cfg.SendBuffer
	s.peerLimit = cfg.PeerInitialMaxData
	s.blockedAt = noLimit
}

// active reports whether the half may still send STREAM frames (RFC 9000
// §3.3: never after RESET_STREAM or in a terminal state).
func (s *sendHalf) active() bool {
	return s.state <= sendDataSent && s.err == nil
}

// terminal reports whether the sending part reached Data Recvd or Reset
// Recvd, or the connection is gone.
func (s *sendHalf) terminal() bool {
	return s.state == sendDataRecvd || s.state == sendResetRecvd || s.err != nil
}

// newAllowed reports whether new data or a FIN may be sent under the peer's
// stream limit.
func (s *sendHalf) newAllowed() bool {
	next := s.buf.Sent()
	return min(s.buf.Written(), s.peerLimit) > next ||
		(s.finWanted && !s.finSent && next == s.buf.Written())
}

// checkBlocked queues STREAM_DATA_BLOCKED when data waits beyond the peer's
// limit, once per limit value (RFC 9000 §4.1, §19.13). It reports whether
// the frame became pending.
func (s *sendHalf) checkBlocked() bool {
	if s.state > sendSend || s.err != nil {
		return false // RFC 9000 §3.1: not needed from Data Sent on
	}
	if s.buf.Sent() == s.peerLimit && s.buf.Written() > s.peerLimit && s.blockedAt != s.peerLimit {
		s.blockedAt = s.peerLimit
		s.blockedCtl = ctlPending
		return true
	}
	return false
}

// maxStreamData raises the peer's limit (RFC 9000 §4.1: decreases are
// ignored). It reports whether new data became sendable.
func (s *sendHalf) maxStreamData(limit uint64) bool {
	if limit <= s.peerLimit {
		return false
	}
	old := s.peerLimit
	s.peerLimit = limit
	if s.blockedCtl == ctlPending && s.blockedAt < limit {
		s.blockedCtl = ctlNone
	}
	return s.active() && s.state != sendDataSent && s.buf.Written() > old
}

// reset abandons sending (CancelWrite, or STOP_SENDING from the peer): the
// buffer is dropped and RESET_STREAM queued with the final size, the highest
// offset sent (RFC 9000 §4.5, §3.5). It reports whether it did anything.
func (s *sendHalf) reset(id ID, code uint64, remote bool) bool {
	if !s.active() {
		return false
	}
	s.finalSize = s.buf.Sent()
	s.state = sendResetSent
	s.resetCtl = ctlPending
	s.resetCode = code
	s.writeErr = &StreamError{StreamID: id, Code: code, Remote: remote, write: true}
	s.buf.Release()
	s.finLost = false
	s.blockedCtl = ctlNone
	s.finish()
	return true
}

// close queues the FIN after the buffered data (CloseWrite). It reports
// whether there is something new to send.
func (s *sendHalf) close() bool {
	s.closed = true
	s.w.signal()
	if !s.active() || s.finWanted {
		return false
	}
	s.finWanted = true
	return s.state != sendDataSent
}

// stopSending processes the peer's STOP_SENDING (RFC 9000 §3.5): reset
// with its code, except in Data Sent with nothing lost, where the reset is
// deferred until some outstanding data is declared lost (everything may yet
// arrive). It reports whether a RESET_STREAM became pending.
func (s *sendHalf) stopSending(id ID, code uint64) bool {
	if s.state == sendDataSent && s.err == nil && !s.buf.hasLost() && !s.finLost {
		s.stopDeferred = true
		s.stopCode = code
		return false
	}
	return s.reset(id, code, true)
}

// onAckedData processes the acknowledgment of a STREAM frame's range.
func (s *sendHalf) onAckedData(off, n uint64, fin bool) {
	if s.state != sendSend && s.state != sendDataSent || s.err != nil {
		return
	}
	s.buf.OnAcked(off, n)
	if fin {
		s.finAcked = true
		s.finLost = false
	}
	if s.finAcked && s.buf.Acked() {
		s.state = sendDataRecvd // RFC 9000 §3.1: all data acknowledged
		s.buf.Release()
		s.finish()
	}
	s.w.signal() // space freed: a blocked Write may go on
}

// onLostData processes the loss of a STREAM frame's range. It reports
// whether something needs re-sending.
func (s *sendHalf) onLostData(id ID, off, n uint64, fin bool) bool {
	if s.state != sendSend && s.state != sendDataSent || s.err != nil {
		return false
	}
	s.buf.OnLost(off, n)
	if fin && !s.finAcked {
		s.finLost = true
	}
	lost := s.buf.hasLost() || s.finLost
	if lost && s.stopDeferred {
		// RFC 9000 §3.5: reset rather than retransmit for a peer that
		// asked us to stop.
		return s.reset(id, s.stopCode, true)
	}
	return lost
}

// abort fails the half with err: the connection is gone.
func (s *sendHalf) abort(err error) {
	if s.err == nil {
		s.err = err
	}
	s.buf.Release()
	s.resetCtl = ctlNone
	s.blockedCtl = ctlNone
	s.finLost = false
	s.finish()
}

// finish wakes every waiter for good: the blocked Write and WaitAcked.
func (s *sendHalf) finish() {
	if !s.doneClosed {
		s.doneClosed = true
		if s.done != nil {
			close(s.done)
		}
	}
	s.w.signal()
	s.w.stop()
}

// doneChan returns a channel closed once WaitAcked can return.
func (s *sendHalf) doneChan() <-chan struct{} {
	if s.done == nil {
		s.done = make(chan struct{})
		if s.doneClosed {
			close(s.done)
		}
	}
	return s.done
}
