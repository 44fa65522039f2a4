package recovery

import (
	"strings"
	"time"
)

// Controller is a congestion controller: NewReno (RFC 9002 §7, Appendix B)
// or CUBIC (RFC 9438). The Recovery owns one and calls it from the
// connection goroutine only. Bytes in flight are the Recovery's: a
// controller sees only acknowledgments, RTT samples and congestion
// signals, so it needs no hook for sent packets.
//
// Times are offsets from the Recovery's base time, the clock of
// sched.Record.SentTime.
type Controller interface {
	// Window returns the congestion window in bytes.
	Window() int
	// SlowStartThreshold returns ssthresh in bytes (math.MaxInt while it is
	// still infinite).
	SlowStartThreshold() int
	// InSlowStart reports whether the window is below ssthresh.
	InSlowStart() bool

	// OnRTTSample is called once per ACK frame that produced an RTT sample
	// (rtt already updated), before that frame's OnPacketAcked calls.
	OnRTTSample(now time.Duration, rtt *RTTStats)
	// OnPacketAcked is called for every newly acknowledged packet that
	// counted toward bytes in flight. cwndLimited is false while the
	// sender is application- or flow-control-limited, and then the window
	// must not grow (RFC 9002 §7.8).
	OnPacketAcked(now, sentTime time.Duration, bytes int, rtt *RTTStats, cwndLimited bool)
	// OnCongestionEvent reacts to a loss or an ECN-CE increase signalled by
	// a packet sent at sentTime (RFC 9002 §7.3.2, Appendix B.6): at most once
	// per recovery period.
	OnCongestionEvent(now, sentTime time.Duration)
	// OnPersistentCongestion collapses the window to the minimum
	// (RFC 9002 §7.6.2).
	OnPersistentCongestion()
	// SetMaxDatagramSize updates the maximum datagram size (RFC 9002 §7.2:
	// the initial and minimum windows follow it).
	SetMaxDatagramSize(n int)
}

// Algorithm names a congestion controller.
type Algorithm uint8

// Congestion controllers.
const (
	// AlgorithmCubic is RFC 9438 with HyStart++ (RFC 9406): the default.
	AlgorithmCubic Algorithm = iota
	// AlgorithmNewReno is RFC 9002 §7 and Appendix B.
	AlgorithmNewReno
)

// String returns "cubic" or "newreno".
func (a Algorithm) String() string {
	switch a {
	case AlgorithmCubic:
		return "cubic"
	case AlgorithmNewReno:
		return "newreno"
	}
	return "unknown"
}

// ParseAlgorithm maps "cubic" (or "") and "newreno", in any case, to an
// Algorithm; ok is false for any other name.
func ParseAlgorithm(s string) (a Algorithm, ok bool) {
	switch {
	case s == "" || strings.EqualFold(s, "cubic"):
		return AlgorithmCubic, true
	case strings.EqualFold(s, "newreno"):
		return AlgorithmNewReno, true
	}
	return AlgorithmCubic, false
}

// NewController returns a controller of algorithm a for a maximum datagram
// size of mss bytes. An unknown algorithm gets CUBIC.
func NewController(a Algorithm, mss int) Controller {
	if a == AlgorithmNewReno {
		return NewRenoController(mss)
	}
	return NewCubicController(mss)
}

// recoveryPeriod tracks congestion_recovery_start_time, RFC 9002 Appendix B.
type recoveryPeriod struct {
	start time.Duration
	valid bool // false: no recovery period has begun (start is "0")
}

// contains reports whether a packet sent at sentTime belongs to the
// current recovery period (InCongestionRecovery, Appendix B.5).
func (p *recoveryPeriod) contains(sentTime time.Duration) bool {
	return p.valid && sentTime <= p.start
}

func (p *recoveryPeriod) begin(now time.Duration) { p.start, p.valid = now, true }

func (p *recoveryPeriod) clear() { *p = recoveryPeriod{} }
