package wire

import "slices"

// AckRange is a range of acknowledged packet numbers, Smallest to Largest
// inclusive.
type AckRange struct {
	Smallest, Largest uint64
}

// AckFrame is an ACK frame (type 0x02) or, with ECN set, an ACK frame with
// ECN counts (type 0x03), RFC 9000 §19.3.
//
// Ranges are in descending order: Ranges[0] holds the Largest Acknowledged.
// To be encoded, a frame needs at least one range, every range needs
// Smallest <= Largest, and each range must lie below the previous one with
// at least one unacknowledged packet between them
// (Ranges[i].Largest+2 <= Ranges[i-1].Smallest). Parsed frames always
// satisfy this; encoding a frame that does not is a bug in the caller and
// panics.
type AckFrame struct {
	Ranges   []AckRange
	AckDelay uint64 // the raw ACK Delay field; scale by 2^ack_delay_exponent microseconds
	ECN      bool   // type 0x03: ECT0, ECT1 and ECNCE are present
	ECT0     uint64
	ECT1     uint64
	ECNCE    uint64
}

// LargestAcked returns the Largest Acknowledged field: Ranges[0].Largest, or
// 0 for a frame without ranges.
func (f *AckFrame) LargestAcked() uint64 {
	if len(f.Ranges) == 0 {
		return 0
	}
	return f.Ranges[0].Largest
}

// Len returns the encoded length of f with all its ranges. It panics if f has
// no ranges.
func (f *AckFrame) Len() int {
	if len(f.Ranges) == 0 {
		panic("wire: ACK frame without ranges")
	}
	n := f.fixedLen() + VarintLen(uint64(len(f.Ranges)-1))
	for i := 1; i < len(f.Ranges); i++ {
		n += ackRangeLen(f.Ranges[i-1], f.Ranges[i])
	}
	return n
}

// Append appends f with all its ranges. It panics if f has no ranges or its
// ranges are not as AckFrame describes.
func (f *AckFrame) Append(b []byte) []byte {
	if len(f.Ranges) == 0 {
		panic("wire: ACK frame without ranges")
	}
	return f.appendRanges(b, len(f.Ranges))
}

// AppendAckFrameLimit appends f using at most limit bytes. If all ranges do
// not fit, it writes as many as fit, newest (highest) first, and drops the
// oldest; the receiver then simply sees those packets as not acknowledged
// yet. It returns ok=false and b unchanged if not even the first range fits
// (or f has no ranges).
func AppendAckFrameLimit(b []byte, f *AckFrame, limit int) (out []byte, ok bool) {
	if len(f.Ranges) == 0 {
		return b, false
	}
	fixed := f.fixedLen()
	if fixed+1 > limit { // a Range Count of 0 takes one byte
		return b, false
	}
	k := 1      // ranges that fit so far
	ranges := 0 // bytes of Ranges[1:k]
	for k < len(f.Ranges) {
		next := ranges + ackRangeLen(f.Ranges[k-1], f.Ranges[k])
		if fixed+VarintLen(uint64(k))+next > limit {
			break
		}
		ranges = next
		k++
	}
	return f.appendRanges(b, k), true
}

func (f *AckFrame) frameType() FrameType {
	if f.ECN {
		return FrameTypeAckECN
	}
	return FrameTypeAck
}

// fixedLen is the length of every field but ACK Range Count and the ACK
// Ranges after the first.
func (f *AckFrame) fixedLen() int {
	r := f.Ranges[0]
	n := 1 + VarintLen(r.Largest) + VarintLen(f.AckDelay) + VarintLen(r.Largest-r.Smallest)
	if f.ECN {
		n += VarintLen(f.ECT0) + VarintLen(f.ECT1) + VarintLen(f.ECNCE)
	}
	return n
}

// ackRangeLen is the length of the Gap and ACK Range Length fields that
// encode r after prev (RFC 9000 §19.3.1).
func ackRangeLen(prev, r AckRange) int {
	return VarintLen(prev.Smallest-r.Largest-2) + VarintLen(r.Largest-r.Smallest)
}

// appendRanges appends f with its first k ranges.
func (f *AckFrame) appendRanges(b []byte, k int) []byte {
	r := f.Ranges[0]
	b = append(b, byte(f.frameType()))
	b = AppendVarint(b, r.Largest)
	b = AppendVarint(b, f.AckDelay)
	b = AppendVarint(b, uint64(k-1))
	b = AppendVarint(b, r.Largest-r.Smallest)
	for i := 1; i < k; i++ {
		prev, r := f.Ranges[i-1], f.Ranges[i]
		// RFC 9000 §19.3.1: largest = previous_smallest - gap - 2, and
		// smallest = largest - ack_range. Invalid ranges underflow to a
		// value above 2^62-1, and AppendVarint panics.
		b = AppendVarint(b, prev.Smallest-r.Largest-2)
		b = AppendVarint(b, r.Largest-r.Smallest)
	}
	if f.ECN {
		b = AppendVarint(b, f.ECT0)
		b = AppendVarint(b, f.ECT1)
		b = AppendVarint(b, f.ECNCE)
	}
	return b
}

// ParseAckFrame parses an ACK frame (type 0x02 or 0x03) at the start of b.
// It appends the ranges to ranges[:0] and returns them in the frame's
// Ranges, so a caller that passes the previous frame's Ranges back in parses
// without allocating. On error the returned frame's Ranges is ranges[:0]
// (possibly grown), for reuse.
//
// A range that reaches below packet number 0 is a FRAME_ENCODING_ERROR (RFC
// 9000 §19.3.1). The work is bounded by the input: an ACK Range Count larger
// than the rest of b could hold fails before anything is allocated.
func ParseAckFrame(b []byte, ranges []AckRange) (AckFrame, int, error) {
	ranges = ranges[:0]
	fail := AckFrame{Ranges: ranges}
	if len(b) == 0 || (b[0] != byte(FrameTypeAck) && b[0] != byte(FrameTypeAckECN)) {
		return fail, 0, frameError(FrameEncodingError, FrameTypeAck, "not an ACK frame")
	}
	t := FrameType(b[0])
	n := 1
	largest, err := readVarintField(b, &n, t, "truncated largest acknowledged")
	if err != nil {
		return fail, 0, err
	}
	delay, err := readVarintField(b, &n, t, "truncated ACK delay")
	if err != nil {
		return fail, 0, err
	}
	count, err := readVarintField(b, &n, t, "truncated ACK range count")
	if err != nil {
		return fail, 0, err
	}
	first, err := readVarintField(b, &n, t, "truncated first ACK range")
	if err != nil {
		return fail, 0, err
	}
	if first > largest {
		return fail, 0, frameError(FrameEncodingError, t, "first ACK range below packet 0")
	}
	// Each further range takes at least two bytes (Gap and ACK Range
	// Length); a count the rest of b cannot hold fails now, before any
	// allocation or loop sized by it.
	if count > uint64(len(b)-n)/2 {
		return fail, 0, frameError(FrameEncodingError, t, "ACK range count exceeds the frame")
	}
	ranges = slices.Grow(ranges, int(count)+1)
	fail.Ranges = ranges
	smallest := largest - first
	ranges = append(ranges, AckRange{Smallest: smallest, Largest: largest})
	for range count {
		gap, err := readVarintField(b, &n, t, "truncated ACK gap")
		if err != nil {
			return fail, 0, err
		}
		length, err := readVarintField(b, &n, t, "truncated ACK range length")
		if err != nil {
			return fail, 0, err
		}
		// largest = previous_smallest - gap - 2 (RFC 9000 §19.3.1); gap is
		// below 2^62, so gap+2 cannot overflow.
		if gap+2 > smallest {
			return fail, 0, frameError(FrameEncodingError, t, "ACK gap below packet 0")
		}
		largest = smallest - gap - 2
		if length > largest {
			return fail, 0, frameError(FrameEncodingError, t, "ACK range below packet 0")
		}
		smallest = largest - length
		ranges = append(ranges, AckRange{Smallest: smallest, Largest: largest})
	}
	f := AckFrame{Ranges: ranges, AckDelay: delay}
	if t == FrameTypeAckECN {
		f.ECN = true
		if f.ECT0, err = readVarintField(b, &n, t, "truncated ECT0 count"); err != nil {
			return fail, 0, err
		}
		if f.ECT1, err = readVarintField(b, &n, t, "truncated ECT1 count"); err != nil {
			return fail, 0, err
		}
		if f.ECNCE, err = readVarintField(b, &n, t, "truncated ECN-CE count"); err != nil {
			return fail, 0, err
		}
	}
	return f, n, nil
}
