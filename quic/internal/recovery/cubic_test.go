package recovery

import (
	"math"
	"testing"
	"time"
)

// cubicAfterLoss returns a CUBIC controller (no HyStart++) that grew to 100
// datagrams of 1200 bytes in slow start and then saw a loss at 1 s: W_max
// is 120000 bytes, the window and ssthresh 0.7 of it, 84000.
func cubicAfterLoss(t *testing.T) *CubicController {
	t.Helper()
	c := NewCubicController(1200)
	c.SetHyStart(false)
	rtt := NewRTTStats(0)
	c.OnPacketAcked(500*ms, 0, 108000, &rtt, true)
	if c.Window() != 120000 {
		t.Fatalf("slow start: window %d, want 120000", c.Window())
	}
	c.OnCongestionEvent(time.Second, 900*ms)
	if c.Window() != 84000 || c.SlowStartThreshold() != 84000 || c.wMax != 120000 {
		t.Fatalf("after loss: window %d ssthresh %d W_max %v", c.Window(), c.SlowStartThreshold(), c.wMax)
	}
	return c
}

// wCubicRef is RFC 9438 Figure 1 in datagrams: C*(t-K)^3 + W_max with
// W_max = 100 and K = cbrt((100 - 70)/0.4).
func wCubicRef(t float64) float64 {
	k := math.Cbrt(30 / 0.4)
	return 0.4*math.Pow(t-k, 3) + 100
}

func rttOf(d time.Duration) *RTTStats {
	r := NewRTTStats(0)
	r.UpdateRTT(d, 0, false, 0)
	return &r
}

func TestCubicK(t *testing.T) {
	c := cubicAfterLoss(t)
	// The epoch starts with the first acknowledgment in congestion
	// avoidance (of a packet sent after the loss).
	c.OnPacketAcked(2*time.Second, 1500*ms, 1, rttOf(100*ms), true)
	if want := math.Cbrt(75); math.Abs(c.k-want) > 1e-9 {
		t.Errorf("K = %v s, want %v", c.k, want)
	}
	if got := c.wCubic(0) / 1200; math.Abs(got-70) > 1e-6 {
		t.Errorf("W_cubic(0) = %v datagrams, want cwnd_epoch 70", got)
	}
	if got := c.wCubic(c.k) / 1200; math.Abs(got-100) > 1e-9 {
		t.Errorf("W_cubic(K) = %v datagrams, want W_max 100", got)
	}
	for _, tt := range []float64{0.5, 1, 3, 4.2, 6, 10} {
		if got, want := c.wCubic(tt)/1200, wCubicRef(tt); math.Abs(got-want) > 1e-6 {
			t.Errorf("W_cubic(%v) = %v, want %v", tt, got, want)
		}
	}
}

func TestCubicGrowth(t *testing.T) {
	const srtt = 100 * ms
	epoch := 2 * time.Second
	tests := []struct {
		name string
		t    float64 // seconds into the epoch
		// acks of 1200 bytes at that instant
		acks int
		want func(got float64) bool
		desc string
	}{
		{
			// One datagram acknowledged one second in: the window moves
			// (target - cwnd)/cwnd of a datagram toward W_cubic(t + RTT).
			name: "one step in the concave region", t: 1, acks: 1,
			want: func(got float64) bool {
				target := wCubicRef(1.1)
				return math.Abs(got-(70+(target-70)/70)) < 1e-6
			},
			desc: "70 + (W_cubic(1.1) - 70)/70",
		},
		{
			// Many acknowledgments at t = K - RTT: the window approaches
			// W_max and never passes it (the plateau).
			name: "plateau at W_max", t: math.Cbrt(75) - 0.1, acks: 3000,
			want: func(got float64) bool { return got > 99.5 && got <= 100+1e-6 },
			desc: "in (99.5, 100]",
		},
		{
			// Past the plateau (convex region): W_cubic(K + 2 + RTT).
			name: "convex region", t: math.Cbrt(75) + 2, acks: 3000,
			want: func(got float64) bool {
				target := wCubicRef(math.Cbrt(75) + 2.1)
				return got > target-0.5 && got <= target+1e-6
			},
			desc: "just under W_cubic(K + 2.1)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cubicAfterLoss(t)
			c.OnPacketAcked(epoch, 1500*ms, 0, rttOf(srtt), true) // starts the epoch
			now := epoch + time.Duration(tt.t*float64(time.Second))
			for i := 0; i < tt.acks; i++ {
				c.OnPacketAcked(now, 1500*ms, 1200, rttOf(srtt), true)
			}
			if got := c.cwnd / 1200; !tt.want(got) {
				t.Errorf("window %v datagrams, want %s", got, tt.desc)
			}
		})
	}
}

func TestCubicRenoFriendly(t *testing.T) {
	// At the start of the epoch W_cubic is flat at 70 datagrams while W_est
	// grows by α_cubic per window: the window follows W_est (RFC 9438 §4.3).
	c := cubicAfterLoss(t)
	rtt := rttOf(100 * ms)
	c.OnPacketAcked(2*time.Second, 1500*ms, 0, rtt, true)
	west, cwnd := 84000.0, 84000.0
	now := 2 * time.Second
	for i := 0; i < 700; i++ { // ten windows
		c.OnPacketAcked(now, 1500*ms, 1200, rtt, true)
		west += (3 * 0.3 / 1.7) * 1200 * 1200 / cwnd
		cwnd = west
	}
	if math.Abs(c.cwnd-west) > 1e-6 {
		t.Errorf("window %v, want W_est %v", c.cwnd, west)
	}
	if c.wCubic(0) >= west {
		t.Errorf("test is not in the Reno-friendly region: W_cubic %v >= W_est %v", c.wCubic(0), west)
	}
}

func TestCubicFastConvergence(t *testing.T) {
	c := cubicAfterLoss(t)
	// A second loss below W_max: W_max = 84000 * (1 + 0.7) / 2.
	c.OnCongestionEvent(3*time.Second, 2500*ms)
	if c.wMax != 71400 || c.SlowStartThreshold() != 58800 || c.Window() != 58800 {
		t.Errorf("W_max %v ssthresh %d window %d; want 71400 58800 58800", c.wMax, c.SlowStartThreshold(), c.Window())
	}
	// A loss at or above W_max sets it to the window.
	c2 := cubicAfterLoss(t)
	c2.cwnd = 130000
	c2.OnCongestionEvent(3*time.Second, 2500*ms)
	if c2.wMax != 130000 || c2.Window() != 91000 {
		t.Errorf("W_max %v window %d; want 130000 91000", c2.wMax, c2.Window())
	}
}

func TestCubicAppLimited(t *testing.T) {
	c := cubicAfterLoss(t)
	rtt := rttOf(100 * ms)
	c.OnPacketAcked(2*time.Second, 1500*ms, 1200, rtt, true)
	before := c.cwnd
	for i := 0; i < 1000; i++ {
		c.OnPacketAcked(5*time.Second, 4*time.Second, 1200, rtt, false)
	}
	if c.cwnd != before || c.inEpoch {
		t.Errorf("application-limited: window %v -> %v, epoch %v", before, c.cwnd, c.inEpoch)
	}
	// The next epoch starts afresh: the idle seconds do not count.
	c.OnPacketAcked(60*time.Second, 59*time.Second, 1200, rtt, true)
	if c.epochStart != 60*time.Second || c.cwnd > before+1200 {
		t.Errorf("epoch start %v, window %v (was %v)", c.epochStart, c.cwnd, before)
	}
	// In slow start too.
	s := NewCubicController(1200)
	s.OnPacketAcked(time.Second, 0, 12000, rtt, false)
	if s.Window() != 12000 {
		t.Errorf("slow start grew while application-limited: %d", s.Window())
	}
}

func TestCubicPersistentCongestion(t *testing.T) {
	c := cubicAfterLoss(t)
	c.OnPersistentCongestion()
	if c.Window() != 2400 || !c.InSlowStart() {
		t.Fatalf("window %d slow start %v", c.Window(), c.InSlowStart())
	}
	rtt := rttOf(100 * ms)
	// Slow start up to ssthresh (84000), then the epoch has K = 0 and the
	// plateau at the window it starts with (RFC 9438 §4.8).
	c.OnPacketAcked(3*time.Second, 2*time.Second, 81600, rtt, true)
	c.OnPacketAcked(3*time.Second, 2*time.Second, 1200, rtt, true)
	if c.k != 0 || c.origin != 84000 {
		t.Errorf("K %v origin %v, want 0 and 84000", c.k, c.origin)
	}
}

func TestCubicWindowCap(t *testing.T) {
	c := NewCubicController(1200)
	c.SetHyStart(false)
	rtt := rttOf(100 * ms)
	for i := 0; i < 100; i++ {
		c.OnPacketAcked(time.Second, 0, 1<<30, rtt, true)
	}
	if c.Window() != maxWindowPackets*1200 {
		t.Errorf("window %d, want the cap %d", c.Window(), maxWindowPackets*1200)
	}
	r := NewRenoController(1200)
	for i := 0; i < 100; i++ {
		r.OnPacketAcked(time.Second, 0, 1<<30, rtt, true)
	}
	if r.Window() != maxWindowPackets*1200 {
		t.Errorf("NewReno window %d, want the cap", r.Window())
	}
}
