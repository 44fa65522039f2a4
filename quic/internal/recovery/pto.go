package recovery

import (
	"time"

	"github.com/tsumugi-quic/tsumugi/sched"
)

// ProbeRequest is what a probe timeout asks the connection to send: for
// each packet number space, how many ack-eliciting packets (0, 1 or 2),
// regardless of the congestion window and pacing (RFC 9002 §6.2.4, §7.5).
// The space whose PTO expired gets 2; other spaces with ack-eliciting
// packets in flight get 1, to be coalesced when possible. A client's
// anti-deadlock probe (§6.2.2.1) is 1 packet: a Handshake packet, or an
// Initial packet in a datagram padded to 1200 bytes.
type ProbeRequest struct {
	Packets [sched.NumSpaces]uint8
}

// Any reports whether any probe is requested.
func (p ProbeRequest) Any() bool {
	for _, n := range p.Packets {
		if n > 0 {
			return true
		}
	}
	return false
}

// backoff returns d * 2^pto_count, saturating.
func (r *Recovery) backoff(d time.Duration) time.Duration {
	return d << min(r.ptoCount, maxPTOBackoff)
}

// earliestLossTime returns the earliest loss_time of all spaces and its
// space, Appendix A.8 (GetLossTimeAndSpace).
func (r *Recovery) earliestLossTime() (t time.Duration, space sched.Space, ok bool) {
	for sp := sched.Initial; sp < sched.NumSpaces; sp++ {
		s := &r.spaces[sp]
		if s.hasLossTime && (!ok || s.lossTime < t) {
			t, space, ok = s.lossTime, sp, true
		}
	}
	return t, space, ok
}

// ackElicitingInFlight reports whether any space has ack-eliciting packets
// in flight.
func (r *Recovery) ackElicitingInFlight() bool {
	for sp := range r.spaces {
		if r.spaces[sp].ackElicitingInFlight > 0 {
			return true
		}
	}
	return false
}

// antiDeadlockSpace is the space of a client's anti-deadlock probe.
func (r *Recovery) antiDeadlockSpace() sched.Space {
	if r.hasHandshakeKeys {
		return sched.Handshake
	}
	return sched.Initial
}

// ptoTimeAndSpace returns when the PTO expires and for which space,
// Appendix A.8 (GetPtoTimeAndSpace). ok is false when no PTO applies (only
// Application Data in flight before the handshake is confirmed, §6.2.1).
func (r *Recovery) ptoTimeAndSpace(t time.Duration) (pto time.Duration, space sched.Space, ok bool) {
	duration := r.backoff(r.rtt.PTO(false, 0))
	if !r.ackElicitingInFlight() {
		// The client's anti-deadlock PTO starts now.
		return t + duration, r.antiDeadlockSpace(), true
	}
	for sp := sched.Initial; sp < sched.NumSpaces; sp++ {
		s := &r.spaces[sp]
		if s.discarded || s.ackElicitingInFlight == 0 {
			continue
		}
		if sp == sched.AppData {
			if !r.handshakeConfirmed {
				break
			}
			duration += r.backoff(r.peerMaxAckDelay)
		}
		if at := s.lastAckElicitingSent + duration; !ok || at < pto {
			pto, space, ok = at, sp, true
		}
	}
	return pto, space, ok
}

// setTimer arms the loss detection timer, Appendix A.8
// (SetLossDetectionTimer).
func (r *Recovery) setTimer(t time.Duration) {
	r.timerSet = false
	if lt, _, ok := r.earliestLossTime(); ok {
		r.timer, r.timerSet = lt, true
		return
	}
	if r.amplificationLimit {
		return
	}
	if !r.ackElicitingInFlight() && r.peerValidated {
		return
	}
	if pto, _, ok := r.ptoTimeAndSpace(t); ok {
		r.timer, r.timerSet = pto, true
	}
}

// LossTimer returns when OnLossTimer is due, or the zero time if no loss
// detection or PTO timer is armed.
func (r *Recovery) LossTimer() time.Time {
	if !r.timerSet {
		return time.Time{}
	}
	return r.base.Add(r.timer)
}

// OnLossTimer runs the loss detection timer, Appendix A.9
// (OnLossDetectionTimeout). Called before the timer is due it does
// nothing. When a time threshold expired it declares packets lost (through
// OnLost) and asks for no probe; otherwise it is a PTO: it returns the
// probes to send and doubles the PTO backoff. The probes are to be sent
// right away, ignoring the congestion window and the pacer.
func (r *Recovery) OnLossTimer(now time.Time) ProbeRequest {
	t := r.since(now)
	if !r.timerSet || t < r.timer {
		return ProbeRequest{}
	}
	if _, space, ok := r.earliestLossTime(); ok {
		r.detectLost(space, t)
		r.onPacketsLost(space, t, nil)
		r.updatePacingRate(now)
		r.setTimer(t)
		r.reportLost()
		return ProbeRequest{}
	}
	var p ProbeRequest
	if !r.ackElicitingInFlight() {
		// A client that may still be blocked by the server's
		// anti-amplification limit (§6.2.2.1).
		p.Packets[r.antiDeadlockSpace()] = 1
	} else if _, space, ok := r.ptoTimeAndSpace(t); ok {
		p.Packets[space] = 2
		for sp := sched.Initial; sp < sched.NumSpaces; sp++ {
			if s := &r.spaces[sp]; sp != space && !s.discarded && s.ackElicitingInFlight > 0 {
				p.Packets[sp] = 1
			}
		}
	}
	r.ptoCount++
	r.ecnOnPTO()
	r.setTimer(t)
	return p
}

// OldestUnacked calls f with up to n of the oldest ack-eliciting packets
// of space that are neither acknowledged nor declared lost. A probe sent on
// PTO should carry data (RFC 9002 §6.2.4: new data if there is any, else
// data sent before): the caller queues what these carried again, while
// they stay in flight. f must not call the Recovery or keep the record.
func (r *Recovery) OldestUnacked(space sched.Space, n int, f func(*sched.Record)) {
	if space >= sched.NumSpaces {
		return
	}
	h := &r.spaces[space].sent
	for i := 0; i < h.len() && n > 0; i++ {
		if rec := h.at(i).rec; rec != nil && rec.AckEliciting {
			f(rec)
			n--
		}
	}
}
