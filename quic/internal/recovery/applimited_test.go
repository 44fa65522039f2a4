package recovery

import (
	"testing"

	"github.com/tsumugi-quic/tsumugi/sched"
)

func TestAppLimited(t *testing.T) {
	tests := []struct {
		name       string
		alg        Algorithm
		send       int  // datagrams of 1200 bytes sent at 0
		appLimited bool // SetAppLimited(true) after sending
		wantCwnd   int  // after all are acknowledged at 10 ms
	}{
		{name: "cwnd-limited grows", alg: AlgorithmNewReno, send: 10, wantCwnd: 24000},
		{name: "app-limited with little in flight", alg: AlgorithmNewReno, send: 2, appLimited: true, wantCwnd: 12000},
		// In slow start, half the window in flight is enough to grow.
		{name: "app-limited with half the window in flight", alg: AlgorithmNewReno, send: 5, appLimited: true, wantCwnd: 18000},
		{name: "cubic app-limited", alg: AlgorithmCubic, send: 2, appLimited: true, wantCwnd: 12000},
		// Not said to be app-limited: the window grows whatever is in
		// flight.
		{name: "not declared", alg: AlgorithmNewReno, send: 2, wantCwnd: 14400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, Config{IsServer: true, Congestion: tt.alg})
			h.r.SetHandshakeConfirmed()
			for pn := 0; pn < tt.send; pn++ {
				h.send(sched.AppData, uint64(pn), 0, true)
			}
			if tt.appLimited {
				h.r.SetAppLimited(true)
			}
			if err := h.ack(sched.AppData, 10*ms, ackFrame([2]uint64{0, uint64(tt.send - 1)})); err != nil {
				t.Fatal(err)
			}
			if h.r.CongestionWindow() != tt.wantCwnd {
				t.Errorf("cwnd %d, want %d", h.r.CongestionWindow(), tt.wantCwnd)
			}
		})
	}
}

func TestAppLimitedClearedByFullWindow(t *testing.T) {
	h := newHarness(t, Config{IsServer: true, Congestion: AlgorithmNewReno})
	h.r.SetHandshakeConfirmed()
	h.r.SetAppLimited(true)
	// Filling the window ends the application-limited period.
	for pn := uint64(0); pn < 10; pn++ {
		h.send(sched.AppData, pn, 0, true)
	}
	if h.r.CanSend() != 0 {
		t.Fatalf("CanSend %d with a full window", h.r.CanSend())
	}
	if err := h.ack(sched.AppData, 10*ms, ackFrame([2]uint64{0, 0})); err != nil {
		t.Fatal(err)
	}
	if h.r.CongestionWindow() != 13200 {
		t.Errorf("cwnd %d, want 13200", h.r.CongestionWindow())
	}
	if got, want := h.r.CanSend(), 13200-9*1200; got != want {
		t.Errorf("CanSend %d, want %d", got, want)
	}
}

func TestRecoveryPacing(t *testing.T) {
	h := newHarness(t, Config{IsServer: true, PacingBurst: 2})
	h.r.SetHandshakeConfirmed()
	now := h.at(0)
	if b := h.r.PacingBudget(now); b != 2400 {
		t.Fatalf("budget %d", b)
	}
	h.send(sched.AppData, 0, 0, true)
	h.send(sched.AppData, 1, 0, true)
	// Packets carrying only ACK frames are not paced.
	h.send(sched.AppData, 2, 0, false)
	if b := h.r.PacingBudget(now); b != 0 {
		t.Errorf("budget %d after a burst", b)
	}
	// Initial RTT 333 ms, cwnd 12000: 45045 B/s, 1200 bytes in ~26.6 ms.
	next := h.r.NextSendTime(now).Sub(h.base)
	if next < 26*ms || next > 27*ms {
		t.Errorf("next send %v", next)
	}
	// An RTT sample of 10 ms speeds the pacer up: 1.25*12000/10ms.
	if err := h.ack(sched.AppData, 10*ms, ackFrame([2]uint64{0, 0})); err != nil {
		t.Fatal(err)
	}
	h.send(sched.AppData, 3, 10*ms, true)
	h.send(sched.AppData, 4, 10*ms, true)
	next = h.r.NextSendTime(h.at(10 * ms)).Sub(h.base)
	if next > 12*ms {
		t.Errorf("next send %v with a 10 ms RTT", next)
	}
}
