package memnet

import (
	"math/rand/v2"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Datagram is a datagram in flight. A Filter owns its Data and may change
// it (corruption) before delivering it.
type Datagram struct {
	From, To netip.AddrPort
	Data     []byte
}

// Filter decides the fate of one datagram by calling deliver zero or more
// times: never drops it, twice duplicates it, with a positive delay holds
// it back (later datagrams then overtake it: reordering). deliver takes a
// copy of data, so a filter may deliver, change d.Data and deliver again.
// Filters may be called from several goroutines at once.
type Filter func(d *Datagram, deliver func(data []byte, delay time.Duration))

// apply runs f (nil: deliver unchanged) on d, adding delay to every delivery.
func apply(f Filter, d *Datagram, delay time.Duration, next func(*Datagram, time.Duration)) {
	if f == nil {
		next(d, delay)
		return
	}
	f(d, func(data []byte, extra time.Duration) {
		next(&Datagram{From: d.From, To: d.To, Data: append([]byte(nil), data...)}, delay+max(extra, 0))
	})
}

// Chain runs filters in order: each one's deliveries go through the next.
func Chain(filters ...Filter) Filter {
	return func(d *Datagram, deliver func([]byte, time.Duration)) {
		var run func(i int, d *Datagram, delay time.Duration)
		run = func(i int, d *Datagram, delay time.Duration) {
			if i == len(filters) {
				deliver(d.Data, delay)
				return
			}
			apply(filters[i], d, delay, func(d *Datagram, delay time.Duration) { run(i+1, d, delay) })
		}
		run(0, d, 0)
	}
}

// Tap calls observe with every datagram and delivers it unchanged. observe
// must not keep d.Data.
func Tap(observe func(d *Datagram)) Filter {
	return func(d *Datagram, deliver func([]byte, time.Duration)) {
		observe(d)
		deliver(d.Data, 0)
	}
}

// Drop drops the datagrams for which match returns true.
func Drop(match func(d *Datagram) bool) Filter {
	return func(d *Datagram, deliver func([]byte, time.Duration)) {
		if !match(d) {
			deliver(d.Data, 0)
		}
	}
}

// DropIndexes drops the datagrams with the given indexes, counting from 0
// the datagrams this filter sees.
func DropIndexes(indexes ...int) Filter {
	drop := make(map[int64]bool, len(indexes))
	for _, i := range indexes {
		drop[int64(i)] = true
	}
	var n atomic.Int64
	return Drop(func(*Datagram) bool { return drop[n.Add(1)-1] })
}

// MTU drops datagrams longer than size bytes, like a path whose MTU is
// smaller than the sender thinks.
func MTU(size int) Filter {
	return Drop(func(d *Datagram) bool { return len(d.Data) > size })
}

// Delay delays every datagram by d.
func Delay(delay time.Duration) Filter {
	return func(d *Datagram, deliver func([]byte, time.Duration)) {
		deliver(d.Data, delay)
	}
}

// lockedRand is a seeded PRNG safe for concurrent use.
type lockedRand struct {
	mu sync.Mutex
	r  *rand.Rand
}

func newRand(seed uint64) *lockedRand {
	return &lockedRand{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

func (l *lockedRand) chance(p float64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Float64() < p
}

func (l *lockedRand) intN(n int) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.IntN(n)
}

// Loss drops each datagram with probability rate, drawn from a PRNG seeded
// with seed (the same seed and traffic drop the same datagrams).
func Loss(rate float64, seed uint64) Filter {
	r := newRand(seed)
	return Drop(func(*Datagram) bool { return r.chance(rate) })
}

// Reorder holds each datagram back by delay with probability rate, so
// that the datagrams sent after it arrive first.
func Reorder(rate float64, delay time.Duration, seed uint64) Filter {
	r := newRand(seed)
	return func(d *Datagram, deliver func([]byte, time.Duration)) {
		if r.chance(rate) {
			deliver(d.Data, delay)
			return
		}
		deliver(d.Data, 0)
	}
}

// Duplicate delivers each datagram twice with probability rate.
func Duplicate(rate float64, seed uint64) Filter {
	r := newRand(seed)
	return func(d *Datagram, deliver func([]byte, time.Duration)) {
		deliver(d.Data, 0)
		if r.chance(rate) {
			deliver(d.Data, 0)
		}
	}
}

// Corrupt flips one random bit of each datagram with probability rate.
func Corrupt(rate float64, seed uint64) Filter {
	r := newRand(seed)
	return func(d *Datagram, deliver func([]byte, time.Duration)) {
		if len(d.Data) > 0 && r.chance(rate) {
			bit := r.intN(8 * len(d.Data))
			d.Data[bit/8] ^= 1 << (bit % 8)
		}
		deliver(d.Data, 0)
	}
}
