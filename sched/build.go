package sched

import "math"

// minFrame is the smallest number of bytes worth offering a source: with
// fewer left, the packet is treated as full.
const minFrame = 3

// Packet describes one packet to fill: its number space, how many bytes of
// frames it may hold, and where its frames come from. Nil sources are
// skipped.
type Packet struct {
	// Space is the packet number space. In Initial and Handshake packets
	// only Closing, Ack and Crypto apply (RFC 9000 §12.4, Table 3).
	Space Space
	// ZeroRTT marks a 0-RTT packet (Space must be AppData): it carries no
	// ACK and no CRYPTO frames (RFC 9000 §12.4, §17.2.3).
	ZeroRTT bool
	// Budget is the number of bytes the frames may take: what the path MTU
	// leaves after the header and AEAD tag, further bounded by the
	// congestion window, pacing and the anti-amplification limit.
	Budget int

	// Closing, when set, is the CONNECTION_CLOSE; nothing else is sent.
	Closing FrameSource
	// Ack is the ACK frame, sent first (it may truncate itself to fit).
	Ack FrameSource
	// Control is the connection's control frames (HANDSHAKE_DONE, MAX_DATA,
	// MAX_STREAMS, NEW_CONNECTION_ID, PATH_RESPONSE, *_BLOCKED, PING ...),
	// in the order the connection chooses. It must only send frames
	// allowed in the packet's type (RFC 9000 §12.4).
	Control FrameSource
	// Crypto is the CRYPTO data of the packet's space.
	Crypto FrameSource
	// Datagrams is the DATAGRAM frames (RFC 9221), sent before new stream
	// data. They are allowed in 0-RTT packets (RFC 9221 §3); the connection
	// leaves this nil where they are not.
	Datagrams FrameSource

	// Credit is the connection-level flow-control credit for new stream
	// data (RFC 9000 §4.1): streams subtract what they send, and once it is
	// 0 no new data goes out, though streams stay queued. Nil means no
	// limit. Retransmitted data is not charged.
	Credit *uint64
}

// Build appends the frames of one packet's payload to b, at most p.Budget
// bytes, records each frame in rec, and returns the extended slice. It sets
// rec.Space; the connection sets the rest of the record's packet fields. rec
// is normally fresh from RecordPool.Get: Build adds to it and clears nothing.
// b should have room for p.Budget more bytes, or appending reallocates it.
//
// The order is: CONNECTION_CLOSE alone if closing; otherwise ACK, the
// connection's control frames, the streams' control frames, CRYPTO, lost
// stream data, DATAGRAM frames, and new stream data by priority.
func (s *Scheduler) Build(b []byte, p *Packet, rec *Record) []byte {
	rec.Space = p.Space
	if p.Budget <= 0 {
		return b
	}
	s.maxBudget = max(s.maxBudget, p.Budget)
	end := len(b) + p.Budget

	if p.Closing != nil {
		// RFC 9000 §10.2: in the closing state only CONNECTION_CLOSE.
		return p.Closing.AppendFrames(b, p.Budget, rec)
	}
	appData := p.Space == AppData
	// ACK: not in 0-RTT (RFC 9000 §17.2.3).
	if p.Ack != nil && !p.ZeroRTT {
		b = appendFrom(p.Ack, b, end, rec)
	}
	if appData {
		// Control frames first so that bulk data never starves them.
		if p.Control != nil {
			b = appendFrom(p.Control, b, end, rec)
		}
		b = s.appendStreamControl(b, end, rec)
	}
	// CRYPTO: not in 0-RTT (RFC 9000 §12.4, Table 3).
	if p.Crypto != nil && !p.ZeroRTT {
		b = appendFrom(p.Crypto, b, end, rec)
	}
	if !appData {
		// Initial and Handshake packets carry no stream data (Table 3).
		return b
	}
	b = s.appendRetransmit(b, end, rec)
	if p.Datagrams != nil {
		b = appendFrom(p.Datagrams, b, end, rec)
	}
	credit := p.Credit
	if credit == nil {
		s.unlimited = math.MaxUint64
		credit = &s.unlimited
	}
	return s.appendNew(b, end, credit, rec)
}

// appendFrom lets src fill what is left before end. A source that
// overstepped its limit leaves the rest of the packet empty.
func appendFrom(src FrameSource, b []byte, end int, rec *Record) []byte {
	if room := end - len(b); room >= minFrame {
		b = src.AppendFrames(b, room, rec)
	}
	return b
}

// appendStreamControl sends the streams' control frames in FIFO order. A
// stream whose frames did not all fit stays queued, and the next stream may
// still fit smaller frames.
func (s *Scheduler) appendStreamControl(b []byte, end int, rec *Record) []byte {
	for n := s.ctrl.head; n != nil; {
		room := end - len(b)
		if room < minFrame {
			break
		}
		next := n.links[qCtrl].next
		var pending bool
		b, pending = n.src.AppendControlFrames(b, room, rec)
		if !pending {
			s.ctrl.remove(n)
			s.release(n)
		}
		n = next
	}
	return b
}

// appendRetransmit re-sends lost stream data, stream by stream in FIFO
// order: a stream leaves the queue once it has nothing lost left.
func (s *Scheduler) appendRetransmit(b []byte, end int, rec *Record) []byte {
	for n := s.retx.head; n != nil; n = s.retx.head {
		room := end - len(b)
		if room < minFrame {
			break
		}
		start := len(b)
		s.spare = math.MaxUint64
		var more bool
		b, more = n.src.AppendStreamFrame(b, room, true, &s.spare, rec)
		if !more {
			s.retx.remove(n)
			s.release(n)
			continue
		}
		if len(b) == start {
			break // not even its frame header fits
		}
	}
	return b
}
