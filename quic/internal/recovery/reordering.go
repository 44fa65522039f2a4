package recovery

import (
	"time"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

// Adaptive loss thresholds (RFC 9002 §6.1.1 and §6.1.2 allow them): a path
// that reorders packets by more than kPacketThreshold, or delays them by
// more than 9/8 of an RTT, makes the fixed thresholds declare packets lost
// that were only late, and every such "loss" halves the congestion window.
// When a packet declared lost is acknowledged after all, the loss was
// spurious: the packet threshold grows to the reordering seen, and the time
// threshold by 1/8 of an RTT, up to two RTTs.

const (
	// lostRingSize is how many packets declared lost a space remembers,
	// to recognise spurious losses.
	lostRingSize = 64
	// maxPacketThreshold bounds the adaptive packet threshold.
	maxPacketThreshold = 256
	// maxTimeThresholdNum bounds the time threshold at 16/8 RTT.
	maxTimeThresholdNum = 16
)

// lostPacket is a packet declared lost, remembered for a while.
type lostPacket struct {
	pn  uint64
	gap uint64 // largest acknowledged minus pn when it was declared lost
	set bool
}

// lostRing remembers the latest packets declared lost in one space.
type lostRing struct {
	e    [lostRingSize]lostPacket
	next int
	n    int // entries set
}

func (l *lostRing) add(pn, gap uint64) {
	if l.e[l.next].set {
		l.n--
	}
	l.e[l.next] = lostPacket{pn: pn, gap: gap, set: true}
	l.next = (l.next + 1) % lostRingSize
	l.n++
}

// checkSpurious looks for packets declared lost that ack acknowledges, and
// adapts the thresholds to the reordering they show.
func (r *Recovery) checkSpurious(s *spaceState, ack *wire.AckFrame) {
	if s.lost == nil || s.lost.n == 0 {
		return
	}
	for i := range s.lost.e {
		e := &s.lost.e[i]
		if !e.set {
			continue
		}
		for _, rg := range ack.Ranges {
			if e.pn < rg.Smallest || e.pn > rg.Largest {
				continue
			}
			r.packetThreshold = min(max(r.packetThreshold, e.gap+1), maxPacketThreshold)
			r.timeThresholdNum = min(r.timeThresholdNum+1, maxTimeThresholdNum)
			r.spuriousLosses++
			e.set = false
			s.lost.n--
			break
		}
	}
}

// lossDelay is the time threshold: the adaptive multiple of
// max(smoothed_rtt, latest_rtt), at least kGranularity.
func (r *Recovery) lossDelay() time.Duration {
	d := max(r.rtt.Smoothed(), r.rtt.Latest())
	d = d * time.Duration(r.timeThresholdNum) / timeThresholdDen
	return max(d, Granularity)
}

// SpuriousLosses returns how many packets were declared lost and then
// acknowledged.
func (r *Recovery) SpuriousLosses() uint64 { return r.spuriousLosses }
