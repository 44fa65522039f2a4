package recovery

import (
	"math"
	"time"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
	"github.com/tsumugi-quic/tsumugi/sched"
)

// maxAckDelayExponent is the largest ack_delay_exponent a peer may send,
// RFC 9000 §18.2.
const maxAckDelayExponent = 20

// decodeAckDelay turns the raw ACK Delay field into a duration: raw times
// 2^exponent microseconds (RFC 9000 §19.3), saturating instead of
// overflowing.
func decodeAckDelay(raw uint64, exponent uint8) time.Duration {
	exponent = min(exponent, maxAckDelayExponent)
	const maxMicros = uint64(math.MaxInt64 / int64(time.Microsecond))
	if raw > maxMicros>>exponent {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(raw<<exponent) * time.Microsecond
}

// ackError returns the PROTOCOL_VIOLATION or FRAME_ENCODING_ERROR for a bad
// ACK frame.
func ackError(ack *wire.AckFrame, code wire.ErrorCode, reason string) error {
	ft := wire.FrameTypeAck
	if ack.ECN {
		ft = wire.FrameTypeAckECN
	}
	return &wire.TransportError{Code: code, FrameType: ft, Reason: reason}
}

// checkAck validates an ACK frame against what was sent in space before
// anything changes: ranges well formed (descending, disjoint), nothing
// above the largest packet number sent, and no deliberately skipped packet
// number acknowledged (RFC 9000 §13.1: an acknowledgment of a packet never
// sent is a PROTOCOL_VIOLATION).
func (r *Recovery) checkAck(s *spaceState, ack *wire.AckFrame) error {
	if len(ack.Ranges) == 0 {
		return ackError(ack, wire.FrameEncodingError, "ACK frame without ranges")
	}
	for i, rg := range ack.Ranges {
		if rg.Smallest > rg.Largest || (i > 0 && rg.Largest >= ack.Ranges[i-1].Smallest) {
			return ackError(ack, wire.FrameEncodingError, "malformed ACK ranges")
		}
	}
	if !s.hasSent || ack.Ranges[0].Largest > s.largestSent {
		return ackError(ack, wire.ProtocolViolation, "acknowledgment of a packet never sent")
	}
	for i := 0; i < s.nSkipped; i++ {
		pn := s.skipped[i]
		for _, rg := range ack.Ranges {
			if pn >= rg.Smallest && pn <= rg.Largest {
				return ackError(ack, wire.ProtocolViolation, "acknowledgment of a skipped packet number")
			}
			if pn > rg.Largest {
				break // ranges descend: no later one can hold pn
			}
		}
	}
	return nil
}

// OnAckReceived processes an ACK frame received in space, RFC 9002 §6 and
// Appendix A.7: it finds the newly acknowledged packets, takes an RTT
// sample (only when the largest acknowledged packet is newly acknowledged
// and an ack-eliciting packet is among those newly acknowledged), validates
// ECN counts, detects lost packets (packet and time thresholds, §6.1),
// establishes persistent congestion (§7.6), feeds the congestion controller
// and resets the PTO backoff. It reports the packets through OnAcked then
// OnLost. ackDelayExponent is the peer's ack_delay_exponent (the ACK Delay
// of Initial packets is ignored, §5.3).
//
// An ACK of a packet number never sent in space, including one passed to
// SkipPacketNumber, returns a *wire.TransportError with PROTOCOL_VIOLATION
// and changes nothing. ACK frames for a discarded space are ignored.
func (r *Recovery) OnAckReceived(space sched.Space, ack *wire.AckFrame, ackDelayExponent uint8, now time.Time) error {
	if space >= sched.NumSpaces {
		return &wire.TransportError{Code: wire.InternalError, Reason: "ACK in an unknown packet number space"}
	}
	s := &r.spaces[space]
	if s.discarded {
		return nil
	}
	if err := r.checkAck(s, ack); err != nil {
		return err
	}
	t := r.since(now)
	largest := ack.Ranges[0].Largest
	largestIncreased := !s.hasAcked || largest > s.largestAcked
	if largestIncreased {
		s.largestAcked, s.hasAcked = largest, true
	}
	if space == sched.Handshake {
		// A Handshake ACK proves the peer validated our address
		// (Appendix A.6 PeerCompletedAddressValidation).
		r.peerValidated = true
	}
	priorInFlight := r.bytesInFlight
	r.checkSpurious(s, ack)

	// DetectAndRemoveAckedPackets: walk the ranges from the lowest, so that
	// r.acked comes out in packet number order.
	r.acked = r.acked[:0]
	for i := len(ack.Ranges) - 1; i >= 0; i-- {
		rg := ack.Ranges[i]
		for j := s.sent.search(rg.Smallest); j < s.sent.len(); j++ {
			if s.sent.at(j).pn > rg.Largest {
				break
			}
			if rec := s.sent.take(j); rec != nil {
				r.acked = append(r.acked, rec)
			}
		}
	}
	s.sent.trim()
	if len(r.acked) == 0 {
		r.setTimer(t)
		return nil
	}

	// RTT sample, §5.1.
	newest := r.acked[len(r.acked)-1]
	ackEliciting := false
	for _, rec := range r.acked {
		if rec.AckEliciting {
			ackEliciting = true
			break
		}
	}
	if newest.PacketNumber == largest && ackEliciting {
		var ackDelay time.Duration
		if space != sched.Initial {
			ackDelay = decodeAckDelay(ack.AckDelay, ackDelayExponent)
		}
		first := !r.rtt.HasSample()
		r.rtt.UpdateRTT(t-time.Duration(newest.SentTime), ackDelay, r.handshakeConfirmed, r.peerMaxAckDelay)
		if first {
			r.firstSampleTime = t
		}
		r.cc.OnRTTSample(t, &r.rtt)
	}

	// ECN, RFC 9002 §7.1 and Appendix A.7 (ProcessECN).
	if r.processECN(space, ack, len(r.acked), largestIncreased) {
		r.cc.OnCongestionEvent(t, time.Duration(newest.SentTime))
	}

	// Loss detection before growing the window for the acknowledged
	// packets, as in Appendix A.7: a congestion event in this ACK starts a
	// recovery period that these packets belong to.
	r.detectLost(space, t)
	r.onPacketsLost(space, t, r.acked)

	cwndLimited := r.cwndLimited(priorInFlight)
	for _, rec := range r.acked {
		r.removeFromFlight(s, rec)
		if rec.InFlight {
			r.cc.OnPacketAcked(t, time.Duration(rec.SentTime), rec.SentBytes, &r.rtt, cwndLimited)
		}
		if st := time.Duration(rec.SentTime); !r.hasAckedAny || st > r.maxAckedSentTime {
			r.maxAckedSentTime = st
		}
		r.hasAckedAny = true
	}

	// Reset pto_count unless a client is unsure that the server validated
	// its address (§6.2.1).
	if r.peerValidated {
		r.ptoCount = 0
	}
	r.updatePacingRate(now)
	r.setTimer(t)

	for i, rec := range r.acked {
		r.report(r.onAcked, rec)
		r.acked[i] = nil
	}
	r.acked = r.acked[:0]
	r.reportLost()
	return nil
}
