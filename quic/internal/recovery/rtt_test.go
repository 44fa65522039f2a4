package recovery

import (
	"testing"
	"time"
)

const ms = time.Millisecond

func TestRTTInitial(t *testing.T) {
	r := NewRTTStats(0)
	if r.Smoothed() != 333*ms || r.Var() != 333*ms/2 || r.Min() != 0 || r.Latest() != 0 || r.HasSample() {
		t.Fatalf("initial state: %+v", r)
	}
	// PTO = 333 + 4*166.5 = 999 ms: the "PTO of 1 second" of RFC 9002 §6.2.2.
	if got := r.PTO(false, 25*ms); got != 999*ms {
		t.Errorf("initial PTO = %v, want 999ms", got)
	}
	if got := r.PTO(true, 25*ms); got != 1024*ms {
		t.Errorf("initial PTO with max_ack_delay = %v, want 1024ms", got)
	}
	r100 := NewRTTStats(100 * ms)
	if got := r100.Smoothed(); got != 100*ms {
		t.Errorf("configured initial RTT: smoothed = %v", got)
	}
}

func TestRTTUpdate(t *testing.T) {
	type sample struct {
		rtt, ackDelay time.Duration
		confirmed     bool
	}
	tests := []struct {
		name                          string
		samples                       []sample
		maxAckDelay                   time.Duration
		latest, smoothed, rttvar, min time.Duration
	}{
		{
			name:    "first sample resets the estimator and ignores the ack delay",
			samples: []sample{{rtt: 100 * ms, ackDelay: 50 * ms}},
			latest:  100 * ms, smoothed: 100 * ms, rttvar: 50 * ms, min: 100 * ms,
		},
		{
			// adjusted = 120 - 20 = 100: smoothed stays 100, rttvar = 3/4*50 + 1/4*0.
			name:    "ack delay subtracted",
			samples: []sample{{rtt: 100 * ms}, {rtt: 120 * ms, ackDelay: 20 * ms}},
			latest:  120 * ms, smoothed: 100 * ms, rttvar: 37500 * time.Microsecond, min: 100 * ms,
		},
		{
			// 110 - 20 = 90 < min_rtt 100: the delay is not subtracted.
			// smoothed = 7/8*100 + 1/8*110 = 101.25; rttvar = 3/4*50 + 1/4*10 = 40.
			name:    "ack delay not subtracted below min_rtt",
			samples: []sample{{rtt: 100 * ms}, {rtt: 110 * ms, ackDelay: 20 * ms}},
			latest:  110 * ms, smoothed: 101250 * time.Microsecond, rttvar: 40 * ms, min: 100 * ms,
		},
		{
			// Confirmed: ack delay limited to max_ack_delay 25: adjusted = 200 - 25 = 175.
			// smoothed = 7/8*100 + 1/8*175 = 109.375; rttvar = 3/4*50 + 1/4*75 = 56.25.
			name:        "ack delay limited by max_ack_delay once confirmed",
			samples:     []sample{{rtt: 100 * ms}, {rtt: 200 * ms, ackDelay: 80 * ms, confirmed: true}},
			maxAckDelay: 25 * ms,
			latest:      200 * ms, smoothed: 109375 * time.Microsecond, rttvar: 56250 * time.Microsecond, min: 100 * ms,
		},
		{
			// Not confirmed: the whole 80 ms is subtracted: adjusted = 120.
			// smoothed = 7/8*100 + 1/8*120 = 102.5; rttvar = 3/4*50 + 1/4*20 = 42.5.
			name:        "max_ack_delay ignored before confirmation",
			samples:     []sample{{rtt: 100 * ms}, {rtt: 200 * ms, ackDelay: 80 * ms}},
			maxAckDelay: 25 * ms,
			latest:      200 * ms, smoothed: 102500 * time.Microsecond, rttvar: 42500 * time.Microsecond, min: 100 * ms,
		},
		{
			// min_rtt follows the lowest sample and ignores ack delay.
			// smoothed = 7/8*100 + 1/8*60 = 95; rttvar = 3/4*50 + 1/4*40 = 47.5.
			name:    "min_rtt",
			samples: []sample{{rtt: 100 * ms}, {rtt: 60 * ms, ackDelay: 10 * ms}},
			latest:  60 * ms, smoothed: 95 * ms, rttvar: 47500 * time.Microsecond, min: 60 * ms,
		},
		{
			name:    "huge ack delay does not overflow",
			samples: []sample{{rtt: 100 * ms}, {rtt: 100 * ms, ackDelay: 1<<63 - 1}},
			latest:  100 * ms, smoothed: 100 * ms, rttvar: 37500 * time.Microsecond, min: 100 * ms,
		},
		{
			name:    "negative sample is zero",
			samples: []sample{{rtt: -5 * ms}},
			latest:  0, smoothed: 0, rttvar: 0, min: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewRTTStats(0)
			for _, s := range tt.samples {
				r.UpdateRTT(s.rtt, s.ackDelay, s.confirmed, tt.maxAckDelay)
			}
			if r.Latest() != tt.latest || r.Smoothed() != tt.smoothed || r.Var() != tt.rttvar || r.Min() != tt.min {
				t.Errorf("latest %v smoothed %v rttvar %v min %v; want %v %v %v %v",
					r.Latest(), r.Smoothed(), r.Var(), r.Min(), tt.latest, tt.smoothed, tt.rttvar, tt.min)
			}
		})
	}
}

func TestRTTDerived(t *testing.T) {
	r := NewRTTStats(0)
	r.UpdateRTT(80*ms, 0, false, 0)
	// LossDelay = 9/8 * max(80, 80) = 90 ms.
	if got := r.LossDelay(); got != 90*ms {
		t.Errorf("LossDelay = %v, want 90ms", got)
	}
	// PTO = 80 + 4*40 = 240; persistent congestion = (240 + 25) * 3.
	if got := r.PTO(false, 0); got != 240*ms {
		t.Errorf("PTO = %v, want 240ms", got)
	}
	if got := r.PersistentCongestionDuration(25 * ms); got != 795*ms {
		t.Errorf("persistent congestion duration = %v, want 795ms", got)
	}
	// The granularity floors: a zero RTT still gives 1 ms.
	z := NewRTTStats(0)
	z.UpdateRTT(0, 0, false, 0)
	if z.LossDelay() != Granularity || z.PTO(false, 0) != Granularity {
		t.Errorf("zero RTT: LossDelay %v PTO %v, want 1ms", z.LossDelay(), z.PTO(false, 0))
	}
	// Persistent congestion moves min_rtt to the latest sample.
	r.UpdateRTT(150*ms, 0, false, 0)
	r.OnPersistentCongestion()
	if r.Min() != 150*ms {
		t.Errorf("min after persistent congestion = %v, want 150ms", r.Min())
	}
	r.Reset()
	if r.HasSample() || r.Smoothed() != 333*ms {
		t.Errorf("Reset: %+v", r)
	}
}
