package recovery

import "time"

// RTTStats estimates the round-trip time of a path, RFC 9002 §5: the latest
// sample, the minimum, the smoothed RTT and its mean deviation (rttvar).
// The zero value is not ready: use NewRTTStats.
type RTTStats struct {
	latest    time.Duration
	smoothed  time.Duration
	rttvar    time.Duration
	min       time.Duration
	initial   time.Duration
	hasSample bool
}

// NewRTTStats returns an estimator that starts from initial (kInitialRtt,
// RFC 9002 §6.2.2; DefaultInitialRTT when initial <= 0).
func NewRTTStats(initial time.Duration) RTTStats {
	if initial <= 0 {
		initial = DefaultInitialRTT
	}
	r := RTTStats{initial: initial}
	r.Reset()
	return r
}

// Reset forgets every sample and starts again from the initial RTT, as on a
// new path (RFC 9002 §5.3, RFC 9000 §9.4).
func (r *RTTStats) Reset() {
	*r = RTTStats{
		initial:  r.initial,
		smoothed: r.initial,
		rttvar:   r.initial / 2,
	}
}

// UpdateRTT adds an RTT sample, RFC 9002 §5.3 and Appendix A.7 (UpdateRtt).
// sample is latest_rtt (ack time minus the send time of the largest newly
// acknowledged packet) and ackDelay the peer's decoded ACK Delay. Until the
// handshake is confirmed the ack delay is not limited by maxAckDelay (the
// peer's max_ack_delay); afterwards it is. The ack delay is subtracted only
// if what remains is not below min_rtt. A negative sample (a clock that
// stepped back) is taken as zero.
func (r *RTTStats) UpdateRTT(sample, ackDelay time.Duration, handshakeConfirmed bool, maxAckDelay time.Duration) {
	if sample < 0 {
		sample = 0
	}
	r.latest = sample
	if !r.hasSample {
		// First sample: the estimator keeps no history (RFC 9002 §5.3).
		r.hasSample = true
		r.min = sample
		r.smoothed = sample
		r.rttvar = sample / 2
		return
	}
	// min_rtt ignores the ack delay (RFC 9002 §5.2).
	r.min = min(r.min, sample)
	if ackDelay < 0 {
		ackDelay = 0
	}
	if handshakeConfirmed {
		ackDelay = min(ackDelay, maxAckDelay)
	}
	adjusted := sample
	// latest_rtt >= min_rtt + ack_delay, written so that a huge ack delay
	// cannot overflow.
	if sample-r.min >= ackDelay {
		adjusted = sample - ackDelay
	}
	// rttvar is updated from the previous smoothed_rtt, as in Appendix A.7
	// and RFC 6298 §2.3 (§5.3's prose lists the two lines the other way).
	diff := r.smoothed - adjusted
	if diff < 0 {
		diff = -diff
	}
	r.rttvar = (3*r.rttvar + diff) / 4
	r.smoothed = (7*r.smoothed + adjusted) / 8
}

// OnPersistentCongestion sets min_rtt to the latest sample, as RFC 9002 §5.2
// recommends once persistent congestion is established, so that a path
// whose RTT grew does not keep declaring it.
func (r *RTTStats) OnPersistentCongestion() {
	if r.hasSample {
		r.min = r.latest
	}
}

// PTO returns the probe timeout period without backoff, RFC 9002 §6.2.1:
// smoothed_rtt + max(4*rttvar, kGranularity), plus maxAckDelay when
// includeMaxAckDelay is set (the Application Data space).
func (r *RTTStats) PTO(includeMaxAckDelay bool, maxAckDelay time.Duration) time.Duration {
	d := r.smoothed + max(4*r.rttvar, Granularity)
	if includeMaxAckDelay {
		d += maxAckDelay
	}
	return d
}

// LossDelay returns the time threshold for loss detection, RFC 9002 §6.1.2:
// max(kTimeThreshold * max(smoothed_rtt, latest_rtt), kGranularity).
func (r *RTTStats) LossDelay() time.Duration {
	d := max(r.smoothed, r.latest)
	d = d * timeThresholdNum / timeThresholdDen
	return max(d, Granularity)
}

// PersistentCongestionDuration returns the persistent congestion duration,
// RFC 9002 §7.6.1: the PTO period including max_ack_delay, times
// kPersistentCongestionThreshold.
func (r *RTTStats) PersistentCongestionDuration(maxAckDelay time.Duration) time.Duration {
	return r.PTO(true, maxAckDelay) * persistentCongestionThreshold
}

// HasSample reports whether an RTT sample has been taken.
func (r *RTTStats) HasSample() bool { return r.hasSample }

// Latest returns latest_rtt (0 before the first sample).
func (r *RTTStats) Latest() time.Duration { return r.latest }

// Smoothed returns smoothed_rtt (the initial RTT before the first sample).
func (r *RTTStats) Smoothed() time.Duration { return r.smoothed }

// Var returns rttvar.
func (r *RTTStats) Var() time.Duration { return r.rttvar }

// Min returns min_rtt (0 before the first sample).
func (r *RTTStats) Min() time.Duration { return r.min }
