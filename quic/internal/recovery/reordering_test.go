package recovery

import (
	"testing"
	"time"

	"github.com/tsumugi-quic/tsumugi/sched"
)

// TestSpuriousLossAdaptsThresholds: packets declared lost by the packet
// threshold and then acknowledged raise the packet threshold to the
// reordering they showed, and the time threshold by 1/8; the same
// reordering afterwards declares nothing lost.
func TestSpuriousLossAdaptsThresholds(t *testing.T) {
	h := newHarness(t, Config{})
	for pn := uint64(0); pn < 10; pn++ {
		h.send(sched.AppData, pn, time.Duration(pn)*time.Millisecond, true)
	}
	// 4..9 arrive first: 0..6 are 3 or more behind 9, and of them 0..3
	// were not acknowledged: declared lost.
	if err := h.ack(sched.AppData, 20*time.Millisecond, ackFrame([2]uint64{4, 9})); err != nil {
		t.Fatal(err)
	}
	h.expect([]uint64{4, 5, 6, 7, 8, 9}, []uint64{0, 1, 2, 3})
	if h.r.packetThreshold != packetThreshold {
		t.Fatalf("packet threshold %d before any spurious loss", h.r.packetThreshold)
	}
	// Then 0..3 arrive after all: the losses were spurious.
	if err := h.ack(sched.AppData, 21*time.Millisecond, ackFrame([2]uint64{0, 9})); err != nil {
		t.Fatal(err)
	}
	h.expect(nil, nil)
	if got := h.r.SpuriousLosses(); got != 4 {
		t.Fatalf("SpuriousLosses = %d, want 4", got)
	}
	if got, want := h.r.packetThreshold, uint64(10); got != want { // 9-0 behind, plus one
		t.Fatalf("packet threshold %d, want %d", got, want)
	}
	if got := h.r.timeThresholdNum; got != timeThresholdNum+4 {
		t.Fatalf("time threshold %d/8, want %d/8", got, timeThresholdNum+4)
	}
	// The same reordering again: nothing is declared lost by packet count.
	for pn := uint64(10); pn < 20; pn++ {
		h.send(sched.AppData, pn, 22*time.Millisecond, true)
	}
	if err := h.ack(sched.AppData, 23*time.Millisecond, ackFrame([2]uint64{14, 19})); err != nil {
		t.Fatal(err)
	}
	h.expect([]uint64{14, 15, 16, 17, 18, 19}, nil)
}
