package recovery

import "time"

// Pacing constants, RFC 9002 §7.7.
const (
	// pacingGainNum/pacingGainDen is N = 1.25: the pacer sends a little
	// faster than cwnd/smoothed_rtt so that RTT variation does not leave the
	// window unused.
	pacingGainNum = 5
	pacingGainDen = 4
	// DefaultPacingBurst is the default bucket size in datagrams: the
	// initial window, and a batch worth handing to GSO.
	DefaultPacingBurst = 10
	// maxPacingBurst and maxPacingRTT bound the arithmetic: with them the
	// products in refill and NextSend stay far below 2^63.
	maxPacingBurst = 1024
	maxPacingRTT   = 10 * time.Second
)

// Pacer spreads packets over the round trip, RFC 9002 §7.7, with a token
// bucket: tokens (bytes) accrue at N * cwnd / smoothed_rtt and the bucket
// holds at most Burst datagrams, so that a sender that waited may send a
// batch of up to Burst packets at once (for GSO) and no more.
//
// Only packets that count toward bytes in flight are paced: packets that
// carry only ACK frames are not (§7.7), nor are PTO probes.
type Pacer struct {
	mss      int
	burst    int
	tokens   int64 // bytes; may go negative after an unpaced send
	frac     int64 // fractions of a byte carried between refills, in units of 1/rateDen
	last     time.Time
	rateNum  int64 // rate = rateNum / rateDen bytes per nanosecond
	rateDen  int64 // 0: not paced
	capacity int64
}

// NewPacer returns a pacer for datagrams of mss bytes that allows bursts of
// up to burst datagrams (DefaultPacingBurst when burst <= 0, at most 1024).
// It starts with a full bucket and no rate: call SetRate.
func NewPacer(now time.Time, mss, burst int) Pacer {
	p := Pacer{mss: clampDatagramSize(mss), burst: clampBurst(burst), last: now}
	p.capacity = int64(p.burst) * int64(p.mss)
	p.tokens = p.capacity
	return p
}

// SetRate sets the rate from the congestion window and the smoothed RTT:
// N * cwnd / srtt. The bucket is first filled at the old rate up to now. A
// zero smoothed RTT (a synthetic clock) turns pacing off; one above 10 s
// counts as 10 s.
func (p *Pacer) SetRate(now time.Time, cwnd int, srtt time.Duration) {
	p.refill(now)
	srtt = min(srtt, maxPacingRTT)
	cwnd = min(cwnd, 1<<31)
	if srtt <= 0 || cwnd <= 0 {
		p.rateNum, p.rateDen = 0, 0
		p.frac = 0
		return
	}
	num := int64(cwnd) * pacingGainNum
	den := int64(srtt) * pacingGainDen
	if num != p.rateNum || den != p.rateDen {
		p.frac = 0
	}
	p.rateNum, p.rateDen = num, den
}

// SetMaxDatagramSize changes the datagram size, and with it the bucket's
// capacity.
func (p *Pacer) SetMaxDatagramSize(mss int) {
	p.mss = clampDatagramSize(mss)
	p.capacity = int64(p.burst) * int64(p.mss)
	p.tokens = min(p.tokens, p.capacity)
}

// SetBurst changes the bucket size to burst datagrams.
func (p *Pacer) SetBurst(burst int) {
	p.burst = clampBurst(burst)
	p.SetMaxDatagramSize(p.mss)
}

func clampBurst(burst int) int {
	if burst <= 0 {
		return DefaultPacingBurst
	}
	return min(burst, maxPacingBurst)
}

// refill adds the tokens earned since the last refill.
func (p *Pacer) refill(now time.Time) {
	if p.rateDen == 0 {
		p.tokens, p.last = p.capacity, now
		return
	}
	elapsed := int64(now.Sub(p.last))
	if elapsed <= 0 {
		return
	}
	p.last = now
	// tokens += elapsed * rateNum / rateDen, keeping the remainder. A gap
	// long enough to fill the bucket skips the multiplication, which then
	// cannot overflow.
	need := p.capacity - p.tokens
	if need <= 0 {
		p.frac = 0
		return
	}
	if elapsed >= (need*p.rateDen)/p.rateNum+1 {
		p.tokens, p.frac = p.capacity, 0
		return
	}
	x := elapsed*p.rateNum + p.frac
	p.tokens += x / p.rateDen
	p.frac = x % p.rateDen
	if p.tokens >= p.capacity {
		p.tokens, p.frac = p.capacity, 0
	}
}

// Budget returns how many bytes may be sent at now without waiting.
func (p *Pacer) Budget(now time.Time) int {
	p.refill(now)
	return int(max(p.tokens, 0))
}

// NextSend returns when a full-sized datagram may next be sent: now if the
// bucket holds one already.
func (p *Pacer) NextSend(now time.Time) time.Time {
	p.refill(now)
	need := int64(p.mss) - p.tokens
	if need <= 0 || p.rateDen == 0 {
		return now
	}
	// Nanoseconds until need bytes accrue, rounded up.
	wait := (need*p.rateDen - p.frac + p.rateNum - 1) / p.rateNum
	return now.Add(time.Duration(wait))
}

// OnSent takes bytes out of the bucket for a packet sent at now. The bucket
// may go into debt (a packet larger than the budget, or a probe), but never
// by more than one bucket.
func (p *Pacer) OnSent(now time.Time, bytes int) {
	p.refill(now)
	p.tokens = max(p.tokens-int64(bytes), -p.capacity)
}
