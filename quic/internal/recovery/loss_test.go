package recovery

import (
	"testing"
	"time"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
	"github.com/tsumugi-quic/tsumugi/sched"
)

// lossStep is one step of a loss detection script, at a time since the
// base: send packets, receive an ACK frame, or run the loss timer; then
// check what was reported.
type lossStep struct {
	at    time.Duration
	space sched.Space // of send, skip and ack

	send     []uint64 // packet numbers sent at `at`, one each
	noElicit bool     // the packets sent carry only ACK frames
	skip     uint64   // a packet number to skip (SkipPacketNumber) when nonzero
	ack      *wire.AckFrame
	timer    bool // run OnLossTimer at `at`

	wantErr           wire.ErrorCode // for ack
	wantAcked         []uint64
	wantLost          []uint64
	wantTimer         time.Duration // LossTimer afterwards: < 0 none; checked if checkTimer
	checkTimer        bool
	wantProbe         ProbeRequest // for timer steps
	wantPTOCount      int
	checkPTOCount     bool
	wantCwnd          int // checked when nonzero
	wantBytesInFlight int
	checkInFlight     bool
}

// appData is the default space of the scripts (sched.Initial is 0).
const appData = sched.AppData

func sendAt(at time.Duration, pns ...uint64) lossStep {
	return lossStep{at: at, space: appData, send: pns}
}

func runLossScript(t *testing.T, cfg Config, confirmed bool, steps []lossStep) *harness {
	t.Helper()
	h := newHarness(t, cfg)
	if confirmed {
		h.r.SetHandshakeConfirmed()
	}
	for i, s := range steps {
		if s.skip != 0 {
			h.r.SkipPacketNumber(s.space, s.skip)
		}
		for _, pn := range s.send {
			h.send(s.space, pn, s.at, !s.noElicit)
		}
		if s.ack != nil {
			err := h.ack(s.space, s.at, s.ack)
			switch {
			case s.wantErr == 0 && err != nil:
				t.Fatalf("step %d: ack: %v", i, err)
			case s.wantErr != 0 && !isCode(err, s.wantErr):
				t.Fatalf("step %d: ack error %v, want %v", i, err, s.wantErr)
			}
		}
		if s.timer {
			p := h.r.OnLossTimer(h.at(s.at))
			if p != s.wantProbe {
				t.Errorf("step %d: probe %v, want %v", i, p, s.wantProbe)
			}
		}
		h.expectStep(i, s)
	}
	return h
}

func (h *harness) expectStep(i int, s lossStep) {
	h.t.Helper()
	if !equalU64(h.acked, s.wantAcked) || !equalU64(h.lost, s.wantLost) {
		h.t.Errorf("step %d: acked %v lost %v; want acked %v lost %v", i, h.acked, h.lost, s.wantAcked, s.wantLost)
	}
	h.acked, h.lost = nil, nil
	if s.checkTimer {
		got := h.r.LossTimer()
		if s.wantTimer < 0 && !got.IsZero() || s.wantTimer >= 0 && !got.Equal(h.at(s.wantTimer)) {
			h.t.Errorf("step %d: LossTimer %v (zero %v), want %v", i, got.Sub(h.base), got.IsZero(), s.wantTimer)
		}
	}
	if s.checkPTOCount && h.r.PTOCount() != s.wantPTOCount {
		h.t.Errorf("step %d: PTOCount %d, want %d", i, h.r.PTOCount(), s.wantPTOCount)
	}
	if s.wantCwnd != 0 && h.r.CongestionWindow() != s.wantCwnd {
		h.t.Errorf("step %d: cwnd %d, want %d", i, h.r.CongestionWindow(), s.wantCwnd)
	}
	if s.checkInFlight && h.r.BytesInFlight() != s.wantBytesInFlight {
		h.t.Errorf("step %d: bytes in flight %d, want %d", i, h.r.BytesInFlight(), s.wantBytesInFlight)
	}
	h.checkInFlight()
}

func equalU64(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func seq(from, to uint64) []uint64 {
	var s []uint64
	for pn := from; pn <= to; pn++ {
		s = append(s, pn)
	}
	return s
}

func TestLossDetection(t *testing.T) {
	server := Config{IsServer: true, Congestion: AlgorithmNewReno}
	// Packets 1..10 sent 1 ms apart from t=0.
	tenPackets := func() []lossStep {
		var s []lossStep
		for pn := uint64(1); pn <= 10; pn++ {
			s = append(s, sendAt(time.Duration(pn-1)*ms, pn))
		}
		return s
	}
	tests := []struct {
		name  string
		steps []lossStep
	}{
		{
			// ACK of 10 at 40 ms: latest_rtt = 31 ms, loss delay 34.875 ms.
			// 1..7 fall to the packet threshold (and 1..6 to time as well);
			// 8 and 9 wait for the time threshold: 8 at 7+34.875 ms.
			name: "packet threshold then time threshold",
			steps: append(tenPackets(),
				lossStep{at: 40 * ms, space: appData, ack: ackFrame([2]uint64{10, 10}),
					wantAcked: []uint64{10}, wantLost: seq(1, 7),
					checkTimer: true, wantTimer: 41875 * time.Microsecond},
				lossStep{at: 41 * ms, space: appData, timer: true, // early: nothing
					checkTimer: true, wantTimer: 41875 * time.Microsecond},
				lossStep{at: 41875 * time.Microsecond, space: appData, timer: true,
					wantLost: []uint64{8}, checkTimer: true, wantTimer: 42875 * time.Microsecond},
				lossStep{at: 43 * ms, space: appData, timer: true,
					wantLost: []uint64{9}, checkTimer: true, wantTimer: -1,
					checkInFlight: true, wantBytesInFlight: 0},
			),
		},
		{
			// 1 at 0, 2 at 10 ms, ACK of 2 at 30 ms: latest 20 ms, loss
			// delay 22.5 ms: 1 was sent more than that before 30 ms.
			name: "time threshold on ACK",
			steps: []lossStep{
				sendAt(0, 1), sendAt(10*ms, 2),
				{at: 30 * ms, space: appData, ack: ackFrame([2]uint64{2, 2}),
					wantAcked: []uint64{2}, wantLost: []uint64{1}, checkTimer: true, wantTimer: -1},
			},
		},
		{
			// Reordering within both thresholds: 1 is not lost yet, its
			// loss time is 0 + 9/8*2ms.
			name: "reordering tolerated",
			steps: []lossStep{
				sendAt(0, 1, 2, 3),
				{at: 2 * ms, space: appData, ack: ackFrame([2]uint64{2, 3}),
					wantAcked: []uint64{2, 3}, checkTimer: true, wantTimer: 2250 * time.Microsecond},
				{at: 2100 * time.Microsecond, space: appData, ack: ackFrame([2]uint64{1, 3}),
					wantAcked: []uint64{1}, checkTimer: true, wantTimer: -1},
			},
		},
		{
			name: "ranges acknowledge several holes",
			steps: []lossStep{
				sendAt(0, seq(0, 9)...),
				{at: 5 * ms, space: appData, ack: ackFrame([2]uint64{8, 9}, [2]uint64{4, 6}, [2]uint64{0, 1}),
					// latest_rtt 5 ms, loss delay 5.625 ms: 2 and 3 fall
					// to the packet threshold; 7 waits for 0 + 5.625 ms.
					wantAcked: []uint64{0, 1, 4, 5, 6, 8, 9}, wantLost: []uint64{2, 3},
					checkTimer: true, wantTimer: 5625 * time.Microsecond},
				{at: 6 * ms, space: appData, ack: ackFrame([2]uint64{8, 9}, [2]uint64{4, 6}, [2]uint64{0, 1}),
					// Nothing new: a duplicate ACK changes nothing.
					checkTimer: true, wantTimer: 5625 * time.Microsecond},
			},
		},
		{
			name: "ACK of a packet never sent",
			steps: []lossStep{
				sendAt(0, 1, 2, 3),
				{at: 5 * ms, space: appData, ack: ackFrame([2]uint64{4, 5}), wantErr: wire.ProtocolViolation,
					checkInFlight: true, wantBytesInFlight: 3600},
				{at: 5 * ms, space: sched.Handshake, ack: ackFrame([2]uint64{0, 0}), wantErr: wire.ProtocolViolation},
			},
		},
		{
			name: "ACK of a skipped packet number",
			steps: []lossStep{
				sendAt(0, 1, 2),
				{at: 0, space: appData, skip: 3, send: []uint64{4}},
				{at: 5 * ms, space: appData, ack: ackFrame([2]uint64{1, 4}), wantErr: wire.ProtocolViolation,
					checkInFlight: true, wantBytesInFlight: 3600},
				{at: 5 * ms, space: appData, ack: ackFrame([2]uint64{4, 4}, [2]uint64{1, 2}),
					wantAcked: []uint64{1, 2, 4}},
			},
		},
		{
			name: "malformed ranges",
			steps: []lossStep{
				sendAt(0, seq(1, 9)...),
				{at: 5 * ms, space: appData, ack: ackFrame([2]uint64{1, 2}, [2]uint64{5, 6}), wantErr: wire.FrameEncodingError},
				{at: 5 * ms, space: appData, ack: ackFrame([2]uint64{6, 5}), wantErr: wire.FrameEncodingError},
				{at: 5 * ms, space: appData, ack: ackFrame([2]uint64{5, 6}, [2]uint64{4, 6}), wantErr: wire.FrameEncodingError},
				{at: 5 * ms, space: appData, ack: &wire.AckFrame{}, wantErr: wire.FrameEncodingError},
			},
		},
		{
			// Packets carrying only ACK frames are tracked (an ACK of them
			// is legitimate) and can be lost, without bytes in flight or a
			// congestion event.
			name: "non-ack-eliciting packets",
			steps: []lossStep{
				{at: 0, space: appData, send: seq(1, 4), noElicit: true, checkTimer: true, wantTimer: -1,
					checkInFlight: true, wantBytesInFlight: 0},
				{at: 10 * ms, space: appData, ack: ackFrame([2]uint64{4, 4}),
					wantAcked: []uint64{4}, wantLost: []uint64{1}, wantCwnd: 12000},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runLossScript(t, server, true, tt.steps)
		})
	}
}
