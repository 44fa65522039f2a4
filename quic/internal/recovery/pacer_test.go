package recovery

import (
	"testing"
	"time"
)

func TestPacer(t *testing.T) {
	t0 := testBase
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	// cwnd 12000, srtt 100 ms: 1.25 * 12000 / 0.1 s = 150000 B/s, so a
	// 1200-byte datagram every 8 ms.
	type step struct {
		at         time.Duration
		send       int // bytes sent at `at` (after the checks)
		wantBudget int
		wantNext   time.Duration
	}
	tests := []struct {
		name  string
		burst int
		cwnd  int
		srtt  time.Duration
		steps []step
	}{
		{
			name: "full bucket, then the rate", cwnd: 12000, srtt: 100 * ms,
			steps: []step{
				{at: 0, wantBudget: 12000, wantNext: 0, send: 12000},
				{at: 0, wantBudget: 0, wantNext: 8 * ms},
				{at: 4 * ms, wantBudget: 600, wantNext: 8 * ms},
				{at: 8 * ms, wantBudget: 1200, wantNext: 8 * ms, send: 1200},
				{at: 8 * ms, wantBudget: 0, wantNext: 16 * ms},
				// A long pause refills at most one burst.
				{at: 10 * time.Second, wantBudget: 12000, wantNext: 10 * time.Second},
			},
		},
		{
			name: "burst cap", burst: 2, cwnd: 12000, srtt: 100 * ms,
			steps: []step{
				{at: 0, wantBudget: 2400, send: 2400},
				{at: time.Second, wantBudget: 2400, wantNext: time.Second},
			},
		},
		{
			// Debt: a probe sent without budget delays the next packet.
			name: "debt", cwnd: 12000, srtt: 100 * ms,
			steps: []step{
				{at: 0, send: 12000 + 1200, wantBudget: 12000},
				{at: 0, wantBudget: 0, wantNext: 16 * ms},
			},
		},
		{
			// The rate follows the window: 120000 bytes per 100 ms: 0.8 ms
			// per datagram.
			name: "larger window", cwnd: 120000, srtt: 100 * ms,
			steps: []step{
				{at: 0, send: 12000, wantBudget: 12000},
				{at: 0, wantNext: 800 * time.Microsecond},
				{at: 8 * ms, wantBudget: 12000, wantNext: 8 * ms},
			},
		},
		{
			name: "no RTT: not paced", cwnd: 12000, srtt: 0,
			steps: []step{
				{at: 0, send: 12000, wantBudget: 12000},
				{at: 0, wantBudget: 12000, wantNext: 0},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewPacer(t0, 1200, tt.burst)
			p.SetRate(t0, tt.cwnd, tt.srtt)
			for i, s := range tt.steps {
				if got := p.Budget(at(s.at)); got != s.wantBudget {
					t.Errorf("step %d: budget %d, want %d", i, got, s.wantBudget)
				}
				if got := p.NextSend(at(s.at)); !got.Equal(at(s.wantNext)) {
					t.Errorf("step %d: next send %v, want %v", i, got.Sub(t0), s.wantNext)
				}
				if s.send > 0 {
					p.OnSent(at(s.at), s.send)
				}
			}
		})
	}
}

func TestPacerExactRate(t *testing.T) {
	// Over a long run at an awkward rate the pacer neither loses nor
	// invents bytes: 1.25 * 10000 B / 30 ms = 416666.67 B/s.
	p := NewPacer(testBase, 1200, 1)
	p.SetRate(testBase, 10000, 30*ms)
	p.OnSent(testBase, 1200) // empty
	sent := 0
	now := testBase
	for now.Before(testBase.Add(3 * time.Second)) {
		now = p.NextSend(now)
		p.OnSent(now, 1200)
		sent += 1200
	}
	// 3 s at 416666.67 B/s is 1250000 bytes: within one datagram.
	if sent < 1250000-1200 || sent > 1250000+1200 {
		t.Errorf("sent %d bytes in 3 s, want about 1250000", sent)
	}
}

func TestPacerHostileValues(t *testing.T) {
	p := NewPacer(testBase, 1<<30, 1<<30)
	p.SetRate(testBase, 1<<62, 1<<62)
	p.OnSent(testBase, 1<<40)
	for _, d := range []time.Duration{1, time.Hour, 1 << 62} {
		if b := p.Budget(testBase.Add(d)); b < 0 {
			t.Errorf("budget %d", b)
		}
		if n := p.NextSend(testBase.Add(d)); n.Before(testBase) {
			t.Errorf("next send %v", n)
		}
	}
}
