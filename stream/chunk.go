package stream

import "sync"

// chunkSize is the size of the pieces that send and receive buffers are
// made of. Buffers hold chunks only where data is, and give each chunk back
// to a pool once its bytes are read (receive) or acknowledged (send).
const (
	chunkShift = 14
	chunkSize  = 1 << chunkShift // 16 KiB
	chunkMask  = chunkSize - 1
)

type chunk = [chunkSize]byte

var chunkPool = sync.Pool{New: func() any { return new(chunk) }}

func getChunk() *chunk { return chunkPool.Get().(*chunk) }

func putChunk(c *chunk) { chunkPool.Put(c) }

// chunkRing maps absolute chunk numbers (offset >> chunkShift) to chunks for
// a window of consecutive chunk numbers. Its length is a power of two at
// least the number of chunks the window can span, so two live chunk numbers
// never share a slot.
type chunkRing []*chunk

// slot returns the slot of absolute chunk number n.
func (r chunkRing) slot(n uint64) **chunk { return &r[n&uint64(len(r)-1)] }

// grow returns a ring of at least want slots holding the chunks of r whose
// numbers are in [first, first+len(r)).
func (r chunkRing) grow(want int, first uint64) chunkRing {
	if want <= len(r) {
		return r
	}
	size := 4
	for size < want {
		size <<= 1
	}
	nr := make(chunkRing, size)
	for i := range uint64(len(r)) {
		if c := *r.slot(first + i); c != nil {
			*nr.slot(first + i) = c
		}
	}
	return nr
}

// chunksSpanned returns how many chunks [start, end) touches.
func chunksSpanned(start, end uint64) int {
	if end <= start {
		return 0
	}
	return int((end-1)>>chunkShift-start>>chunkShift) + 1
}
