package recovery

import (
	"testing"
	"time"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

func TestPersistentCongestion(t *testing.T) {
	// With NewReno: after an RTT sample (pn 1: RTT 10 ms) packets 2..12 go
	// out 20 ms apart (pn k at 20(k-1) ms); the ACK of 12 at 230 ms
	// declares 2..11 lost (time threshold: loss delay 11.25 ms). The
	// persistent congestion duration is (10 + 4*3.75 + 25) * 3 = 150 ms.
	firstSample := []lossStep{
		sendAt(0, 1),
		{at: 10 * ms, space: appData, ack: ackFrame([2]uint64{1, 1}), wantAcked: []uint64{1}, wantCwnd: 13200},
	}
	var train []lossStep
	for pn := uint64(2); pn <= 12; pn++ {
		train = append(train, sendAt(time.Duration(pn-1)*20*ms, pn))
	}
	tests := []struct {
		name string
		pre  []lossStep
		ack  *wire.AckFrame
		// acked packets besides 12 and the window afterwards.
		wantAcked []uint64
		wantLost  []uint64
		wantCwnd  int
	}{
		{
			// Lost 2..11 span 20..200 ms = 180 ms > 150 ms: the window
			// collapses to 2400 (then grows by the 1200 acknowledged bytes
			// of 12, sent after the collapse ended the recovery period).
			name: "established", pre: firstSample,
			ack:       ackFrame([2]uint64{12, 12}),
			wantAcked: []uint64{12}, wantLost: seq(2, 11), wantCwnd: 3600,
		},
		{
			// 6 acknowledged breaks the run: 2..5 span 60 ms and 7..11 80 ms.
			// One congestion event halves 13200.
			name: "broken by an acknowledged packet", pre: firstSample,
			ack:       ackFrame([2]uint64{12, 12}, [2]uint64{6, 6}),
			wantAcked: []uint64{6, 12}, wantLost: []uint64{2, 3, 4, 5, 7, 8, 9, 10, 11}, wantCwnd: 6600,
		},
		{
			// Without an earlier RTT sample no persistent congestion:
			// 12000 halves.
			name:      "not before the first RTT sample",
			ack:       ackFrame([2]uint64{12, 12}),
			wantAcked: []uint64{12}, wantLost: seq(2, 11), wantCwnd: 6000,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			steps := append(append(append([]lossStep{}, tt.pre...), train...), lossStep{
				at: 230 * ms, space: appData, ack: tt.ack,
				wantAcked: tt.wantAcked, wantLost: tt.wantLost, wantCwnd: tt.wantCwnd,
			})
			h := runLossScript(t, Config{IsServer: true, Congestion: AlgorithmNewReno}, true, steps)
			if tt.name == "established" && h.r.MinRTT() != 10*ms {
				t.Errorf("min_rtt %v, want the latest sample", h.r.MinRTT())
			}
		})
	}
}
