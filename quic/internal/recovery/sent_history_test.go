package recovery

import (
	"testing"
	"time"

	"github.com/tsumugi-quic/tsumugi/sched"
)

func TestSentHistory(t *testing.T) {
	var h sentHistory
	recs := map[uint64]*sched.Record{}
	push := func(pn uint64) {
		rec := &sched.Record{PacketNumber: pn}
		recs[pn] = rec
		h.push(rec)
	}
	pns := func() []uint64 {
		var out []uint64
		for i := 0; i < h.len(); i++ {
			if s := h.at(i); s.rec != nil {
				out = append(out, s.pn)
			}
		}
		return out
	}
	// Wrap around the ring several times with holes at the front.
	next := uint64(0)
	for round := 0; round < 50; round++ {
		for i := 0; i < 5; i++ {
			push(next)
			next++
		}
		// Take the oldest three (in the middle of the ring too).
		for i := 0; i < 3; i++ {
			if rec := h.take(i); rec == nil {
				t.Fatalf("round %d: hole at %d", round, i)
			}
		}
		h.trim()
	}
	got := pns()
	if len(got) != 100 || h.live != 100 {
		t.Fatalf("%d live packets (%d counted), want 100", len(got), h.live)
	}
	for i := 1; i < len(got); i++ {
		if got[i] <= got[i-1] {
			t.Fatalf("out of order: %v", got)
		}
	}
	// search finds the first slot at or above a packet number.
	for _, pn := range got {
		if i := h.search(pn); h.at(i).pn != pn {
			t.Errorf("search(%d) -> slot %d holding %d", pn, i, h.at(i).pn)
		}
	}
	if i := h.search(next + 5); i != h.len() {
		t.Errorf("search past the end = %d, want %d", i, h.len())
	}
	// A packet number out of order is inserted in place.
	var o sentHistory
	for _, pn := range []uint64{1, 5, 3, 9, 0} {
		o.push(&sched.Record{PacketNumber: pn})
	}
	var order []uint64
	for i := 0; i < o.len(); i++ {
		order = append(order, o.at(i).pn)
	}
	if !equalU64(order, []uint64{0, 1, 3, 5, 9}) {
		t.Errorf("order %v", order)
	}
	// Holes at the back are trimmed too; clear reports what is left.
	o.take(4)
	o.take(3)
	o.trim()
	if o.len() != 3 {
		t.Errorf("len %d after trimming the back", o.len())
	}
	var cleared []uint64
	o.clear(func(rec *sched.Record) { cleared = append(cleared, rec.PacketNumber) })
	if !equalU64(cleared, []uint64{0, 1, 3}) || o.len() != 0 || o.live != 0 {
		t.Errorf("cleared %v, len %d", cleared, o.len())
	}
}

func TestSentHistoryBound(t *testing.T) {
	// Packets that carry only ACK frames and are never acknowledged: the
	// history stays bounded, giving up the oldest as lost.
	h := newHarness(t, Config{IsServer: true})
	for pn := uint64(0); pn < maxSentHistory+10; pn++ {
		h.send(sched.AppData, pn, time.Duration(pn)*time.Microsecond, false)
	}
	if n := h.r.spaces[sched.AppData].sent.len(); n != maxSentHistory {
		t.Errorf("history holds %d packets, want %d", n, maxSentHistory)
	}
	if !equalU64(h.lost, seq(0, 9)) {
		t.Errorf("lost %v", h.lost)
	}
}
