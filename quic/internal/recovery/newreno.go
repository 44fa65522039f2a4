package recovery

import (
	"math"
	"time"
)

// RenoController is the NewReno congestion controller of RFC 9002 §7 and Appendix B:
// slow start, a recovery period per congestion event that halves the window
// (kLossReductionFactor 0.5), and congestion avoidance that adds one maximum
// datagram size per window acknowledged (byte counting, RFC 3465 §2.1).
type RenoController struct {
	mss      int
	cwnd     int
	ssthresh int
	recovery recoveryPeriod
	// acked counts bytes acknowledged in congestion avoidance since the
	// window last grew.
	acked int
}

// NewRenoController returns a NewReno controller for a maximum datagram size of
// mss bytes, starting with the initial window (RFC 9002 §7.2).
func NewRenoController(mss int) *RenoController {
	mss = clampDatagramSize(mss)
	return &RenoController{mss: mss, cwnd: initialWindow(mss), ssthresh: math.MaxInt}
}

// Window implements Controller.
func (c *RenoController) Window() int { return c.cwnd }

// SlowStartThreshold implements Controller.
func (c *RenoController) SlowStartThreshold() int { return c.ssthresh }

// InSlowStart implements Controller.
func (c *RenoController) InSlowStart() bool { return c.cwnd < c.ssthresh }

// OnRTTSample implements Controller; NewReno does not use RTT samples.
func (c *RenoController) OnRTTSample(now time.Duration, rtt *RTTStats) {}

// OnPacketAcked implements Controller, RFC 9002 Appendix B.5.
func (c *RenoController) OnPacketAcked(now, sentTime time.Duration, bytes int, rtt *RTTStats, cwndLimited bool) {
	if !cwndLimited || c.recovery.contains(sentTime) {
		return
	}
	if c.cwnd < c.ssthresh {
		c.cwnd = min(c.cwnd+bytes, maximumWindow(c.mss))
		return
	}
	// Congestion avoidance: at most one datagram per window acknowledged
	// (RFC 9002 §7.3.3).
	c.acked += bytes
	if c.acked >= c.cwnd {
		c.acked -= c.cwnd
		c.cwnd = min(c.cwnd+c.mss, maximumWindow(c.mss))
	}
}

// OnCongestionEvent implements Controller, RFC 9002 Appendix B.6.
func (c *RenoController) OnCongestionEvent(now, sentTime time.Duration) {
	if c.recovery.contains(sentTime) {
		return
	}
	c.recovery.begin(now)
	c.ssthresh = c.cwnd / 2
	c.cwnd = max(c.ssthresh, minimumWindow(c.mss))
	c.acked = 0
}

// OnPersistentCongestion implements Controller, RFC 9002 Appendix B.8.
func (c *RenoController) OnPersistentCongestion() {
	c.cwnd = minimumWindow(c.mss)
	c.recovery.clear()
	c.acked = 0
}

// SetMaxDatagramSize implements Controller. A window still at the old
// initial value moves to the new initial value (RFC 9002 §7.2); any window
// stays at least the new minimum.
func (c *RenoController) SetMaxDatagramSize(n int) {
	c.cwnd = resizeWindow(c.cwnd, c.mss, clampDatagramSize(n))
	c.mss = clampDatagramSize(n)
}

// resizeWindow applies a change of maximum datagram size from old to mss to
// a congestion window.
func resizeWindow(cwnd, old, mss int) int {
	if cwnd == initialWindow(old) {
		cwnd = initialWindow(mss)
	}
	return min(max(cwnd, minimumWindow(mss)), maximumWindow(mss))
}
