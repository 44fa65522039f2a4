package recovery

import (
	"testing"
	"time"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

// rxPacket is a packet arriving at a Received in a script.
type rxPacket struct {
	pn      uint64
	at      time.Duration
	notElic bool // not ack-eliciting
	ecn     ECNCodepoint
	dup     bool // expected duplicate
	// AckNeeded right after it, and the deadline (-1: none).
	needed   bool
	deadline time.Duration
	ackSent  bool // send an ACK frame (OnAckSent) after the checks
}

func TestReceivedAckTiming(t *testing.T) {
	appCfg := ReceivedConfig{MaxAckDelay: 25 * ms}
	tests := []struct {
		name    string
		cfg     ReceivedConfig
		packets []rxPacket
	}{
		{
			name: "every second ack-eliciting packet", cfg: appCfg,
			packets: []rxPacket{
				{pn: 0, at: 0, needed: false, deadline: 25 * ms},
				{pn: 1, at: 5 * ms, needed: true, deadline: 5 * ms, ackSent: true},
				{pn: 2, at: 6 * ms, needed: false, deadline: 31 * ms},
				{pn: 3, at: 7 * ms, needed: true, deadline: 7 * ms},
			},
		},
		{
			name: "threshold of 4", cfg: ReceivedConfig{MaxAckDelay: 25 * ms, AckElicitingThreshold: 4},
			packets: []rxPacket{
				{pn: 0, at: 0, deadline: 25 * ms},
				{pn: 1, at: 1 * ms, deadline: 25 * ms},
				{pn: 2, at: 2 * ms, deadline: 25 * ms},
				{pn: 3, at: 3 * ms, needed: true, deadline: 3 * ms},
			},
		},
		{
			name: "gap: immediate", cfg: appCfg,
			packets: []rxPacket{
				{pn: 0, at: 0, deadline: 25 * ms, ackSent: true},
				{pn: 2, at: 1 * ms, needed: true, deadline: 1 * ms, ackSent: true},
				// Reordered: below the largest ack-eliciting packet.
				{pn: 1, at: 2 * ms, needed: true, deadline: 2 * ms, ackSent: true},
				{pn: 3, at: 3 * ms, deadline: 28 * ms},
			},
		},
		{
			// A gap filled by packets that are not ack-eliciting is no gap.
			name: "non-ack-eliciting packets", cfg: appCfg,
			packets: []rxPacket{
				{pn: 0, at: 0, notElic: true, deadline: -1},
				{pn: 1, at: 1 * ms, deadline: 26 * ms},
				{pn: 2, at: 2 * ms, notElic: true, deadline: 26 * ms},
				{pn: 3, at: 3 * ms, needed: true, deadline: 3 * ms, ackSent: true},
				{pn: 4, at: 4 * ms, notElic: true, deadline: -1},
				{pn: 6, at: 5 * ms, notElic: true, deadline: -1}, // gaps alone never elicit
			},
		},
		{
			name: "ECN-CE: immediate", cfg: appCfg,
			packets: []rxPacket{
				{pn: 0, at: 0, ecn: ECNCE, needed: true, deadline: 0, ackSent: true},
				{pn: 1, at: 1 * ms, ecn: ECNCE, notElic: true, deadline: -1},
			},
		},
		{
			name: "deadline passes", cfg: appCfg,
			packets: []rxPacket{
				{pn: 0, at: 0, deadline: 25 * ms},
				// A non-eliciting packet changes nothing; at 25 ms it is due.
				{pn: 1, at: 25 * ms, notElic: true, needed: true, deadline: 25 * ms},
			},
		},
		{
			name: "Initial and Handshake: no delay", cfg: ReceivedConfig{},
			packets: []rxPacket{
				{pn: 0, at: 0, needed: true, deadline: 0, ackSent: true},
				{pn: 1, at: 1 * ms, needed: true, deadline: 1 * ms},
			},
		},
		{
			name: "duplicates", cfg: appCfg,
			packets: []rxPacket{
				{pn: 0, at: 0, deadline: 25 * ms, ackSent: true},
				{pn: 0, at: 1 * ms, dup: true, deadline: -1},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Received
			r.Init(tt.cfg)
			for i, p := range tt.packets {
				now := testBase.Add(p.at)
				if dup := r.OnPacket(p.pn, !p.notElic, p.ecn, now); dup != p.dup {
					t.Errorf("packet %d (pn %d): duplicate %v", i, p.pn, dup)
				}
				if got := r.AckNeeded(now); got != p.needed {
					t.Errorf("packet %d (pn %d): AckNeeded %v", i, p.pn, got)
				}
				d := r.AckDeadline()
				if p.deadline < 0 && !d.IsZero() || p.deadline >= 0 && !d.Equal(testBase.Add(p.deadline)) {
					t.Errorf("packet %d (pn %d): deadline %v (zero %v), want %v", i, p.pn, d.Sub(testBase), d.IsZero(), p.deadline)
				}
				if p.ackSent {
					r.OnAckSent()
				}
			}
		})
	}
}

func rangesOf(f *wire.AckFrame) [][2]uint64 {
	var out [][2]uint64
	for _, r := range f.Ranges {
		out = append(out, [2]uint64{r.Smallest, r.Largest})
	}
	return out
}

func equalRanges(a, b [][2]uint64) bool {
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

func TestReceivedRanges(t *testing.T) {
	tests := []struct {
		name     string
		cfg      ReceivedConfig
		pns      []uint64
		ackOfAck int64 // OnAckOfAck(largest) when >= 0
		want     [][2]uint64
		dups     []uint64 // IsDuplicate true
		fresh    []uint64 // IsDuplicate false
		largest  uint64
	}{
		{
			name: "descending ranges", pns: []uint64{0, 1, 2, 5, 6, 9}, ackOfAck: -1,
			want: [][2]uint64{{9, 9}, {5, 6}, {0, 2}}, dups: []uint64{0, 2, 5, 9}, fresh: []uint64{3, 4, 7, 8, 10},
			largest: 9,
		},
		{
			name: "out of order merge", pns: []uint64{4, 2, 3, 0, 1}, ackOfAck: -1,
			want: [][2]uint64{{0, 4}}, largest: 4,
		},
		{
			// The oldest range goes, and with it everything below the next.
			name: "bounded", cfg: ReceivedConfig{MaxAckRanges: 3}, pns: []uint64{0, 2, 4, 6, 8, 10}, ackOfAck: -1,
			want: [][2]uint64{{10, 10}, {8, 8}, {6, 6}}, dups: []uint64{0, 1, 3, 5}, fresh: []uint64{7, 9, 11},
			largest: 10,
		},
		{
			// The peer saw our ACK of up to 5: stop acknowledging up to 5,
			// and refuse packets there.
			name: "ack of ack", pns: []uint64{0, 1, 2, 3, 4, 5, 7, 8, 9}, ackOfAck: 5,
			want: [][2]uint64{{7, 9}}, dups: []uint64{3, 5}, fresh: []uint64{6, 10},
			largest: 9,
		},
		{
			name: "ack of ack of everything", pns: []uint64{0, 1, 2}, ackOfAck: 2,
			want: nil, dups: []uint64{0, 1, 2}, fresh: []uint64{3}, largest: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Received
			r.Init(tt.cfg)
			for _, pn := range tt.pns {
				r.OnPacket(pn, true, NotECT, testBase)
			}
			if tt.ackOfAck >= 0 {
				r.OnAckOfAck(uint64(tt.ackOfAck))
			}
			var f wire.AckFrame
			ok := r.AppendAck(&f, testBase, 3)
			if got := rangesOf(&f); !equalRanges(got, tt.want) || ok != (tt.want != nil) {
				t.Errorf("ranges %v (ok %v), want %v", got, ok, tt.want)
			}
			for _, pn := range tt.dups {
				if !r.IsDuplicate(pn) {
					t.Errorf("IsDuplicate(%d) = false", pn)
				}
			}
			for _, pn := range tt.fresh {
				if r.IsDuplicate(pn) {
					t.Errorf("IsDuplicate(%d) = true", pn)
				}
			}
			if l, ok := r.Largest(); !ok || l != tt.largest {
				t.Errorf("Largest %d %v, want %d", l, ok, tt.largest)
			}
		})
	}
}

func TestReceivedAckOfAckNoSpuriousGap(t *testing.T) {
	// After pruning, the next packet in order is not "past a gap".
	var r Received
	r.Init(ReceivedConfig{MaxAckDelay: 25 * ms})
	r.OnPacket(0, true, NotECT, testBase)
	r.OnPacket(1, true, NotECT, testBase)
	r.OnAckSent()
	r.OnAckOfAck(1)
	r.OnPacket(2, true, NotECT, testBase)
	if r.AckNeeded(testBase) {
		t.Error("in-order packet after ack-of-ack made an ACK due at once")
	}
}

func TestReceivedAckDelayAndECN(t *testing.T) {
	var r Received
	r.Init(ReceivedConfig{MaxAckDelay: 25 * ms})
	r.OnPacket(0, true, ECT0, testBase)
	r.OnPacket(2, true, ECT0, testBase.Add(2*ms))
	r.OnPacket(1, true, ECNCE, testBase.Add(3*ms)) // not the largest: the delay counts from 2
	r.OnPacket(3, false, ECT1, testBase.Add(4*ms))
	r.OnPacket(3, true, ECNCE, testBase.Add(5*ms)) // duplicate: not counted
	var f wire.AckFrame
	if !r.AppendAck(&f, testBase.Add(14*ms), 3) {
		t.Fatal("nothing to acknowledge")
	}
	// Largest 3 arrived at 4 ms: 10 ms = 10000 us >> 3 = 1250.
	if f.AckDelay != 1250 {
		t.Errorf("AckDelay %d, want 1250", f.AckDelay)
	}
	if !f.ECN || f.ECT0 != 2 || f.ECT1 != 1 || f.ECNCE != 1 {
		t.Errorf("ECN %v %d %d %d", f.ECN, f.ECT0, f.ECT1, f.ECNCE)
	}
	// Without any ECN marks the frame is a plain ACK.
	var r2 Received
	r2.OnPacket(0, true, NotECT, testBase)
	r2.AppendAck(&f, testBase, 3)
	if f.ECN || f.AckDelay != 0 {
		t.Errorf("plain ACK: ECN %v delay %d", f.ECN, f.AckDelay)
	}
	if r2.AckElicitingSinceAck() != 1 || !r2.HasUnacked() {
		t.Error("counters")
	}
	r2.OnAckSent()
	if r2.AckElicitingSinceAck() != 0 || r2.HasUnacked() || r2.AckNeeded(testBase) {
		t.Error("counters after OnAckSent")
	}
}

func TestReceivedAppendAckAllocs(t *testing.T) {
	var r Received
	r.Init(ReceivedConfig{MaxAckDelay: 25 * ms})
	for pn := uint64(0); pn < 100; pn += 2 {
		r.OnPacket(pn, true, NotECT, testBase)
	}
	f := wire.AckFrame{Ranges: make([]wire.AckRange, 0, 64)}
	allocs := testing.AllocsPerRun(100, func() {
		r.AppendAck(&f, testBase, 3)
	})
	if allocs != 0 || len(f.Ranges) != 50 {
		t.Errorf("%v allocs, %d ranges", allocs, len(f.Ranges))
	}
}
