package recovery

import "github.com/tsumugi-quic/tsumugi/sched"

// maxSentHistory bounds the packets tracked per packet number space. The
// congestion window (at most maxWindowPackets datagrams) keeps the in-flight
// packets far below it; what could exceed it is a long run of packets that
// carry only ACK frames which the peer never acknowledges. When it is
// reached the oldest packet is given up as lost (see Recovery.OnPacketSent).
const maxSentHistory = 1 << 16

// sentSlot is one sent packet in a history. rec is nil once the packet has
// been acknowledged or declared lost; pn stays, so the slots remain sorted.
type sentSlot struct {
	pn  uint64
	rec *sched.Record
}

// sentHistory holds the packets sent in one packet number space, in packet
// number order, in a ring buffer: appending is O(1), finding a packet
// number O(log n), removing one O(1) (it leaves a hole that is trimmed once
// it reaches either end). It allocates only to grow, doubling.
type sentHistory struct {
	buf  []sentSlot // len is 0 or a power of two
	head int        // index in buf of slot 0
	n    int        // slots in use, holes included
	live int        // slots holding a record
}

// at returns slot i (0 is the oldest).
func (h *sentHistory) at(i int) *sentSlot {
	return &h.buf[(h.head+i)&(len(h.buf)-1)]
}

// len returns the number of slots in use, holes included.
func (h *sentHistory) len() int { return h.n }

// push appends rec. Packet numbers must increase; a packet number not above
// the last one is inserted in order (a slower path that callers avoid).
func (h *sentHistory) push(rec *sched.Record) {
	if h.n == len(h.buf) {
		h.grow()
	}
	pn := rec.PacketNumber
	i := h.n
	if h.n > 0 && h.at(h.n-1).pn >= pn {
		i = h.search(pn + 1) // after any slot with the same number
		for j := h.n; j > i; j-- {
			*h.at(j) = *h.at(j - 1)
		}
	}
	*h.at(i) = sentSlot{pn: pn, rec: rec}
	h.n++
	h.live++
}

func (h *sentHistory) grow() {
	size := max(2*len(h.buf), 8)
	buf := make([]sentSlot, size)
	for i := 0; i < h.n; i++ {
		buf[i] = *h.at(i)
	}
	h.buf, h.head = buf, 0
}

// search returns the index of the first slot whose packet number is >= pn
// (h.n if none).
func (h *sentHistory) search(pn uint64) int {
	lo, hi := 0, h.n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if h.at(m).pn < pn {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// take removes and returns the record in slot i (nil if it is a hole).
// Holes are left in place until trim, so indexes stay valid meanwhile.
func (h *sentHistory) take(i int) *sched.Record {
	s := h.at(i)
	rec := s.rec
	if rec != nil {
		s.rec = nil
		h.live--
	}
	return rec
}

// trim drops holes at both ends.
func (h *sentHistory) trim() {
	for h.n > 0 && h.at(0).rec == nil {
		h.head = (h.head + 1) & (len(h.buf) - 1)
		h.n--
	}
	for h.n > 0 && h.at(h.n-1).rec == nil {
		h.n--
	}
	if h.n == 0 {
		h.head = 0
	}
}

// clear forgets every slot, calling f for each record still held.
func (h *sentHistory) clear(f func(*sched.Record)) {
	for i := 0; i < h.n; i++ {
		s := h.at(i)
		if s.rec != nil {
			rec := s.rec
			s.rec = nil
			f(rec)
		}
	}
	h.n, h.head, h.live = 0, 0, 0
}
