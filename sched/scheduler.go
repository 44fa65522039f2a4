package sched

import "math/bits"

// minTurn is the least a stream is allowed to send in a turn, in bytes of
// frames: a turn never continues with less (the rest is carried to the
// stream's next turn), so that frames are not mostly header.
const minTurn = 64

// Config configures a Scheduler.
type Config struct {
	// Quantum is how many bytes of STREAM frames an incremental stream (or
	// the non-incremental streams of its urgency, taken together) may send
	// per turn before the next stream of the same urgency gets its turn.
	// Zero means one full packet: the largest Packet.Budget seen so far, so
	// that packets cut short by the congestion window do not shorten turns.
	// Values below 64 are raised to 64.
	Quantum int
}

// Scheduler decides which frames go into each packet: see the package
// documentation for the order and the fairness rule. It is owned by the
// connection goroutine and is not safe for concurrent use. The sources it
// calls must not call back into it.
type Scheduler struct {
	quantum   int // 0: one full packet, maxBudget
	maxBudget int // the largest Packet.Budget seen

	nodes map[uint64]*node
	free  []*node

	ctrl   fifo              // streams with control frames pending
	retx   fifo              // streams with lost data to re-send
	levels *[numLevels]level // made when a stream first has new data: idle connections hold none
	mask   uint8             // bit u set when levels[u] has a stream with new data

	// unlimited stands in for a nil Packet.Credit; spare receives what
	// retransmissions would charge (they are not charged, RFC 9000 §4.1
	// counts each byte offset once).
	unlimited uint64
	spare     uint64
}

// New returns a Scheduler with no streams.
func New(cfg Config) *Scheduler {
	s := &Scheduler{nodes: make(map[uint64]*node)}
	if cfg.Quantum > 0 {
		s.quantum = max(cfg.Quantum, minTurn)
	}
	s.ctrl.k = qCtrl
	s.retx.k = qRetx
	return s
}

// makeLevels allocates the per-urgency queues.
func (s *Scheduler) makeLevels() {
	s.levels = new([numLevels]level)
	for u := range s.levels {
		g := &s.levels[u].grp
		g.group = true
		g.urgency = uint8(u)
		g.heapIdx = -1
	}
}

// node returns src's node, making one if src has none.
func (s *Scheduler) node(src StreamSource) *node {
	id := src.StreamID()
	if n, ok := s.nodes[id]; ok {
		n.src = src
		return n
	}
	var n *node
	if k := len(s.free); k > 0 {
		n = s.free[k-1]
		s.free[k-1] = nil
		s.free = s.free[:k-1]
	} else {
		n = new(node)
	}
	n.src, n.id, n.heapIdx = src, id, -1
	s.nodes[id] = n
	return n
}

// release recycles n once it is in no queue.
func (s *Scheduler) release(n *node) {
	if !n.idle() {
		return
	}
	delete(s.nodes, n.id)
	*n = node{heapIdx: -1}
	s.free = append(s.free, n)
}

// Activate records that src has new data to send, at priority urgency (0
// highest, 7 lowest; larger values count as 7) and incremental (RFC 9218
// §4). If src is already queued, only its priority is updated.
func (s *Scheduler) Activate(src StreamSource, urgency uint8, incremental bool) {
	urgency = min(urgency, numLevels-1)
	n := s.node(src)
	if n.inNew {
		s.reprioritize(n, urgency, incremental)
		return
	}
	n.urgency, n.incremental = urgency, incremental
	s.linkNew(n)
}

// ActivateRetransmit records that src has lost data (or a lost FIN) to
// re-send. Streams re-send in the order they were activated.
func (s *Scheduler) ActivateRetransmit(src StreamSource) {
	n := s.node(src)
	if !n.in[qRetx] {
		s.retx.push(n)
	}
}

// ActivateControl records that src has control frames pending
// (MAX_STREAM_DATA, STOP_SENDING, RESET_STREAM, STREAM_DATA_BLOCKED).
// Streams send them in the order they were activated.
func (s *Scheduler) ActivateControl(src StreamSource) {
	n := s.node(src)
	if !n.in[qCtrl] {
		s.ctrl.push(n)
	}
}

// SetPriority changes the priority of stream id (RFC 9218 §4). It does
// nothing if the stream has no new data queued: Activate carries the
// priority the next time it has.
func (s *Scheduler) SetPriority(id uint64, urgency uint8, incremental bool) {
	n, ok := s.nodes[id]
	if !ok {
		return
	}
	urgency = min(urgency, numLevels-1)
	if n.inNew {
		s.reprioritize(n, urgency, incremental)
		return
	}
	n.urgency, n.incremental = urgency, incremental
}

// Remove drops stream id from every queue, for a stream that is gone.
func (s *Scheduler) Remove(id uint64) {
	n, ok := s.nodes[id]
	if !ok {
		return
	}
	if n.in[qCtrl] {
		s.ctrl.remove(n)
	}
	if n.in[qRetx] {
		s.retx.remove(n)
	}
	if n.inNew {
		s.unlinkNew(n)
	}
	s.release(n)
}

// HasStreamWork reports whether any stream has control frames, lost data or
// new data queued. New data may still be held back by connection-level flow
// control (Packet.Credit).
func (s *Scheduler) HasStreamWork() bool {
	return s.ctrl.head != nil || s.retx.head != nil || s.mask != 0
}

// HasControlOrRetransmit reports whether any stream has control frames or
// lost data queued: the stream work that connection-level flow control does
// not hold back. With no credit left, only this work can fill a packet.
func (s *Scheduler) HasControlOrRetransmit() bool {
	return s.ctrl.head != nil || s.retx.head != nil
}

func (s *Scheduler) reprioritize(n *node, urgency uint8, incremental bool) {
	if n.urgency == urgency && n.incremental == incremental {
		return
	}
	s.unlinkNew(n)
	n.urgency, n.incremental = urgency, incremental
	s.linkNew(n)
}

// linkNew queues n for new data at its priority.
func (s *Scheduler) linkNew(n *node) {
	if s.levels == nil {
		s.makeLevels()
	}
	lv := &s.levels[n.urgency]
	if n.incremental {
		lv.ringAdd(n)
	} else {
		lv.heapPush(n)
	}
	n.inNew = true
	s.mask |= 1 << n.urgency
}

// unlinkNew takes n out of the new-data structures. It does not release n.
func (s *Scheduler) unlinkNew(n *node) {
	lv := &s.levels[n.urgency]
	if n.incremental {
		lv.ringRemove(n)
	} else {
		lv.heapRemove(n)
	}
	n.inNew = false
	if lv.head == nil {
		s.mask &^= 1 << n.urgency
	}
}

// topLevel returns the most urgent level with new data; s.mask must not be 0.
func (s *Scheduler) topLevel() *level {
	return &s.levels[bits.TrailingZeros8(s.mask)]
}
