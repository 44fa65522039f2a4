package recovery

import (
	"testing"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
	"github.com/tsumugi-quic/tsumugi/sched"
)

func ecnAck(ect0, ect1, ce uint64, pairs ...[2]uint64) *wire.AckFrame {
	f := ackFrame(pairs...)
	f.ECN, f.ECT0, f.ECT1, f.ECNCE = true, ect0, ect1, ce
	return f
}

func TestECNValidation(t *testing.T) {
	type ackStep struct {
		ack     *wire.AckFrame
		marking bool // ECNMarking afterwards
		cwnd    int  // congestion window afterwards
	}
	tests := []struct {
		name  string
		ecn   bool
		steps []ackStep
	}{
		{
			name: "counts match", ecn: true,
			steps: []ackStep{
				{ack: ecnAck(4, 0, 0, [2]uint64{1, 4}), marking: true, cwnd: 12000 + 4*1200},
			},
		},
		{
			// An ECN-CE increase is a congestion event: 16800 (after the
			// first ACK) halves.
			name: "CE increase reduces the window", ecn: true,
			steps: []ackStep{
				{ack: ecnAck(2, 0, 0, [2]uint64{1, 2}), marking: true, cwnd: 14400},
				{ack: ecnAck(3, 0, 1, [2]uint64{1, 4}), marking: true, cwnd: 7200},
			},
		},
		{
			name: "ACK without counts fails validation", ecn: true,
			steps: []ackStep{
				{ack: ackFrame([2]uint64{1, 4}), marking: false, cwnd: 16800},
			},
		},
		{
			name: "ECT(1) never sent", ecn: true,
			steps: []ackStep{{ack: ecnAck(3, 1, 0, [2]uint64{1, 4}), marking: false, cwnd: 16800}},
		},
		{
			name: "more ECT(0) than sent", ecn: true,
			steps: []ackStep{{ack: ecnAck(9, 0, 0, [2]uint64{1, 4}), marking: false, cwnd: 16800}},
		},
		{
			// Four packets newly acknowledged but the counts rose by 2: the
			// marks were cleared on the way.
			name: "increase below newly acknowledged", ecn: true,
			steps: []ackStep{{ack: ecnAck(2, 0, 0, [2]uint64{1, 4}), marking: false, cwnd: 16800}},
		},
		{
			// A reordered ACK (largest not increased) with older counts
			// does not fail.
			name: "reordered ACK", ecn: true,
			steps: []ackStep{
				{ack: ecnAck(2, 0, 0, [2]uint64{4, 4}, [2]uint64{1, 1}), marking: true, cwnd: 14400},
				{ack: ecnAck(1, 0, 0, [2]uint64{3, 4}, [2]uint64{1, 1}), marking: true, cwnd: 15600},
			},
		},
		{
			// Without ECN configured, counts are ignored, CE included.
			name: "ECN off", ecn: false,
			steps: []ackStep{{ack: ecnAck(0, 0, 4, [2]uint64{1, 4}), marking: false, cwnd: 16800}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, Config{IsServer: true, ECN: tt.ecn, Congestion: AlgorithmNewReno})
			h.r.SetHandshakeConfirmed()
			if h.r.ECNMarking() != tt.ecn {
				t.Fatalf("ECNMarking %v at start", h.r.ECNMarking())
			}
			for pn := uint64(1); pn <= 4; pn++ {
				h.send(sched.AppData, pn, 0, true)
			}
			for i, s := range tt.steps {
				if err := h.ack(sched.AppData, 10*ms, s.ack); err != nil {
					t.Fatal(err)
				}
				if h.r.ECNMarking() != s.marking || h.r.CongestionWindow() != s.cwnd {
					t.Errorf("step %d: marking %v cwnd %d; want %v %d", i, h.r.ECNMarking(), h.r.CongestionWindow(), s.marking, s.cwnd)
				}
			}
		})
	}
}

func TestECNBlackhole(t *testing.T) {
	// Marked packets never acknowledged through three PTOs: marking stops.
	h := newHarness(t, Config{IsServer: true, ECN: true})
	h.r.SetHandshakeConfirmed()
	h.send(sched.AppData, 0, 0, true)
	for i := 0; i < 3; i++ {
		if !h.r.ECNMarking() {
			t.Fatalf("marking stopped after %d PTOs", i)
		}
		at := h.r.LossTimer()
		h.r.OnLossTimer(at)
		h.r.OnPacketSent(&sched.Record{PacketNumber: uint64(i + 1), Space: sched.AppData, SentBytes: 1200,
			AckEliciting: true, InFlight: true}, at)
	}
	if h.r.ECNMarking() || !h.r.ECNFailed() {
		t.Errorf("still marking after 3 PTOs without any acknowledgment")
	}
}
