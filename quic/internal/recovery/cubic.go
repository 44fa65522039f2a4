package recovery

import (
	"math"
	"time"
)

// CUBIC constants, RFC 9438 §4.1 ("Definitions") and §4.6 ("Multiplicative
// Decrease").
const (
	cubicC    = 0.4 // C, in datagrams per second cubed
	cubicBeta = 0.7 // β_cubic
	// cubicAlpha is α_cubic = 3(1-β_cubic)/(1+β_cubic), the Reno-friendly
	// additive increase (RFC 9438 §4.3).
	cubicAlpha = 3 * (1 - cubicBeta) / (1 + cubicBeta)
)

// CubicController is the CUBIC congestion controller of RFC 9438, with
// HyStart++ (RFC 9406) during the first slow start. Windows are kept in
// bytes; the cubic function is evaluated in bytes by scaling C by the
// maximum datagram size.
type CubicController struct {
	mss      int
	cwnd     float64
	ssthresh int
	recovery recoveryPeriod

	// wMax is W_max in bytes, the window just before the last reduction
	// (after fast convergence, RFC 9438 §4.7); 0 before the first
	// congestion event and after persistent congestion.
	wMax float64
	// cwndPrior is the window when ssthresh was last set: once the
	// Reno-friendly estimate reaches it, α_cubic becomes 1 (§4.3).
	cwndPrior float64

	// The current congestion avoidance epoch (§4.2): it starts at the
	// first acknowledgment in congestion avoidance and ends with a
	// congestion event or an application-limited period.
	inEpoch    bool
	epochStart time.Duration
	k          float64 // K, in seconds
	origin     float64 // the plateau of W_cubic, in bytes (W_max or cwnd_epoch)
	wEst       float64 // W_est, the Reno-friendly window, in bytes

	hystart    hyStart
	useHyStart bool
}

// NewCubicController returns a CUBIC controller for a maximum datagram size
// of mss bytes, starting with the initial window (RFC 9002 §7.2), with
// HyStart++ enabled.
func NewCubicController(mss int) *CubicController {
	mss = clampDatagramSize(mss)
	c := &CubicController{
		mss:        mss,
		cwnd:       float64(initialWindow(mss)),
		ssthresh:   math.MaxInt,
		useHyStart: true,
	}
	c.hystart.reset()
	return c
}

// SetHyStart turns HyStart++ on or off; without it slow start is the
// standard one (RFC 9438 §4.10).
func (c *CubicController) SetHyStart(on bool) { c.useHyStart = on }

// Window implements Controller.
func (c *CubicController) Window() int { return int(c.cwnd) }

// SlowStartThreshold implements Controller.
func (c *CubicController) SlowStartThreshold() int { return c.ssthresh }

// InSlowStart implements Controller.
func (c *CubicController) InSlowStart() bool { return int(c.cwnd) < c.ssthresh }

// hyStartActive reports whether HyStart++ runs: only during the first slow
// start, while ssthresh is still infinite (RFC 9406 §4.3).
func (c *CubicController) hyStartActive() bool {
	return c.useHyStart && c.ssthresh == math.MaxInt
}

// OnRTTSample implements Controller: it feeds HyStart++. The send time of
// the largest acknowledged packet, which decides the HyStart++ round, is
// now minus the sample.
func (c *CubicController) OnRTTSample(now time.Duration, rtt *RTTStats) {
	if !c.hyStartActive() {
		return
	}
	if c.hystart.onRTTSample(now, now-rtt.Latest(), rtt.Latest()) {
		// CSS_ROUNDS rounds of conservative slow start: enter congestion
		// avoidance at the current window (RFC 9406 §4.2).
		c.ssthresh = int(c.cwnd)
		c.cwndPrior = c.cwnd
	}
}

// OnPacketAcked implements Controller.
func (c *CubicController) OnPacketAcked(now, sentTime time.Duration, bytes int, rtt *RTTStats, cwndLimited bool) {
	if c.recovery.contains(sentTime) {
		return
	}
	if !cwndLimited {
		// RFC 9438 §5.8 and RFC 9002 §7.8: no growth while application
		// limited; the epoch restarts when the window is used again, so the
		// idle time does not count in t.
		c.inEpoch = false
		return
	}
	limit := float64(maximumWindow(c.mss))
	if int(c.cwnd) < c.ssthresh {
		growth := float64(bytes)
		if c.hyStartActive() && c.hystart.inCSS {
			growth /= hsCSSGrowthDivisor // RFC 9406 §4.2
		}
		c.cwnd = min(c.cwnd+growth, limit)
		return
	}
	c.congestionAvoidance(now, bytes, rtt.Smoothed())
	c.cwnd = min(c.cwnd, limit)
}

// wCubic is W_cubic(t) in bytes, RFC 9438 §4.2 (Figure 1), for t seconds
// into the epoch.
func (c *CubicController) wCubic(t float64) float64 {
	d := t - c.k
	return cubicC*d*d*d*float64(c.mss) + c.origin
}

// startEpoch begins a congestion avoidance epoch at now, RFC 9438 §4.2:
// K = cubic_root((W_max - cwnd_epoch)/C). Without a usable W_max (none yet,
// after persistent congestion, or below the current window), K is 0 and the
// plateau is the current window (§4.8).
func (c *CubicController) startEpoch(now time.Duration) {
	c.inEpoch = true
	c.epochStart = now
	if c.wMax > c.cwnd {
		c.k = math.Cbrt((c.wMax - c.cwnd) / (cubicC * float64(c.mss)))
		c.origin = c.wMax
	} else {
		c.k = 0
		c.origin = c.cwnd
	}
	c.wEst = c.cwnd
}

// congestionAvoidance grows the window for bytes newly acknowledged,
// RFC 9438 §4.2-§4.5.
func (c *CubicController) congestionAvoidance(now time.Duration, bytes int, srtt time.Duration) {
	if !c.inEpoch {
		c.startEpoch(now)
	}
	t := (now - c.epochStart).Seconds()
	acked := float64(bytes)

	// Reno-friendly region, §4.3: W_est grows like Reno with α_cubic.
	alpha := cubicAlpha
	if c.wEst >= c.cwndPrior {
		alpha = 1
	}
	c.wEst += alpha * float64(c.mss) * acked / c.cwnd
	if c.wCubic(t) < c.wEst {
		c.cwnd = max(c.cwnd, c.wEst)
		return
	}

	// Concave and convex regions, §4.4 and §4.5: move toward
	// W_cubic(t + RTT), clamped to [cwnd, 1.5 cwnd] (§4.2).
	target := c.wCubic(t + srtt.Seconds())
	target = min(max(target, c.cwnd), 1.5*c.cwnd)
	c.cwnd += (target - c.cwnd) / c.cwnd * acked
}

// OnCongestionEvent implements Controller, RFC 9438 §4.6 and §4.7: W_max is
// the window before the reduction (less with fast convergence), ssthresh
// and the window become β_cubic times it.
func (c *CubicController) OnCongestionEvent(now, sentTime time.Duration) {
	if c.recovery.contains(sentTime) {
		return
	}
	c.recovery.begin(now)
	if c.wMax > 0 && c.cwnd < c.wMax {
		// Fast convergence, §4.7: release bandwidth to newer flows.
		c.wMax = c.cwnd * (1 + cubicBeta) / 2
	} else {
		c.wMax = c.cwnd
	}
	c.cwndPrior = c.cwnd
	c.ssthresh = max(int(math.Round(c.cwnd*cubicBeta)), minimumWindow(c.mss))
	c.cwnd = float64(c.ssthresh)
	c.inEpoch = false
	c.hystart.reset()
}

// OnPersistentCongestion implements Controller: the window collapses to the
// minimum (RFC 9002 §7.6.2) and the next congestion avoidance epoch starts
// with K = 0 at the window it begins with (RFC 9438 §4.8).
func (c *CubicController) OnPersistentCongestion() {
	c.cwnd = float64(minimumWindow(c.mss))
	c.recovery.clear()
	c.wMax = 0
	c.inEpoch = false
}

// SetMaxDatagramSize implements Controller.
func (c *CubicController) SetMaxDatagramSize(n int) {
	n = clampDatagramSize(n)
	c.cwnd = float64(resizeWindow(int(c.cwnd), c.mss, n))
	c.mss = n
	c.inEpoch = false
}
