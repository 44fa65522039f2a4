package stream

import "github.com/tsumugi-quic/tsumugi/internal/rangeset"

// SendBuffer holds the bytes of an outgoing byte stream from the lowest
// unacknowledged offset to the end of what was written, and tracks which
// ranges were sent, acknowledged and declared lost. Streams use it for
// STREAM data and the connection for CRYPTO data.
//
// The bytes live in pooled 16 KiB chunks; a chunk goes back to the pool as
// soon as every byte in it is acknowledged. Acknowledged ranges above the
// lowest unacknowledged offset, and lost ranges waiting to be re-sent, are
// kept as range sets, so their cost grows with the number of holes, which
// the sender itself bounds through its packets.
//
// A SendBuffer is not safe for concurrent use.
type SendBuffer struct {
	ring  chunkRing
	base  uint64       // lowest unacknowledged offset; chunks below are freed
	next  uint64       // first byte never sent
	end   uint64       // end of written data
	lost  rangeset.Set // sent, declared lost, not yet re-sent; within [base, next)
	acked rangeset.Set // acknowledged ranges above base
}

// Write appends p to the buffer. It never blocks and has no limit: callers
// that need back-pressure check Buffered first.
func (b *SendBuffer) Write(p []byte) {
	if len(p) == 0 {
		return
	}
	newEnd := b.end + uint64(len(p))
	b.ring = b.ring.grow(chunksSpanned(b.base, newEnd), b.base>>chunkShift)
	off := b.end
	for len(p) > 0 {
		s := b.ring.slot(off >> chunkShift)
		if *s == nil {
			*s = getChunk()
		}
		n := copy((*s)[off&chunkMask:], p)
		p = p[n:]
		off += uint64(n)
	}
	b.end = newEnd
}

// Buffered returns how many bytes the buffer holds: written and not yet
// acknowledged, counted from the lowest unacknowledged offset.
func (b *SendBuffer) Buffered() int { return int(b.end - b.base) }

// Written returns the offset one past the last byte written.
func (b *SendBuffer) Written() uint64 { return b.end }

// Sent returns the offset one past the highest byte ever sent.
func (b *SendBuffer) Sent() uint64 { return b.next }

// Acked reports whether every byte written so far is acknowledged.
func (b *SendBuffer) Acked() bool { return b.base == b.end }

// Pending reports whether there is data to send: ranges declared lost, or
// bytes never sent.
func (b *SendBuffer) Pending() bool { return !b.lost.Empty() || b.next < b.end }

// hasLost reports whether a range declared lost waits to be re-sent.
func (b *SendBuffer) hasLost() bool { return !b.lost.Empty() }

// firstLost returns the lowest range declared lost.
func (b *SendBuffer) firstLost() (off, n uint64, ok bool) {
	if b.lost.Empty() {
		return 0, 0, false
	}
	r := b.lost.Range(0)
	return r.Start, r.Len(), true
}

// Next returns the next data to send, at most max bytes: the lowest range
// declared lost if there is one, otherwise bytes never sent. It marks what
// it returns as sent. data aliases the buffer and stays valid until that
// range is acknowledged (OnAcked) or the buffer released; it ends at a
// chunk boundary, so it can be shorter than what is pending: call Next
// again. It returns empty data when nothing is pending.
func (b *SendBuffer) Next(max int) (off uint64, data []byte) {
	var n uint64
	if lo, ln, ok := b.firstLost(); ok {
		off, n = lo, ln
	} else {
		off, n = b.next, b.end-b.next
	}
	if max <= 0 || n == 0 {
		return off, nil
	}
	n = min(n, uint64(max), chunkSize-off&chunkMask)
	c := *b.ring.slot(off >> chunkShift)
	data = c[off&chunkMask : off&chunkMask+n]
	b.markSent(off, n)
	return off, data
}

// appendData appends the n bytes at offset off to dst.
func (b *SendBuffer) appendData(dst []byte, off uint64, n int) []byte {
	for n > 0 {
		c := *b.ring.slot(off >> chunkShift)
		i := int(off & chunkMask)
		m := min(n, chunkSize-i)
		dst = append(dst, c[i:i+m]...)
		n -= m
		off += uint64(m)
	}
	return dst
}

// markSent records that [off, off+n) went into a packet: lost ranges are no
// longer lost, new data is no longer new.
func (b *SendBuffer) markSent(off, n uint64) {
	end := off + n
	if end > b.next {
		if off > b.next {
			off = b.next // cannot happen: data is sent in order
		}
		b.lost.Remove(off, b.next)
		b.next = end
		return
	}
	b.lost.Remove(off, end)
}

// OnAcked records that [off, off+n) was acknowledged and frees the chunks
// below the lowest unacknowledged offset.
func (b *SendBuffer) OnAcked(off, n uint64) {
	end := min(off+n, b.next)
	if off < b.base {
		off = b.base
	}
	if end <= off {
		return
	}
	b.lost.Remove(off, end)
	old := b.base
	if off == b.base && b.acked.Empty() {
		b.base = end
	} else {
		b.acked.Add(off, end)
		if b.acked.Min() == b.base {
			b.base = b.acked.Range(0).End
			b.acked.RemoveFirst()
		}
	}
	if len(b.ring) > 0 {
		last := b.base >> chunkShift // the chunk holding base, kept for the next Write...
		if b.base == b.end {
			last++ // ...unless everything is acknowledged: an idle stream holds no chunk
		}
		for c := old >> chunkShift; c < last; c++ {
			if s := b.ring.slot(c); *s != nil {
				putChunk(*s)
				*s = nil
			}
		}
	}
}

// OnLost records that [off, off+n) was declared lost: the parts of it not
// acknowledged meanwhile will be sent again.
func (b *SendBuffer) OnLost(off, n uint64) {
	end := min(off+n, b.next)
	if off < b.base {
		off = b.base
	}
	if end <= off {
		return
	}
	b.lost.Add(off, end)
	for i := 0; i < b.acked.NumRanges(); i++ {
		r := b.acked.Range(i)
		if r.Start >= end {
			break
		}
		if r.End > off {
			b.lost.Remove(max(r.Start, off), min(r.End, end))
		}
	}
}

// Release gives every chunk back to the pool and forgets the data, as when
// the stream is reset: afterwards nothing is pending and everything counts
// as acknowledged.
func (b *SendBuffer) Release() {
	for i, c := range b.ring {
		if c != nil {
			putChunk(c)
			b.ring[i] = nil
		}
	}
	b.ring = nil
	b.base, b.next = b.end, b.end
	b.lost = rangeset.Set{}
	b.acked = rangeset.Set{}
}
