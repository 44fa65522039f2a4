package recovery

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
	"github.com/tsumugi-quic/tsumugi/sched"
)

// harness drives a Recovery with explicit times (offsets from base) and
// collects what its callbacks report.
type harness struct {
	t    *testing.T
	r    *Recovery
	base time.Time
	// What the callbacks reported since the last check, as packet numbers.
	acked, lost, discarded []uint64
	// outstanding holds every record handed to the Recovery and not yet
	// reported, to check that each is reported exactly once.
	outstanding map[*sched.Record]bool
}

var testBase = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func newHarness(t *testing.T, cfg Config) *harness {
	h := &harness{t: t, base: testBase, outstanding: map[*sched.Record]bool{}}
	take := func(list *[]uint64) func(*sched.Record) {
		return func(rec *sched.Record) {
			if !h.outstanding[rec] {
				t.Fatalf("record %v/%d reported twice or never sent", rec.Space, rec.PacketNumber)
			}
			delete(h.outstanding, rec)
			*list = append(*list, rec.PacketNumber)
		}
	}
	cfg.OnAcked = take(&h.acked)
	cfg.OnLost = take(&h.lost)
	cfg.OnDiscarded = take(&h.discarded)
	h.r = New(cfg, h.base)
	return h
}

func (h *harness) at(d time.Duration) time.Time { return h.base.Add(d) }

// send sends one packet of 1200 bytes.
func (h *harness) send(space sched.Space, pn uint64, at time.Duration, ackEliciting bool) *sched.Record {
	return h.sendSize(space, pn, at, ackEliciting, 1200)
}

func (h *harness) sendSize(space sched.Space, pn uint64, at time.Duration, ackEliciting bool, size int) *sched.Record {
	rec := &sched.Record{PacketNumber: pn, Space: space, SentBytes: size}
	if ackEliciting {
		rec.Add(sched.FrameRecord{Kind: sched.FramePing})
	} else {
		rec.Add(sched.FrameRecord{Kind: sched.FrameAck})
	}
	h.outstanding[rec] = true
	h.r.OnPacketSent(rec, h.at(at))
	return rec
}

// ackFrame builds an ACK frame from inclusive [smallest, largest] pairs,
// highest first.
func ackFrame(pairs ...[2]uint64) *wire.AckFrame {
	f := &wire.AckFrame{}
	for _, p := range pairs {
		f.Ranges = append(f.Ranges, wire.AckRange{Smallest: p[0], Largest: p[1]})
	}
	return f
}

func (h *harness) ack(space sched.Space, at time.Duration, f *wire.AckFrame) error {
	return h.r.OnAckReceived(space, f, 3, h.at(at))
}

// expect checks and clears what was reported.
func (h *harness) expect(acked, lost []uint64) {
	h.t.Helper()
	if !slices.Equal(h.acked, acked) {
		h.t.Errorf("acked %v, want %v", h.acked, acked)
	}
	if !slices.Equal(h.lost, lost) {
		h.t.Errorf("lost %v, want %v", h.lost, lost)
	}
	h.acked, h.lost = nil, nil
}

// expectTimer checks LossTimer: want < 0 means no timer.
func (h *harness) expectTimer(want time.Duration) {
	h.t.Helper()
	got := h.r.LossTimer()
	switch {
	case want < 0 && !got.IsZero():
		h.t.Errorf("LossTimer = %v, want none", got.Sub(h.base))
	case want >= 0 && got.IsZero():
		h.t.Errorf("LossTimer none, want %v", want)
	case want >= 0 && !got.Equal(h.at(want)):
		h.t.Errorf("LossTimer = %v, want %v", got.Sub(h.base), want)
	}
}

// checkInFlight verifies bytes in flight against the outstanding records.
func (h *harness) checkInFlight() {
	h.t.Helper()
	sum := 0
	for rec := range h.outstanding {
		if rec.InFlight {
			sum += rec.SentBytes
		}
	}
	if got := h.r.BytesInFlight(); got != sum {
		h.t.Errorf("BytesInFlight = %d, outstanding in-flight records hold %d", got, sum)
	}
}

func isCode(err error, code wire.ErrorCode) bool {
	var te *wire.TransportError
	return errors.As(err, &te) && te.Code == code
}
