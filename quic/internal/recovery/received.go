package recovery

import (
	"time"

	"github.com/tsumugi-quic/tsumugi/internal/rangeset"
	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

// ECNCodepoint is the ECN field of a received packet's IP header
// (RFC 3168 §5), with the values of its two bits.
type ECNCodepoint uint8

// ECN codepoints.
const (
	NotECT ECNCodepoint = 0b00
	ECT1   ECNCodepoint = 0b01
	ECT0   ECNCodepoint = 0b10
	ECNCE  ECNCodepoint = 0b11
)

// maxPacketNumber is the largest packet number, RFC 9000 §12.3; a larger
// one cannot be decoded and OnPacket rejects it as a duplicate.
const maxPacketNumber = 1<<62 - 1

// Defaults for ReceivedConfig.
const (
	// DefaultMaxAckRanges bounds the ranges a Received remembers.
	DefaultMaxAckRanges = 256
	// DefaultAckElicitingThreshold: an ACK frame after every second
	// ack-eliciting packet (RFC 9000 §13.2.2).
	DefaultAckElicitingThreshold = 2
)

// ReceivedConfig configures a Received.
type ReceivedConfig struct {
	// MaxAckDelay is our max_ack_delay: how long an ack-eliciting packet
	// may wait for its acknowledgment. Zero acknowledges every
	// ack-eliciting packet at once, as the Initial and Handshake spaces
	// must (RFC 9000 §13.2.1).
	MaxAckDelay time.Duration
	// AckElicitingThreshold is how many ack-eliciting packets make an ACK
	// frame due at once (default 2).
	AckElicitingThreshold int
	// MaxAckRanges bounds the ranges remembered (default 256); beyond it
	// the oldest range is dropped and packets at or below it are no longer
	// accepted.
	MaxAckRanges int
}

// Received is the receiver's acknowledgment state for one packet number
// space, RFC 9000 §13.2: the packet numbers received, the ECN counts, and
// when an ACK frame is due. The zero value acknowledges every ack-eliciting
// packet immediately and keeps up to DefaultMaxAckRanges ranges; Init
// configures it otherwise.
//
// The connection calls IsDuplicate before processing a packet, OnPacket
// after processing it, and when AckNeeded (or whenever it sends a packet in
// the space and HasUnacked) AppendAck then OnAckSent. When a packet that
// carried an ACK frame is acknowledged, OnAckOfAck prunes what that frame
// covered.
type Received struct {
	ranges    rangeset.Set
	maxRanges int
	threshold int
	maxDelay  time.Duration

	// minPN is the lowest packet number still accepted: ranges below it
	// were dropped (bounded memory or acknowledged ACK frames), and packets
	// there are treated as duplicates (RFC 9000 §13.2.3).
	minPN uint64

	largest     uint64 // largest packet number received, kept even when pruned
	largestTime time.Time
	hasLargest  bool

	largestAckEliciting    uint64
	hasLargestAckEliciting bool

	// unackedEliciting counts ack-eliciting packets received since the
	// last ACK frame was sent; newSinceAck is set by any new packet.
	unackedEliciting int
	newSinceAck      bool
	deadline         time.Time // zero: no ACK frame due

	ect0, ect1, ce uint64
}

// Init configures r and clears it.
func (r *Received) Init(cfg ReceivedConfig) {
	*r = Received{ranges: r.ranges}
	r.ranges.Clear()
	r.maxDelay = max(cfg.MaxAckDelay, 0)
	r.threshold = cfg.AckElicitingThreshold
	r.maxRanges = cfg.MaxAckRanges
}

// SetAckElicitingThreshold changes how many ack-eliciting packets make an
// ACK frame due (at least 1; 0 means the default of 2).
func (r *Received) SetAckElicitingThreshold(n int) { r.threshold = max(n, 0) }

func (r *Received) ackThreshold() int {
	if r.threshold <= 0 {
		return DefaultAckElicitingThreshold
	}
	return r.threshold
}

func (r *Received) rangeLimit() int {
	if r.maxRanges <= 0 {
		return DefaultMaxAckRanges
	}
	return r.maxRanges
}

// IsDuplicate reports whether pn was received already, or is too old to be
// accepted.
func (r *Received) IsDuplicate(pn uint64) bool {
	return pn < r.minPN || r.ranges.Contains(pn)
}

// Largest returns the largest packet number received (for packet number
// decoding, RFC 9000 §17.1) and whether any packet was.
func (r *Received) Largest() (pn uint64, ok bool) { return r.largest, r.hasLargest }

// OnPacket records a packet that was received and processed at now, with
// the ECN codepoint of its datagram, and reports whether it was a duplicate
// (then nothing changes; RFC 9000 §13.4.1: duplicates do not count for
// ECN). An ACK frame becomes due at once (RFC 9000 §13.2.1) when an
// ack-eliciting packet arrives out of order (below the largest
// ack-eliciting packet, or past a gap), is marked ECN-CE, or makes
// AckElicitingThreshold packets; otherwise it is due MaxAckDelay after the
// first unacknowledged ack-eliciting packet. Packets that are not
// ack-eliciting never make an ACK frame due on their own.
func (r *Received) OnPacket(pn uint64, ackEliciting bool, ecn ECNCodepoint, now time.Time) (duplicate bool) {
	if r.IsDuplicate(pn) || pn > maxPacketNumber {
		return true
	}
	r.ranges.Add(pn, pn+1)
	if r.ranges.NumRanges() > r.rangeLimit() {
		// Forget the oldest range, and everything below the next one.
		r.ranges.RemoveFirst()
		r.minPN = r.ranges.Min()
	}
	if !r.hasLargest || pn > r.largest {
		r.largest, r.largestTime, r.hasLargest = pn, now, true
	}
	switch ecn {
	case ECT0:
		r.ect0++
	case ECT1:
		r.ect1++
	case ECNCE:
		r.ce++
	}
	r.newSinceAck = true
	if !ackEliciting {
		if ecn == ECNCE && r.unackedEliciting > 0 {
			r.ackNow(now)
		}
		return false
	}
	immediate := ecn == ECNCE
	if r.hasLargestAckEliciting {
		if pn < r.largestAckEliciting {
			immediate = true // reordered
		} else if lo := max(r.largestAckEliciting, r.minPN); !r.ranges.ContainsRange(lo, pn+1) {
			// Missing packets between the largest ack-eliciting packet
			// and this one (pruned ranges do not count as missing).
			immediate = true
		}
	}
	if !r.hasLargestAckEliciting || pn > r.largestAckEliciting {
		r.largestAckEliciting, r.hasLargestAckEliciting = pn, true
	}
	r.unackedEliciting++
	if immediate || r.unackedEliciting >= r.ackThreshold() || r.maxDelay == 0 {
		r.ackNow(now)
	} else if r.deadline.IsZero() {
		r.deadline = now.Add(r.maxDelay)
	}
	return false
}

// ackNow makes an ACK frame due at now (or keeps an earlier deadline).
func (r *Received) ackNow(now time.Time) {
	if r.deadline.IsZero() || now.Before(r.deadline) {
		r.deadline = now
	}
}

// AckNeeded reports whether an ACK frame is due at now.
func (r *Received) AckNeeded(now time.Time) bool {
	return !r.deadline.IsZero() && !now.Before(r.deadline)
}

// AckDeadline returns when an ACK frame is due, or the zero time if none
// is.
func (r *Received) AckDeadline() time.Time { return r.deadline }

// HasUnacked reports whether packets arrived since the last ACK frame was
// sent: an ACK frame is worth adding to any packet sent in the space
// (RFC 9000 §13.2.1).
func (r *Received) HasUnacked() bool { return r.newSinceAck }

// AckElicitingSinceAck returns the number of ack-eliciting packets
// received since the last ACK frame was sent.
func (r *Received) AckElicitingSinceAck() int { return r.unackedEliciting }

// AppendAck fills f for an ACK frame sent at now: the ranges, highest first,
// reusing f.Ranges's storage; the ACK Delay (time since the largest packet
// arrived, RFC 9000 §13.2.5) encoded with ackDelayExponent; and the ECN
// counts once any packet carried an ECN codepoint (RFC 9000 §13.4.1). It
// returns false, leaving f empty, when there is nothing to acknowledge.
// The ranges of a Received are at most MaxAckRanges; a packet too small
// for all of them is the encoder's business (wire.AppendAckFrameLimit keeps
// the newest).
func (r *Received) AppendAck(f *wire.AckFrame, now time.Time, ackDelayExponent uint8) bool {
	f.Ranges = f.Ranges[:0]
	f.AckDelay = 0
	f.ECN, f.ECT0, f.ECT1, f.ECNCE = false, 0, 0, 0
	n := r.ranges.NumRanges()
	if n == 0 {
		return false
	}
	for i := n - 1; i >= 0; i-- {
		rg := r.ranges.Range(i)
		f.Ranges = append(f.Ranges, wire.AckRange{Smallest: rg.Start, Largest: rg.End - 1})
	}
	if d := now.Sub(r.largestTime); d > 0 && f.Ranges[0].Largest == r.largest {
		f.AckDelay = uint64(d/time.Microsecond) >> min(ackDelayExponent, maxAckDelayExponent)
	}
	if r.ect0+r.ect1+r.ce > 0 {
		f.ECN, f.ECT0, f.ECT1, f.ECNCE = true, r.ect0, r.ect1, r.ce
	}
	return true
}

// OnAckSent records that an ACK frame went out: nothing is due until more
// packets arrive.
func (r *Received) OnAckSent() {
	r.unackedEliciting = 0
	r.newSinceAck = false
	r.deadline = time.Time{}
}

// OnAckOfAck records that the peer received an ACK frame whose Largest
// Acknowledged was largest: packets at or below it need no acknowledgment
// any more and are no longer accepted (RFC 9000 §13.2.4).
func (r *Received) OnAckOfAck(largest uint64) {
	if largest == ^uint64(0) || largest+1 <= r.minPN {
		return
	}
	r.minPN = largest + 1
	r.ranges.RemoveBelow(r.minPN)
}
