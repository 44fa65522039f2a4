package sched

// minTail is the least room a stream's turn must leave in the packet for
// its frame to be cut at the end of its turn: room for the Length field that
// setLengthField inserts (at most 4 bytes for any frame under 2^30 bytes)
// and a useful frame of the next stream. With less, the stream takes the
// whole room and the overshoot is taken from its next turn.
const minTail = 32

// appendNew fills the rest of the packet with new stream data: the most
// urgent level first; within it, its ring members in turn, each allowed its
// quantum of bytes per turn (deficit round-robin); the non-incremental
// streams of the level share one place in the ring and send lowest ID first.
func (s *Scheduler) appendNew(b []byte, end int, credit *uint64, rec *Record) []byte {
	quantum := s.quantum
	if quantum == 0 {
		quantum = max(s.maxBudget, minTurn) // one full packet
	}
	for s.mask != 0 && *credit > 0 {
		room := end - len(b)
		if room < minFrame {
			break
		}
		lv := s.topLevel()
		h := lv.head
		n := h
		if h.group {
			n = lv.heap[0]
		}
		limit := room
		alone := h.ring.next == h
		if alone {
			// No one to yield to: no turns, no limit.
			h.deficit, lv.granted = 0, false
		} else {
			if lv.granted && h.deficit < minTurn {
				lv.advance() // its turn is used up
				continue
			}
			if !lv.granted {
				h.deficit = max(h.deficit+quantum, minTurn)
				lv.granted = true
			}
			if h.deficit <= room-minTail {
				limit = h.deficit
			}
		}

		start := len(b)
		var more bool
		b, more = n.src.AppendStreamFrame(b, limit, false, credit, rec)
		if limit < room && len(b) > start && b[start]&streamBitLen == 0 {
			// The frame filled its turn's limit and so dropped its Length
			// field, but the packet goes on: give it one (RFC 9000 §19.8).
			b = setLengthField(b, start)
		}
		sent := len(b) - start
		if !alone {
			h.deficit -= sent
		}

		if !more {
			// The stream has nothing more for now and leaves the level. An
			// incremental stream's turn passes on (ringRemove); a
			// non-incremental one leaves the rest of the group's turn to
			// the next lowest ID.
			s.unlinkNew(n)
			s.release(n)
		} else if sent == 0 {
			break // its frame does not fit in what is left
		}
		if !alone && lv.head == h && h.deficit < minTurn {
			lv.advance()
		}
	}
	return b
}
