package integration_test

import (
	"container/heap"
	"slices"
	"time"
)

// queued is a datagram waiting in a link's delay queue.
type queued struct {
	at        time.Time // when it leaves
	base      time.Time // when it leaves once its countdown runs out
	countdown int       // later datagrams still to pass before it leaves
	order     uint64    // arrival order: ties leave first-in first-out
	index     int       // in the heap; -1 once out
	f         *flow
	buf       []byte
	ecn       byte // ECN codepoint to send it with
}

// delayQueue holds a link's delayed datagrams in order of departure and
// keeps one timer armed for the earliest. Every method runs with the link's
// lock held.
type delayQueue struct {
	l      *link
	items  []*queued
	held   []*queued // items with a countdown, also in items
	order  uint64
	timer  timerRef
	timerG uint64 // generation of the armed timer
}

// timerRef is the armed timer and its deadline.
type timerRef struct {
	t  *time.Timer
	at time.Time
}

func (q *delayQueue) Len() int { return len(q.items) }

func (q *delayQueue) Less(i, j int) bool {
	a, b := q.items[i], q.items[j]
	if !a.at.Equal(b.at) {
		return a.at.Before(b.at)
	}
	return a.order < b.order
}

func (q *delayQueue) Swap(i, j int) {
	q.items[i], q.items[j] = q.items[j], q.items[i]
	q.items[i].index = i
	q.items[j].index = j
}

// Push and Pop serve container/heap; use push and pop.
func (q *delayQueue) Push(x any) {
	it := x.(*queued)
	it.index = len(q.items)
	q.items = append(q.items, it)
}

func (q *delayQueue) Pop() any {
	n := len(q.items) - 1
	it := q.items[n]
	q.items[n] = nil
	q.items = q.items[:n]
	it.index = -1
	return it
}

func (q *delayQueue) push(it *queued) {
	it.order = q.order
	q.order++
	heap.Push(q, it)
	if it.countdown > 0 {
		q.held = append(q.held, it)
	}
}

// releaseDue sends every datagram whose time has come, in order.
func (q *delayQueue) releaseDue(now time.Time) {
	for len(q.items) > 0 && !q.items[0].at.After(now) {
		it := heap.Pop(q).(*queued)
		if it.countdown > 0 { // its hold timed out before enough datagrams passed
			it.countdown = 0
			q.held = slices.DeleteFunc(q.held, func(h *queued) bool { return h == it })
		}
		q.l.sendLocked(it.f, it.buf, it.ecn, now)
	}
}

// passed notes that one datagram was forwarded: datagrams held back by a
// packet count move closer to their release.
func (q *delayQueue) passed(now time.Time) {
	if len(q.held) == 0 {
		return
	}
	q.held = slices.DeleteFunc(q.held, func(h *queued) bool {
		h.countdown--
		if h.countdown > 0 {
			return false
		}
		h.at = h.base
		heap.Fix(q, h.index)
		return true
	})
}

// arm makes sure a timer fires when the earliest datagram is due.
func (q *delayQueue) arm(now time.Time) {
	if len(q.items) == 0 || q.l.closed {
		return
	}
	next := q.items[0].at
	if q.timer.t != nil && !q.timer.at.After(next) {
		return // an armed timer fires early enough, and re-arms
	}
	if q.timer.t != nil && q.timer.t.Stop() {
		q.l.p.timers.Done() // its callback will not run
	}
	q.timerG++
	gen := q.timerG
	q.l.p.timers.Add(1)
	q.timer = timerRef{at: next, t: time.AfterFunc(next.Sub(now), func() { q.fire(gen) })}
}

// fire runs on a timer's goroutine.
func (q *delayQueue) fire(gen uint64) {
	defer q.l.p.timers.Done()
	l := q.l
	l.mu.Lock()
	defer l.mu.Unlock()
	if gen == q.timerG {
		q.timer = timerRef{}
	}
	if l.closed {
		return
	}
	now := time.Now()
	q.releaseDue(now)
	q.arm(now)
}

// clear drops every queued datagram and stops the timer.
func (q *delayQueue) clear() {
	if q.timer.t != nil && q.timer.t.Stop() {
		q.l.p.timers.Done()
	}
	q.timer = timerRef{}
	q.items, q.held = nil, nil
}
