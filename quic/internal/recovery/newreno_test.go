package recovery

import (
	"math"
	"testing"
	"time"
)

func TestInitialWindow(t *testing.T) {
	tests := []struct{ mss, initial, minimum int }{
		{1200, 12000, 2400},  // 10 * 1200
		{1472, 14720, 2944},  // exactly the byte limit
		{1500, 14720, 3000},  // limited to 14720
		{9000, 18000, 18000}, // 2 * mss beats 14720
		{100, 12000, 2400},   // below 1200: 1200
	}
	for _, tt := range tests {
		for _, c := range []Controller{NewRenoController(tt.mss), NewCubicController(tt.mss)} {
			if c.Window() != tt.initial {
				t.Errorf("%T mss %d: initial window %d, want %d", c, tt.mss, c.Window(), tt.initial)
			}
			if c.SlowStartThreshold() != math.MaxInt || !c.InSlowStart() {
				t.Errorf("%T: ssthresh %d slow start %v", c, c.SlowStartThreshold(), c.InSlowStart())
			}
			// Repeated congestion events bottom out at the minimum window.
			for i := 0; i < 20; i++ {
				now := time.Duration(i+1) * time.Second
				c.OnCongestionEvent(now, now)
			}
			if c.Window() != tt.minimum {
				t.Errorf("%T mss %d: window floor %d, want %d", c, tt.mss, c.Window(), tt.minimum)
			}
		}
	}
}

func TestNewReno(t *testing.T) {
	rtt := NewRTTStats(0)
	type ev struct {
		kind     byte // 'a' ack, 'l' congestion event, 'p' persistent congestion
		now      time.Duration
		sent     time.Duration
		bytes    int
		appLimit bool
	}
	tests := []struct {
		name     string
		events   []ev
		cwnd     int
		ssthresh int
	}{
		{
			name:   "slow start doubles per window",
			events: []ev{{kind: 'a', now: 100 * ms, bytes: 12000}},
			cwnd:   24000, ssthresh: math.MaxInt,
		},
		{
			name:   "loss halves",
			events: []ev{{kind: 'a', now: 100 * ms, bytes: 12000}, {kind: 'l', now: 200 * ms, sent: 150 * ms}},
			cwnd:   12000, ssthresh: 12000,
		},
		{
			// A loss of a packet sent before the recovery began is part of
			// the same event.
			name: "one reduction per recovery period",
			events: []ev{
				{kind: 'a', now: 100 * ms, bytes: 12000},
				{kind: 'l', now: 200 * ms, sent: 150 * ms},
				{kind: 'l', now: 210 * ms, sent: 190 * ms},
				{kind: 'a', now: 220 * ms, sent: 180 * ms, bytes: 12000}, // in recovery: no growth
			},
			cwnd: 12000, ssthresh: 12000,
		},
		{
			// Acknowledging a packet sent after recovery began ends it:
			// congestion avoidance adds one datagram per window.
			name: "congestion avoidance",
			events: []ev{
				{kind: 'a', now: 100 * ms, bytes: 12000},
				{kind: 'l', now: 200 * ms, sent: 150 * ms},
				{kind: 'a', now: 300 * ms, sent: 250 * ms, bytes: 6000},
				{kind: 'a', now: 300 * ms, sent: 250 * ms, bytes: 5999},
				{kind: 'a', now: 310 * ms, sent: 260 * ms, bytes: 1}, // 12000 acknowledged
				{kind: 'a', now: 320 * ms, sent: 270 * ms, bytes: 12000},
			},
			cwnd: 13200, ssthresh: 12000,
		},
		{
			name: "a new loss after recovery halves again",
			events: []ev{
				{kind: 'a', now: 100 * ms, bytes: 12000},
				{kind: 'l', now: 200 * ms, sent: 150 * ms},
				{kind: 'l', now: 300 * ms, sent: 250 * ms},
			},
			cwnd: 6000, ssthresh: 6000,
		},
		{
			name:   "application-limited does not grow",
			events: []ev{{kind: 'a', now: 100 * ms, bytes: 12000, appLimit: true}},
			cwnd:   12000, ssthresh: math.MaxInt,
		},
		{
			name: "persistent congestion",
			events: []ev{
				{kind: 'a', now: 100 * ms, bytes: 12000},
				{kind: 'l', now: 200 * ms, sent: 150 * ms},
				{kind: 'p'},
				// Recovery period over: slow start again up to ssthresh.
				{kind: 'a', now: 210 * ms, sent: 190 * ms, bytes: 1200},
			},
			cwnd: 3600, ssthresh: 12000,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewRenoController(1200)
			for _, e := range tt.events {
				switch e.kind {
				case 'a':
					c.OnPacketAcked(e.now, e.sent, e.bytes, &rtt, !e.appLimit)
				case 'l':
					c.OnCongestionEvent(e.now, e.sent)
				case 'p':
					c.OnPersistentCongestion()
				}
			}
			if c.Window() != tt.cwnd || c.SlowStartThreshold() != tt.ssthresh {
				t.Errorf("cwnd %d ssthresh %d; want %d %d", c.Window(), c.SlowStartThreshold(), tt.cwnd, tt.ssthresh)
			}
		})
	}
}

func TestMaxDatagramSizeChange(t *testing.T) {
	for _, c := range []Controller{NewRenoController(1200), NewCubicController(1200)} {
		// Still at the initial window: it follows the new size.
		c.SetMaxDatagramSize(1400)
		if c.Window() != 14000 {
			t.Errorf("%T: window %d after raising MSS, want 14000", c, c.Window())
		}
		// At the minimum: raised to the new minimum.
		c.OnPersistentCongestion()
		c.SetMaxDatagramSize(1452)
		if c.Window() != 2904 {
			t.Errorf("%T: window %d, want the new minimum 2904", c, c.Window())
		}
	}
}

func TestParseAlgorithm(t *testing.T) {
	for _, tt := range []struct {
		s  string
		a  Algorithm
		ok bool
	}{{"", AlgorithmCubic, true}, {"cubic", AlgorithmCubic, true}, {"NewReno", AlgorithmNewReno, true}, {"bbr", AlgorithmCubic, false}} {
		a, ok := ParseAlgorithm(tt.s)
		if a != tt.a || ok != tt.ok {
			t.Errorf("ParseAlgorithm(%q) = %v, %v", tt.s, a, ok)
		}
		if ok && tt.s != "" {
			if _, isReno := NewController(a, 1200).(*RenoController); isReno != (a == AlgorithmNewReno) {
				t.Errorf("NewController(%v) is %T", a, NewController(a, 1200))
			}
		}
	}
}
