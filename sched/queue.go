package sched

// The scheduler's per-stream bookkeeping: one node per stream with work,
// linked into up to three structures at once without any allocation:
//
//   - the FIFO of streams with control frames pending (ActivateControl),
//   - the FIFO of streams with lost data to re-send (ActivateRetransmit),
//   - for new data, the level of the stream's urgency: a ring of incremental
//     streams, or a min-heap by stream ID of non-incremental ones.

// Queue indices into node.links.
const (
	qCtrl = iota
	qRetx
	numQueues
)

// numLevels is the number of urgency levels, RFC 9218 §4.1: 0 (highest) to
// 7 (lowest).
const numLevels = 8

// link is a node's place in a doubly linked list.
type link struct {
	prev, next *node
}

// node is one stream as the scheduler tracks it, or the sentinel that stands
// for the non-incremental streams of one urgency level in that level's ring.
type node struct {
	src         StreamSource
	id          uint64
	urgency     uint8
	incremental bool
	group       bool // the level's sentinel for its non-incremental streams

	in      [numQueues]bool
	inNew   bool
	links   [numQueues]link
	ring    link // in levels[urgency].ring: incremental streams and the sentinel
	heapIdx int  // in levels[urgency].heap: non-incremental streams

	// deficit is what the node may still send in its current turn, in bytes
	// of frames; negative after a small overshoot, carried to the next turn
	// (deficit round-robin).
	deficit int
}

// idle reports whether n is in no queue and may be recycled.
func (n *node) idle() bool {
	return !n.in[qCtrl] && !n.in[qRetx] && !n.inNew
}

// fifo is a first-in first-out list of nodes threaded through node.links[k].
type fifo struct {
	head, tail *node
	k          int
}

func (q *fifo) push(n *node) {
	l := &n.links[q.k]
	l.prev, l.next = q.tail, nil
	if q.tail == nil {
		q.head = n
	} else {
		q.tail.links[q.k].next = n
	}
	q.tail = n
	n.in[q.k] = true
}

func (q *fifo) remove(n *node) {
	l := &n.links[q.k]
	if l.prev == nil {
		q.head = l.next
	} else {
		l.prev.links[q.k].next = l.next
	}
	if l.next == nil {
		q.tail = l.prev
	} else {
		l.next.links[q.k].prev = l.prev
	}
	*l = link{}
	n.in[q.k] = false
}

// level holds the streams with new data of one urgency.
//
// The ring's head holds the level's turn. The non-incremental streams take
// part in the ring as one member, the sentinel grp: on its turn the stream
// with the lowest ID sends (RFC 9218 §4.2).
type level struct {
	head    *node   // current turn holder; nil when the ring is empty
	granted bool    // head has received its quantum for the current turn
	heap    []*node // non-incremental streams, min-heap by stream ID
	grp     node    // sentinel for heap in the ring
}

// ringAdd inserts n at the tail of the ring: it gets its turn after every
// member already there.
func (lv *level) ringAdd(n *node) {
	n.deficit = 0
	if lv.head == nil {
		n.ring = link{prev: n, next: n}
		lv.head = n
		lv.granted = false
		return
	}
	tail := lv.head.ring.prev
	n.ring = link{prev: tail, next: lv.head}
	tail.ring.next = n
	lv.head.ring.prev = n
}

// ringRemove takes n out of the ring. If n held the turn, the turn passes
// to the next member.
func (lv *level) ringRemove(n *node) {
	if n.ring.next == n {
		lv.head = nil
		lv.granted = false
	} else {
		n.ring.prev.ring.next = n.ring.next
		n.ring.next.ring.prev = n.ring.prev
		if lv.head == n {
			lv.head = n.ring.next
			lv.granted = false
		}
	}
	n.ring = link{}
	n.deficit = 0
}

// advance ends the head's turn and gives it to the next member.
func (lv *level) advance() {
	lv.head = lv.head.ring.next
	lv.granted = false
}

// heapPush adds a non-incremental stream, and the sentinel to the ring if
// the heap was empty.
func (lv *level) heapPush(n *node) {
	if len(lv.heap) == 0 {
		lv.ringAdd(&lv.grp)
	}
	n.heapIdx = len(lv.heap)
	lv.heap = append(lv.heap, n)
	lv.up(n.heapIdx)
}

// heapRemove removes a non-incremental stream, and the sentinel from the
// ring once the heap is empty.
func (lv *level) heapRemove(n *node) {
	i := n.heapIdx
	last := len(lv.heap) - 1
	if i != last {
		lv.swap(i, last)
	}
	lv.heap[last] = nil
	lv.heap = lv.heap[:last]
	if i != last {
		lv.down(i)
		lv.up(i)
	}
	n.heapIdx = -1
	if len(lv.heap) == 0 {
		lv.ringRemove(&lv.grp)
	}
}

func (lv *level) swap(i, j int) {
	h := lv.heap
	h[i], h[j] = h[j], h[i]
	h[i].heapIdx = i
	h[j].heapIdx = j
}

func (lv *level) up(i int) {
	h := lv.heap
	for i > 0 {
		p := (i - 1) / 2
		if h[p].id <= h[i].id {
			return
		}
		lv.swap(i, p)
		i = p
	}
}

func (lv *level) down(i int) {
	h := lv.heap
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && h[r].id < h[l].id {
			m = r
		}
		if h[i].id <= h[m].id {
			return
		}
		lv.swap(i, m)
		i = m
	}
}
