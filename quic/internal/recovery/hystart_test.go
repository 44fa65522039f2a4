package recovery

import (
	"math"
	"testing"
	"time"
)

// hyStartRound feeds one round of 8 RTT samples of the given RTT to c, round
// r starting at r*400 ms (each sample 1 ms apart, so that only the first
// sample of a round acknowledges a packet sent after the round began), and
// acknowledges 1200 bytes per sample.
func hyStartRound(c *CubicController, r int, sample time.Duration, check func(i int)) {
	for i := 0; i < 8; i++ {
		now := time.Duration(r)*400*ms + time.Duration(i)*ms
		rtt := rttOf(sample)
		c.OnRTTSample(now, rtt)
		c.OnPacketAcked(now, now-sample, 1200, rtt, true)
		if check != nil {
			check(i)
		}
	}
}

func TestHyStart(t *testing.T) {
	c := NewCubicController(1200)
	hyStartRound(c, 1, 100*ms, nil)
	hyStartRound(c, 2, 100*ms, nil)
	if c.hystart.inCSS || c.Window() != 12000+16*1200 {
		t.Fatalf("steady RTT: CSS %v window %d", c.hystart.inCSS, c.Window())
	}
	// Round 3: the minimum RTT rose by 15 ms, above the threshold
	// clamp(100/8, 4, 16) = 12.5 ms: CSS begins after the 8th sample.
	hyStartRound(c, 3, 115*ms, func(i int) {
		if c.hystart.inCSS != (i == 7) {
			t.Errorf("sample %d: CSS %v", i, c.hystart.inCSS)
		}
	})
	// In CSS the window grows a quarter as fast.
	w := c.Window()
	hyStartRound(c, 4, 115*ms, nil)
	if got := c.Window() - w; got != 8*1200/4 {
		t.Errorf("CSS growth %d bytes for 8 datagrams, want %d", got, 8*1200/4)
	}
	if c.SlowStartThreshold() != math.MaxInt {
		t.Fatalf("slow start ended early")
	}
	// CSS_ROUNDS = 5 rounds of CSS end slow start, at the start of round 8.
	for r := 5; r <= 7; r++ {
		hyStartRound(c, r, 115*ms, nil)
	}
	if c.SlowStartThreshold() != math.MaxInt {
		t.Fatalf("slow start ended after round 7")
	}
	hyStartRound(c, 8, 115*ms, nil)
	if !c.InSlowStart() && c.SlowStartThreshold() > c.Window() {
		t.Errorf("inconsistent: ssthresh %d window %d", c.SlowStartThreshold(), c.Window())
	}
	if c.InSlowStart() {
		t.Errorf("still in slow start after 5 CSS rounds: ssthresh %d window %d", c.SlowStartThreshold(), c.Window())
	}
}

func TestHyStartSpuriousCSS(t *testing.T) {
	c := NewCubicController(1200)
	hyStartRound(c, 1, 100*ms, nil)
	hyStartRound(c, 2, 100*ms, nil)
	hyStartRound(c, 3, 115*ms, nil)
	if !c.hystart.inCSS {
		t.Fatal("no CSS")
	}
	// The RTT falls back below the CSS baseline: back to slow start.
	hyStartRound(c, 4, 100*ms, nil)
	if c.hystart.inCSS || !c.InSlowStart() {
		t.Errorf("CSS %v slow start %v", c.hystart.inCSS, c.InSlowStart())
	}
	w := c.Window()
	hyStartRound(c, 5, 100*ms, nil)
	if got := c.Window() - w; got != 8*1200 {
		t.Errorf("slow start growth %d, want %d", got, 8*1200)
	}
}

func TestHyStartThresholds(t *testing.T) {
	// The RTT threshold is lastRoundMinRTT/8 clamped to [4, 16] ms.
	tests := []struct {
		last, cur time.Duration
		css       bool
	}{
		{10 * ms, 13 * ms, false},   // +3 < 4
		{10 * ms, 14 * ms, true},    // +4
		{200 * ms, 215 * ms, false}, // +15 < 16
		{200 * ms, 216 * ms, true},
	}
	for _, tt := range tests {
		c := NewCubicController(1200)
		hyStartRound(c, 1, tt.last, nil)
		hyStartRound(c, 2, tt.last, nil)
		hyStartRound(c, 3, tt.cur, nil)
		if c.hystart.inCSS != tt.css {
			t.Errorf("last %v current %v: CSS %v, want %v", tt.last, tt.cur, c.hystart.inCSS, tt.css)
		}
	}
}

func TestHyStartOnlyInitialSlowStart(t *testing.T) {
	// A loss ends HyStart++: later slow starts are standard.
	c := NewCubicController(1200)
	hyStartRound(c, 1, 100*ms, nil)
	c.OnCongestionEvent(450*ms, 440*ms)
	c.OnPersistentCongestion()
	hyStartRound(c, 2, 100*ms, nil)
	hyStartRound(c, 3, 100*ms, nil)
	hyStartRound(c, 4, 150*ms, nil)
	if c.hystart.inCSS {
		t.Error("HyStart++ ran after a congestion event")
	}
}
