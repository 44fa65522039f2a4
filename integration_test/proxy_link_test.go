package integration_test

import (
	"math/rand/v2"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// impairment is what a link does to the datagrams crossing it. The zero
// value forwards every datagram at once, untouched.
type impairment struct {
	// Loss is the probability that a datagram is dropped, independently of
	// the others.
	Loss float64

	// MaxRun, if positive, caps how many datagrams of a flow in a row
	// Loss drops and how many in a row Corrupt corrupts, as the burst
	// option of the interop runner's drop-rate and corrupt-rate scenarios
	// does (the runner has one connection at a time: the cap is per
	// flow).
	MaxRun int

	// Burst drops datagrams in bursts (Gilbert-Elliott); zero: off.
	Burst gilbertElliott

	// Reorder is the probability that a datagram is held back: until
	// ReorderPackets later datagrams have been forwarded, if positive, or
	// else for ReorderDelay. ReorderDelay (default 20 ms) also bounds the
	// hold by packets, so that a datagram is not held forever once the
	// traffic stops.
	Reorder        float64
	ReorderPackets int
	ReorderDelay   time.Duration

	// Duplicate is the probability that a datagram is forwarded twice.
	Duplicate float64

	// Corrupt is the probability that CorruptBits (default 1) random bits
	// of a datagram's UDP payload are flipped before it is forwarded.
	Corrupt     float64
	CorruptBits int

	// Delay is the one-way delay of every datagram; Jitter adds a uniform
	// random [0, Jitter) to each. The link stays FIFO (a datagram never
	// overtakes an earlier one) unless JitterReorders is set, as netem does.
	Delay          time.Duration
	Jitter         time.Duration
	JitterReorders bool

	// Blackhole turns the link off periodically.
	Blackhole blackholeCycle
}

// gilbertElliott is a two-state burst-loss model: each datagram first moves
// the link from the good state to the bad one with probability P (from bad
// to good with R), then is lost with the state's loss probability. The mean
// burst length is 1/R datagrams; the link is bad P/(P+R) of the time.
//
// MaxBurst, if positive, ends a bad period after that many datagrams. The
// model counts datagrams, not time: on a sparse path (ACKs only, or PTO
// probes while the sender backs off) an uncapped geometric tail of ten
// datagrams can last as long as an idle timeout.
type gilbertElliott struct {
	P, R     float64
	LossGood float64 // usually 0
	LossBad  float64 // 0 means 1: every datagram in the bad state is lost
	MaxBurst int
}

// blackholeCycle turns a link off periodically, as the interop runner's
// blackhole scenario does: counted from the proxy's first datagram, the
// link works for On, then drops everything for Off, Repeat times (0 means
// once), and then works for good.
type blackholeCycle struct {
	On, Off time.Duration
	Repeat  int
}

// dropping reports whether the link is off at elapsed since the first
// datagram.
func (c blackholeCycle) dropping(elapsed time.Duration) bool {
	if c.Off <= 0 || elapsed < 0 {
		return false
	}
	period := c.On + c.Off
	k := elapsed / period
	if k >= time.Duration(max(c.Repeat, 1)) {
		return false
	}
	return elapsed-k*period >= c.On
}

// linkStats counts what a link did. Every datagram received is either
// dropped (Blackholed, HookDropped, Lost, BurstLost) or forwarded, twice if
// duplicated, unless the proxy closed with it queued (Discarded).
type linkStats struct {
	Received    uint64 // datagrams that reached the link
	Forwarded   uint64 // datagrams written out, duplicates included
	Blackholed  uint64
	HookDropped uint64
	Lost        uint64 // random loss
	BurstLost   uint64
	Corrupted   uint64
	Duplicated  uint64
	Delayed     uint64 // datagram copies that went through the delay queue
	Reordered   uint64 // datagrams held back on purpose
	Discarded   uint64 // queued copies thrown away by close
	SendErrors  uint64

	// Packets counts the QUIC packets seen on the link by type (each of
	// the coalesced packets of a datagram).
	Packets [numKinds]uint64

	// ECN counts the datagrams received by ECN codepoint (Not-ECT,
	// ECT(1), ECT(0), CE: RFC 3168's values), with proxyConfig.ECN.
	ECN [4]uint64
}

// dropped is the number of datagrams the link dropped on purpose.
func (s linkStats) dropped() uint64 { return s.Blackholed + s.HookDropped + s.Lost + s.BurstLost }

// link is one direction of the proxy.
type link struct {
	p              *proxy
	dir            direction
	imp            impairment
	blackholeUntil atomic.Int64 // unix nanoseconds; set by proxy.blackhole

	mu     sync.Mutex
	closed bool
	rng    *rand.Rand
	bad    bool      // Gilbert-Elliott state
	badRun int       // datagrams in the current bad period
	seq    uint64    // datagrams received
	lastAt time.Time // release time of the latest delayed datagram (FIFO jitter)
	q      delayQueue
	stats  linkStats
}

func newLink(p *proxy, dir direction, imp impairment, seed uint64) *link {
	if imp.ReorderDelay <= 0 {
		imp.ReorderDelay = 20 * time.Millisecond
	}
	if imp.CorruptBits <= 0 {
		imp.CorruptBits = 1
	}
	l := &link{p: p, dir: dir, imp: imp}
	l.rng = rand.New(rand.NewPCG(seed, 0x5eed0000+uint64(dir)))
	l.q.l = l
	return l
}

func (l *link) snapshot() linkStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stats
}

// chance is true with probability p.
func (l *link) chance(p float64) bool { return p > 0 && l.rng.Float64() < p }

// handle decides the fate of one datagram read for flow f, with the ECN
// codepoint ecn, crossing the flow's server-facing address back. b is the
// reader's buffer: the link copies what it keeps.
func (l *link) handle(f *flow, b []byte, ecn byte, back netip.AddrPort) {
	now := time.Now()
	elapsed := l.p.elapsed(now)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return
	}
	seq := l.seq
	l.seq++
	l.stats.Received++
	kinds := classifyDatagram(b)
	countPackets(b, &l.stats.Packets)
	ecn &= 3
	l.stats.ECN[ecn]++

	if now.UnixNano() < l.blackholeUntil.Load() || l.imp.Blackhole.dropping(elapsed) {
		l.stats.Blackholed++
		return
	}
	var extra time.Duration
	if hook := l.p.cfg.Hook; hook != nil {
		v := hook(&datagramInfo{Proxy: l.p, Dir: l.dir, Seq: seq, Kinds: kinds, Data: b, Back: back, ECN: ecn})
		if v.Drop {
			l.stats.HookDropped++
			return
		}
		extra = max(v.Delay, 0)
	}
	run := &f.runs[l.dir] // guarded by l.mu
	if l.chance(l.imp.Loss) && (l.imp.MaxRun <= 0 || run.lost < l.imp.MaxRun) {
		run.lost++
		l.stats.Lost++
		return
	}
	run.lost = 0
	if l.burstLoss() {
		l.stats.BurstLost++
		return
	}
	owned := false
	corrupt := l.chance(l.imp.Corrupt) && len(b) > 0 && (l.imp.MaxRun <= 0 || run.corrupted < l.imp.MaxRun)
	if !corrupt {
		run.corrupted = 0
	}
	if corrupt {
		run.corrupted++
		b = append([]byte(nil), b...)
		owned = true
		for range l.imp.CorruptBits {
			bit := l.rng.IntN(len(b) * 8)
			b[bit/8] ^= 1 << (bit % 8)
		}
		l.stats.Corrupted++
	}
	copies := 1
	if l.chance(l.imp.Duplicate) {
		copies = 2
		l.stats.Duplicated++
	}

	// When the datagram leaves: the link's delay and jitter (FIFO unless
	// jitter may reorder), then the hook's delay, then a reorder hold.
	at := now
	if l.imp.Delay > 0 || l.imp.Jitter > 0 {
		at = now.Add(l.imp.Delay)
		if l.imp.Jitter > 0 {
			at = at.Add(time.Duration(l.rng.Int64N(int64(l.imp.Jitter))))
		}
		if !l.imp.JitterReorders {
			if at.Before(l.lastAt) {
				at = l.lastAt
			}
			l.lastAt = at
		}
	}
	at = at.Add(extra)
	base, countdown := at, 0
	if l.chance(l.imp.Reorder) {
		l.stats.Reordered++
		at = at.Add(l.imp.ReorderDelay)
		countdown = l.imp.ReorderPackets
	}

	l.q.releaseDue(now) // what is due goes first
	for range copies {
		if countdown == 0 && !at.After(now) {
			l.sendLocked(f, b, ecn, now)
			continue
		}
		if !owned {
			b = append([]byte(nil), b...)
			owned = true
		}
		l.stats.Delayed++
		l.q.push(&queued{at: at, base: base, countdown: countdown, f: f, buf: b, ecn: ecn})
	}
	l.q.releaseDue(now) // held datagrams whose count just ran out
	l.q.arm(now)
}

// burstLoss advances the Gilbert-Elliott state and reports whether the
// datagram is lost in it.
func (l *link) burstLoss() bool {
	ge := l.imp.Burst
	if ge.P <= 0 {
		return false
	}
	if l.bad {
		if l.chance(ge.R) || (ge.MaxBurst > 0 && l.badRun >= ge.MaxBurst) {
			l.bad = false
		}
	} else if l.chance(ge.P) {
		l.bad, l.badRun = true, 0
	}
	if !l.bad {
		return l.chance(ge.LossGood)
	}
	l.badRun++
	if ge.LossBad == 0 {
		return true
	}
	return l.chance(ge.LossBad)
}

// sendLocked writes one datagram and counts it against held datagrams.
func (l *link) sendLocked(f *flow, b []byte, ecn byte, now time.Time) {
	if err := l.p.send(l.dir, f, b, ecn); err != nil {
		l.stats.SendErrors++
	} else {
		l.stats.Forwarded++
	}
	l.q.passed(now)
}

// stop discards queued datagrams and disarms the timer.
func (l *link) stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	l.stats.Discarded += uint64(l.q.Len())
	l.q.clear()
}
