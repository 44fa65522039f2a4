package stream

import (
	"github.com/tsumugi-quic/tsumugi/quic/wire"
	"github.com/tsumugi-quic/tsumugi/sched"
)

// This file is the stream's side of the scheduler seam (sched.StreamSource)
// and of loss recovery (OnAcked, OnLost). Retransmission keeps state, not
// copies of frames: a lost range goes back into the send buffer's lost set,
// and a lost control frame is re-sent with its current value, or not at all
// if it is no longer needed (RFC 9000 §13.3).

// AppendControlFrames appends the stream's pending control frames that fit
// in max bytes, in this order: RESET_STREAM, STOP_SENDING, MAX_STREAM_DATA,
// STREAM_DATA_BLOCKED. It records each in rec (Kind FrameStreamControl,
// Offset holding the frame's limit where it has one) and reports whether any
// remain pending.
func (c *Core) AppendControlFrames(b []byte, max int, rec *sched.Record) (out []byte, pending bool) {
	start := len(b)
	room := func() int { return max - (len(b) - start) }
	id := uint64(c.id)
	if c.hasSend {
		s := &c.send
		s.mu.Lock()
		if s.resetCtl == ctlPending {
			f := wire.ResetStreamFrame{StreamID: id, Code: s.resetCode, FinalSize: s.finalSize}
			if f.Len() <= room() {
				b = f.Append(b)
				s.resetCtl = ctlSent
				rec.Add(ctlRecord(id, wire.FrameTypeResetStream, s.finalSize))
			} else {
				pending = true
			}
		}
		s.mu.Unlock()
	}
	if c.hasRecv {
		r := &c.recv
		r.mu.Lock()
		if r.stopCtl == ctlPending {
			f := wire.StopSendingFrame{StreamID: id, Code: r.stopCode}
			if f.Len() <= room() {
				b = f.Append(b)
				r.stopCtl = ctlSent
				rec.Add(ctlRecord(id, wire.FrameTypeStopSending, 0))
			} else {
				pending = true
			}
		}
		if r.maxCtl == ctlPending {
			f := wire.MaxStreamDataFrame{StreamID: id, Max: r.limit}
			if f.Len() <= room() {
				b = f.Append(b)
				r.maxCtl = ctlSent
				rec.Add(ctlRecord(id, wire.FrameTypeMaxStreamData, r.limit))
			} else {
				pending = true
			}
		}
		r.mu.Unlock()
	}
	if c.hasSend {
		s := &c.send
		s.mu.Lock()
		if s.blockedCtl == ctlPending {
			f := wire.StreamDataBlockedFrame{StreamID: id, Limit: s.blockedAt}
			if f.Len() <= room() {
				b = f.Append(b)
				s.blockedCtl = ctlSent
				if s.state == sendReady {
					s.state = sendSend // RFC 9000 §3.1
				}
				rec.Add(ctlRecord(id, wire.FrameTypeStreamDataBlocked, s.blockedAt))
			} else {
				pending = true
			}
		}
		s.mu.Unlock()
	}
	return b, pending
}

func ctlRecord(id uint64, ft wire.FrameType, value uint64) sched.FrameRecord {
	return sched.FrameRecord{Kind: sched.FrameStreamControl, Type: uint8(ft), StreamID: id, Offset: value}
}

// AppendStreamFrame appends at most one STREAM frame of at most max bytes,
// as sched.StreamSource documents. With retransmit set it re-sends the
// lowest range declared lost (with the FIN if that was lost too); otherwise
// it sends new data within the peer's MAX_STREAM_DATA and at most *credit
// bytes, subtracting what it sent. Data is copied once, from the send buffer
// into b.
func (c *Core) AppendStreamFrame(b []byte, max int, retransmit bool, credit *uint64, rec *sched.Record) (out []byte, more bool) {
	if !c.hasSend {
		return b, false
	}
	s := &c.send
	s.mu.Lock()
	if !s.active() {
		s.mu.Unlock()
		return b, false
	}
	var wake bool
	if retransmit {
		b, more = c.appendLost(b, max, rec)
	} else {
		b, more, wake = c.appendNew(b, max, credit, rec)
	}
	s.mu.Unlock()
	if wake {
		c.wake()
	}
	return b, more
}

// appendLost re-sends the lowest lost range, or a lost FIN alone.
func (c *Core) appendLost(b []byte, max int, rec *sched.Record) ([]byte, bool) {
	s := &c.send
	id := uint64(c.id)
	end := s.buf.Written()
	off, n, ok := s.buf.firstLost()
	if !ok {
		if !s.finLost {
			return b, false
		}
		// Only the FIN was lost: an empty frame at the final size.
		m, withLen := wire.StreamDataFit(id, end, 0, max)
		if m < 0 {
			return b, true
		}
		b = wire.AppendStreamFrameHeader(b, id, end, 0, true, withLen)
		s.finLost = false
		rec.Add(sched.FrameRecord{Kind: sched.FrameStream, StreamID: id, Offset: end, Fin: true})
		return b, false
	}
	m, withLen := wire.StreamDataFit(id, off, int(n), max)
	if m <= 0 {
		return b, true
	}
	fin := s.finLost && off+uint64(m) == end
	b = wire.AppendStreamFrameHeader(b, id, off, m, fin, withLen)
	b = s.buf.appendData(b, off, m)
	s.buf.markSent(off, uint64(m))
	if fin {
		s.finLost = false
	}
	rec.Add(sched.FrameRecord{Kind: sched.FrameStream, StreamID: id, Offset: off, Length: uint64(m), Fin: fin})
	return b, s.buf.hasLost() || s.finLost
}

// appendNew sends new data, and the FIN with the last byte.
func (c *Core) appendNew(b []byte, max int, credit *uint64, rec *sched.Record) (out []byte, more, wake bool) {
	s := &c.send
	id := uint64(c.id)
	next, end := s.buf.Sent(), s.buf.Written()
	if s.finSent && next == end {
		return b, false, false
	}
	allowed := min(end, s.peerLimit) - next // next <= peerLimit always
	avail := min(allowed, *credit)
	fin := s.finWanted && !s.finSent && next+avail == end
	if avail == 0 && !fin {
		wake = s.checkBlocked()
		return b, allowed > 0, wake
	}
	m, withLen := wire.StreamDataFit(id, next, int(min(avail, uint64(max))), max)
	if m < 0 || (m == 0 && avail > 0) {
		return b, true, false
	}
	if uint64(m) < avail {
		fin = false
	}
	b = wire.AppendStreamFrameHeader(b, id, next, m, fin, withLen)
	b = s.buf.appendData(b, next, m)
	s.buf.markSent(next, uint64(m))
	*credit -= uint64(m)
	if fin {
		s.finSent = true
		s.state = sendDataSent // RFC 9000 §3.1
	} else if s.state == sendReady {
		s.state = sendSend
	}
	rec.Add(sched.FrameRecord{Kind: sched.FrameStream, StreamID: id, Offset: next, Length: uint64(m), Fin: fin})
	wake = s.checkBlocked()
	return b, s.newAllowed(), wake
}

// OnAcked processes the acknowledgment of a frame this stream put in a
// packet (a FrameStream or FrameStreamControl record): acknowledged data
// frees send buffer space, which may unblock a Write.
func (c *Core) OnAcked(f sched.FrameRecord) {
	switch f.Kind {
	case sched.FrameStream:
		if !c.hasSend {
			return
		}
		s := &c.send
		s.mu.Lock()
		s.onAckedData(f.Offset, f.Length, f.Fin)
		s.mu.Unlock()
	case sched.FrameStreamControl:
		c.onControlAcked(f)
	}
}

func (c *Core) onControlAcked(f sched.FrameRecord) {
	switch wire.FrameType(f.Type) {
	case wire.FrameTypeResetStream, wire.FrameTypeStreamDataBlocked:
		if !c.hasSend {
			return
		}
		s := &c.send
		s.mu.Lock()
		if wire.FrameType(f.Type) == wire.FrameTypeResetStream {
			if s.state == sendResetSent {
				s.state = sendResetRecvd // RFC 9000 §3.1
			}
			s.resetCtl = ctlNone
		} else if s.blockedCtl == ctlSent {
			s.blockedCtl = ctlNone
		}
		s.mu.Unlock()
	case wire.FrameTypeStopSending, wire.FrameTypeMaxStreamData:
		if !c.hasRecv {
			return
		}
		r := &c.recv
		r.mu.Lock()
		if wire.FrameType(f.Type) == wire.FrameTypeStopSending {
			if r.stopCtl == ctlSent {
				r.stopCtl = ctlNone
			}
		} else if r.maxCtl == ctlSent && f.Offset == r.limit {
			r.maxCtl = ctlNone
		}
		r.mu.Unlock()
	}
}

// OnLost processes the loss of a frame this stream put in a packet: a lost
// range is queued for retransmission; a lost control frame is queued again
// with its current value if it is still needed.
func (c *Core) OnLost(f sched.FrameRecord) {
	var wake bool
	switch f.Kind {
	case sched.FrameStream:
		if !c.hasSend {
			return
		}
		s := &c.send
		s.mu.Lock()
		wake = s.onLostData(c.id, f.Offset, f.Length, f.Fin)
		s.mu.Unlock()
	case sched.FrameStreamControl:
		wake = c.onControlLost(f)
	}
	if wake {
		c.wake()
	}
}

func (c *Core) onControlLost(f sched.FrameRecord) (wake bool) {
	switch wire.FrameType(f.Type) {
	case wire.FrameTypeResetStream, wire.FrameTypeStreamDataBlocked:
		if !c.hasSend {
			return false
		}
		s := &c.send
		s.mu.Lock()
		defer s.mu.Unlock()
		if wire.FrameType(f.Type) == wire.FrameTypeResetStream {
			if s.state == sendResetSent && s.resetCtl == ctlSent && s.err == nil {
				s.resetCtl = ctlPending
				return true
			}
			return false
		}
		// Still blocked at the same limit: tell the peer again.
		if s.blockedCtl == ctlSent && f.Offset == s.peerLimit && s.active() && s.state != sendDataSent &&
			s.buf.Sent() == s.peerLimit && s.buf.Written() > s.peerLimit {
			s.blockedCtl = ctlPending
			return true
		}
		if s.blockedCtl == ctlSent {
			s.blockedCtl = ctlNone
		}
		return false
	case wire.FrameTypeStopSending, wire.FrameTypeMaxStreamData:
		if !c.hasRecv {
			return false
		}
		r := &c.recv
		r.mu.Lock()
		defer r.mu.Unlock()
		if wire.FrameType(f.Type) == wire.FrameTypeStopSending {
			// RFC 9000 §3.5: repeat until all data or a reset arrived.
			if r.stopCtl == ctlSent && (r.state == recvRecv || r.state == recvSizeKnown) && r.err == nil {
				r.stopCtl = ctlPending
				return true
			}
			return false
		}
		// Re-send the current limit, if this was the latest one and the
		// peer may still need it (Recv state, RFC 9000 §3.2).
		if r.maxCtl == ctlSent && f.Offset == r.limit && r.state == recvRecv && !r.stopped && r.err == nil {
			r.maxCtl = ctlPending
			return true
		}
		return false
	}
	return false
}
