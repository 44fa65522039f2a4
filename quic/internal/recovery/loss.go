package recovery

import (
	"time"

	"github.com/tsumugi-quic/tsumugi/sched"
)

// detectLost moves the packets of space that are lost to r.lost, RFC 9002
// §6.1 and Appendix A.10 (DetectAndRemoveLostPackets): a packet below the
// largest acknowledged one is lost once kPacketThreshold later packets were
// acknowledged or it was sent at least the loss delay ago; for the others
// loss_time is set to when the time threshold will pass.
func (r *Recovery) detectLost(space sched.Space, t time.Duration) {
	s := &r.spaces[space]
	s.hasLossTime = false
	if !s.hasAcked {
		return
	}
	lossDelay := r.lossDelay()
	lostSendTime := t - lossDelay
	for i := 0; i < s.sent.len(); i++ {
		slot := s.sent.at(i)
		if slot.pn > s.largestAcked {
			break
		}
		if slot.rec == nil {
			continue
		}
		sent := time.Duration(slot.rec.SentTime)
		if sent <= lostSendTime || s.largestAcked-slot.pn >= r.packetThreshold {
			if s.lost == nil {
				s.lost = new(lostRing)
			}
			s.lost.add(slot.pn, s.largestAcked-slot.pn)
			r.lost = append(r.lost, s.sent.take(i))
			continue
		}
		if lt := sent + lossDelay; !s.hasLossTime || lt < s.lossTime {
			s.lossTime, s.hasLossTime = lt, true
		}
	}
	s.sent.trim()
}

// onPacketsLost takes the packets in r.lost out of flight and tells the
// congestion controller, RFC 9002 Appendix B.8 (OnPacketsLost): one
// congestion event for the newest lost in-flight packet, and persistent
// congestion if the losses span the persistent congestion duration. acked
// holds the packets of space the same ACK frame acknowledged, in packet
// number order (nil on a timeout). The records stay in r.lost until
// reportLost.
func (r *Recovery) onPacketsLost(space sched.Space, t time.Duration, acked []*sched.Record) {
	if len(r.lost) == 0 {
		return
	}
	s := &r.spaces[space]
	var lastLoss time.Duration
	inFlight := false
	for _, rec := range r.lost {
		r.removeFromFlight(s, rec)
		if rec.InFlight && !rec.MTUProbe {
			if st := time.Duration(rec.SentTime); !inFlight || st > lastLoss {
				lastLoss = st
			}
			inFlight = true
		}
	}
	if inFlight {
		r.cc.OnCongestionEvent(t, lastLoss)
	}
	if r.persistentCongestion(acked) {
		r.cc.OnPersistentCongestion()
		r.rtt.OnPersistentCongestion()
	}
}

// persistentCongestion reports whether the packets in r.lost establish
// persistent congestion, RFC 9002 §7.6.2: two ack-eliciting lost packets,
// both sent after the first RTT sample, sent further apart than the
// persistent congestion duration, with no packet sent between them
// acknowledged in any space.
//
// Between two lost packets of this space, an acknowledged packet of this
// space shows up in acked (it sits between them in packet number order).
// For packets acknowledged earlier, in any space, only the latest send time
// among them is kept (maxAckedSentTime): lost packets sent before it cannot
// start a run. That may miss persistent congestion in rare orders (a packet
// sent after the whole run acknowledged before the run is declared lost)
// but never declares it wrongly.
func (r *Recovery) persistentCongestion(acked []*sched.Record) bool {
	if !r.rtt.HasSample() {
		return false
	}
	duration := r.rtt.PersistentCongestionDuration(r.peerMaxAckDelay)
	var start time.Duration
	inRun := false
	ai := 0
	for _, rec := range r.lost {
		// An acknowledged packet between the previous lost packet and this
		// one ends the run.
		for ai < len(acked) && acked[ai].PacketNumber < rec.PacketNumber {
			ai++
			inRun = false
		}
		if !rec.AckEliciting {
			continue
		}
		sent := time.Duration(rec.SentTime)
		if sent <= r.firstSampleTime || (r.hasAckedAny && sent <= r.maxAckedSentTime) {
			inRun = false
			continue
		}
		if !inRun {
			start, inRun = sent, true
			continue
		}
		if sent-start > duration {
			return true
		}
	}
	return false
}

// reportLost hands the records in r.lost to OnLost and empties it.
func (r *Recovery) reportLost() {
	for i, rec := range r.lost {
		r.report(r.onLost, rec)
		r.lost[i] = nil
	}
	r.lost = r.lost[:0]
}
