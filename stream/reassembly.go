package stream

import (
	"errors"
	"math/bits"
	"sync"
)

// RecvBuffer reassembles a byte stream from pieces that may arrive out of
// order, overlapping or duplicated. Streams use it for STREAM data and the
// connection for CRYPTO data.
//
// Data is copied once, to its place in a chunk; chunks (16 KiB, pooled) are
// taken only where data arrives and given back once read. Out-of-order data
// is tracked with a presence bitmap per chunk, allocated only for chunks that
// hold data beyond the contiguous prefix: one bit per byte, so any pattern of
// gaps costs at most 1/8 of the buffered span, never a node per gap.
//
// A RecvBuffer is not safe for concurrent use.
type RecvBuffer struct {
	slots  []recvSlot // ring indexed by absolute chunk number
	read   uint64     // everything below was read
	contig uint64     // every byte in [read, contig) has arrived
	limit  uint64     // data must end at or before read+limit
}

// recvSlot is one chunk of a RecvBuffer and, while the chunk holds data
// beyond the contiguous prefix, its presence bitmap.
type recvSlot struct {
	data    *chunk
	present *bitmap
}

// bitmap has one bit per byte of a chunk.
type bitmap [chunkSize / 64]uint64

var bitmapPool = sync.Pool{New: func() any { return new(bitmap) }}

// ErrBeyondLimit is returned by (*RecvBuffer).Push for data past the limit.
var ErrBeyondLimit = errors.New("stream: data beyond the receive buffer's limit")

// NewRecvBuffer returns a buffer that accepts data up to limit bytes past
// its read offset (for CRYPTO data: RFC 9000 §7.5 asks for at least 4096).
func NewRecvBuffer(limit uint64) *RecvBuffer {
	return &RecvBuffer{limit: limit}
}

// Offset returns the read offset: every byte below it was read.
func (b *RecvBuffer) Offset() uint64 { return b.read }

// Readable returns how many bytes can be read now, in order.
func (b *RecvBuffer) Readable() int { return int(b.contig - b.read) }

// received returns the end of the contiguous data that has arrived.
func (b *RecvBuffer) received() uint64 { return b.contig }

// setLimit changes how far past the read offset data may reach.
func (b *RecvBuffer) setLimit(limit uint64) { b.limit = limit }

// Push stores data found at offset off. Bytes already received or read are
// ignored (duplicates and overlaps are fine). It returns ErrBeyondLimit, and
// stores nothing, if the data ends past Offset()+limit.
func (b *RecvBuffer) Push(off uint64, data []byte) error {
	end := off + uint64(len(data))
	if end < off || end > b.read+b.limit {
		return ErrBeyondLimit
	}
	if end <= b.contig {
		return nil // all of it arrived before
	}
	if off < b.contig {
		data = data[b.contig-off:]
		off = b.contig
	}
	b.ensureSlots(end)
	b.copyIn(off, data)
	if off == b.contig {
		b.advance(end)
	} else {
		b.mark(off, end)
	}
	return nil
}

// ensureSlots makes the ring cover the chunks from the read offset to the
// one holding byte end-1, plus one.
func (b *RecvBuffer) ensureSlots(end uint64) {
	need := chunksSpanned(b.read, end) + 1
	if need <= len(b.slots) {
		return
	}
	size := 4
	for size < need {
		size <<= 1
	}
	ns := make([]recvSlot, size)
	first := b.read >> chunkShift
	for i := range uint64(len(b.slots)) {
		n := first + i
		ns[n&uint64(size-1)] = b.slots[n&uint64(len(b.slots)-1)]
	}
	b.slots = ns
}

// at returns the slot of absolute chunk number n, or nil if the ring does
// not reach it.
func (b *RecvBuffer) at(n uint64) *recvSlot {
	if len(b.slots) == 0 || n-b.read>>chunkShift >= uint64(len(b.slots)) {
		return nil
	}
	return &b.slots[n&uint64(len(b.slots)-1)]
}

// copyIn copies data to offset off, taking chunks as needed.
func (b *RecvBuffer) copyIn(off uint64, data []byte) {
	for len(data) > 0 {
		s := b.at(off >> chunkShift)
		if s.data == nil {
			s.data = getChunk()
		}
		n := copy(s.data[off&chunkMask:], data)
		data = data[n:]
		off += uint64(n)
	}
}

// advance moves the contiguous end to end, then past any out-of-order data
// that now joins it, freeing the bitmaps it no longer needs.
func (b *RecvBuffer) advance(end uint64) {
	for n := b.contig >> chunkShift; n < end>>chunkShift; n++ {
		if s := b.at(n); s != nil && s.present != nil {
			putBitmap(s.present)
			s.present = nil
		}
	}
	b.contig = end
	for {
		n := b.contig >> chunkShift
		s := b.at(n)
		if s == nil || s.present == nil {
			return
		}
		i := s.present.firstClear(int(b.contig & chunkMask))
		b.contig = n<<chunkShift + uint64(i)
		if i < chunkSize {
			return
		}
		putBitmap(s.present)
		s.present = nil
	}
}

// mark records that [off, end) arrived ahead of the contiguous data.
func (b *RecvBuffer) mark(off, end uint64) {
	for off < end {
		s := b.at(off >> chunkShift)
		if s.present == nil {
			s.present = bitmapPool.Get().(*bitmap)
		}
		lo := int(off & chunkMask)
		hi := chunkSize
		if next := off&^chunkMask + chunkSize; end < next {
			hi = int(end & chunkMask)
		}
		s.present.set(lo, hi)
		off += uint64(hi - lo)
	}
}

// Read copies up to len(p) contiguous bytes into p, frees the chunks it
// finished, and returns how many it copied.
func (b *RecvBuffer) Read(p []byte) int {
	n := 0
	for n < len(p) && b.read < b.contig {
		s := b.at(b.read >> chunkShift)
		i := int(b.read & chunkMask)
		m := min(chunkSize-i, int(min(b.contig-b.read, uint64(len(p)-n))))
		copy(p[n:n+m], s.data[i:i+m])
		n += m
		b.read += uint64(m)
		if b.read&chunkMask == 0 {
			b.freeSlot(s)
		}
	}
	if b.read == b.contig && b.read&chunkMask != 0 {
		// Everything that arrived was read. Unless out-of-order data shares
		// the chunk, give it back: an idle stream holds no chunk.
		if s := b.at(b.read >> chunkShift); s != nil && s.present == nil && s.data != nil {
			putChunk(s.data)
			s.data = nil
		}
	}
	return n
}

// Peek copies into p up to len(p) contiguous bytes found off bytes past the
// read offset, without consuming them, and returns how many it copied.
func (b *RecvBuffer) Peek(off int, p []byte) int {
	if off < 0 {
		return 0
	}
	pos := b.read + uint64(off)
	n := 0
	for n < len(p) && pos < b.contig {
		s := b.at(pos >> chunkShift)
		i := int(pos & chunkMask)
		m := min(chunkSize-i, int(min(b.contig-pos, uint64(len(p)-n))))
		copy(p[n:n+m], s.data[i:i+m])
		n += m
		pos += uint64(m)
	}
	return n
}

// Release drops the buffered data and gives every chunk back to the pool,
// as when the reader abandons the stream. The read offset moves to the end of
// the contiguous data; data that arrived out of order is forgotten.
func (b *RecvBuffer) Release() {
	for i := range b.slots {
		b.freeSlot(&b.slots[i])
	}
	b.slots = nil
	b.read = b.contig
}

func (b *RecvBuffer) freeSlot(s *recvSlot) {
	if s.data != nil {
		putChunk(s.data)
		s.data = nil
	}
	if s.present != nil {
		putBitmap(s.present)
		s.present = nil
	}
}

func putBitmap(m *bitmap) {
	clear(m[:])
	bitmapPool.Put(m)
}

// set sets bits [lo, hi).
func (m *bitmap) set(lo, hi int) {
	for lo < hi {
		w := lo >> 6
		bit := lo & 63
		n := min(64-bit, hi-lo)
		mask := ^uint64(0)
		if n < 64 {
			mask = (uint64(1)<<n - 1) << bit
		}
		m[w] |= mask
		lo += n
	}
}

// firstClear returns the index of the first clear bit at or after i, or
// chunkSize if there is none.
func (m *bitmap) firstClear(i int) int {
	for i < chunkSize {
		w := ^m[i>>6] >> (i & 63)
		if w != 0 {
			return min(i+bits.TrailingZeros64(w), chunkSize)
		}
		i = (i>>6 + 1) << 6
	}
	return chunkSize
}
