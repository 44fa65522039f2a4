package recovery

import (
	"math"
	"time"
)

// HyStart++ constants, RFC 9406 §4.3. The pacer spreads every window, so
// the burst limit L is infinite.
const (
	hsMinRTTThresh     = 4 * time.Millisecond
	hsMaxRTTThresh     = 16 * time.Millisecond
	hsMinRTTDivisor    = 8
	hsNRTTSample       = 8
	hsCSSGrowthDivisor = 4
	hsCSSRounds        = 5
	hsInfinity         = time.Duration(math.MaxInt64)
)

// hyStart is the state of HyStart++ (RFC 9406 §4.2): it watches the minimum
// RTT per round during slow start, and when it rises enters Conservative
// Slow Start (CSS), which grows the window four times slower and either
// returns to slow start (the rise was spurious) or after CSS_ROUNDS rounds
// ends slow start.
//
// A round ends when a packet sent after the round began is acknowledged
// (the RFC's windowEnd, expressed in send times so that it does not depend
// on one packet number space).
type hyStart struct {
	roundStart      time.Duration
	inRound         bool
	lastRoundMin    time.Duration
	currentRoundMin time.Duration
	samples         int
	inCSS           bool
	cssBaseline     time.Duration
	cssRounds       int
}

func (h *hyStart) reset() {
	*h = hyStart{
		lastRoundMin:    hsInfinity,
		currentRoundMin: hsInfinity,
		cssBaseline:     hsInfinity,
	}
}

// onRTTSample takes the RTT sample of one ACK frame whose largest
// acknowledged packet was sent at largestSent, and reports whether slow
// start is over (CSS lasted CSS_ROUNDS rounds).
func (h *hyStart) onRTTSample(now, largestSent, sample time.Duration) (exitSlowStart bool) {
	if !h.inRound || largestSent >= h.roundStart {
		// A new round (RFC 9406 §4.2: "At the start of each round").
		h.inRound = true
		h.roundStart = now
		h.lastRoundMin = h.currentRoundMin
		h.currentRoundMin = hsInfinity
		h.samples = 0
		if h.inCSS {
			h.cssRounds++
			if h.cssRounds >= hsCSSRounds {
				h.inCSS = false
				return true
			}
		}
	}
	h.currentRoundMin = min(h.currentRoundMin, sample)
	h.samples++
	if h.samples < hsNRTTSample || h.currentRoundMin == hsInfinity || h.lastRoundMin == hsInfinity {
		return false
	}
	if !h.inCSS {
		thresh := min(max(h.lastRoundMin/hsMinRTTDivisor, hsMinRTTThresh), hsMaxRTTThresh)
		if h.currentRoundMin >= h.lastRoundMin+thresh {
			// Delay increase: enter CSS.
			h.inCSS = true
			h.cssBaseline = h.currentRoundMin
			h.cssRounds = 0
		}
	} else if h.currentRoundMin < h.cssBaseline {
		// The increase was spurious: resume slow start.
		h.inCSS = false
		h.cssBaseline = hsInfinity
	}
	return false
}
