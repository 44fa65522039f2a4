package recovery

import (
	"time"

	"github.com/tsumugi-quic/tsumugi/sched"
)

// Config configures a Recovery.
type Config struct {
	// MaxDatagramSize is the largest UDP payload the path carries
	// (max_datagram_size, RFC 9002 §7.2); at least 1200 (the default).
	MaxDatagramSize int
	// Congestion selects the congestion controller; CUBIC by default.
	Congestion Algorithm
	// InitialRTT is kInitialRtt (RFC 9002 §6.2.2): 333 ms when zero.
	InitialRTT time.Duration
	// PacingBurst is the pacer's bucket size in datagrams (default 10).
	PacingBurst int
	// IsServer makes the peer's address count as validated from the start
	// (a server assumes the client validated its address, RFC 9002
	// Appendix A.6 PeerCompletedAddressValidation).
	IsServer bool
	// ECN makes the sender mark its packets ECT(0) and validate the peer's
	// ECN counts (RFC 9000 §13.4.2); ECNMarking tells when to stop.
	ECN bool

	// OnAcked receives each newly acknowledged packet, OnLost each packet
	// declared lost, OnDiscarded each packet forgotten with its packet
	// number space. Afterwards the Recovery keeps no reference to the
	// record: the callee may recycle it. The callbacks must not call the
	// Recovery. Nil callbacks are skipped.
	OnAcked     func(*sched.Record)
	OnLost      func(*sched.Record)
	OnDiscarded func(*sched.Record)
}

// skipRing is how many deliberately skipped packet numbers a space
// remembers; older ones are forgotten (an ACK of one then goes unnoticed).
const skipRing = 8

// spaceState is the sender's loss detection state for one packet number
// space, RFC 9002 Appendix A.3.
type spaceState struct {
	sent        sentHistory
	largestSent uint64
	hasSent     bool

	largestAcked uint64 // largest_acked_packet
	hasAcked     bool

	lossTime    time.Duration // loss_time
	hasLossTime bool

	lastAckElicitingSent time.Duration // time_of_last_ack_eliciting_packet
	ackElicitingInFlight int
	discarded            bool

	lost *lostRing // packets declared lost lately, to spot spurious losses (made at the first loss: idle connections hold none)

	skipped  [skipRing]uint64
	nSkipped int
	skipNext int

	ecn ecnCounts
}

// Recovery is the sender's side of RFC 9002: the packets sent in each
// packet number space, RTT estimation, loss detection, the probe timeout
// (PTO), congestion control and pacing. The connection goroutine owns it.
//
// The connection calls OnPacketSent for every packet it sends (including
// packets that carry only ACK frames), OnAckReceived for every ACK frame,
// and OnLossTimer when LossTimer() is reached. Results come back through
// the callbacks of Config. Before sending it asks CanSend (congestion
// window room) and PacingBudget/NextSendTime (pacing). Probe packets
// requested by OnLossTimer ignore both, as do packets that carry only ACK
// frames (RFC 9002 §7, §7.5, §7.7).
type Recovery struct {
	base time.Time
	last time.Duration // the latest time given by the caller

	rtt   RTTStats
	cc    Controller
	alg   Algorithm
	pacer Pacer
	mss   int

	spaces        [sched.NumSpaces]spaceState
	bytesInFlight int
	ptoCount      int

	peerMaxAckDelay    time.Duration
	handshakeConfirmed bool
	peerValidated      bool // PeerCompletedAddressValidation
	hasHandshakeKeys   bool
	amplificationLimit bool // the server may send nothing more before the client's next datagram
	appLimited         bool

	timer    time.Duration
	timerSet bool

	firstSampleTime time.Duration // first_rtt_sample; valid once rtt.HasSample()
	// maxAckedSentTime is the latest send time of any packet acknowledged
	// so far, in any space; persistent congestion is only established from
	// losses sent after it (see persistentCongestion).
	maxAckedSentTime time.Duration
	hasAckedAny      bool

	ecn ecnState

	// Adaptive loss thresholds (reordering.go).
	packetThreshold  uint64
	timeThresholdNum int64
	spuriousLosses   uint64

	onAcked, onLost, onDiscarded func(*sched.Record)

	// Scratch lists reused by every ACK and timeout: no allocation once
	// they have grown to the largest ACK seen.
	acked []*sched.Record
	lost  []*sched.Record
}

// New returns a Recovery created at now: its base time, from which
// sched.Record.SentTime is counted.
func New(cfg Config, now time.Time) *Recovery {
	mss := clampDatagramSize(cfg.MaxDatagramSize)
	r := &Recovery{
		base:             now,
		packetThreshold:  packetThreshold,
		timeThresholdNum: timeThresholdNum,
		rtt:              NewRTTStats(cfg.InitialRTT),
		alg:              cfg.Congestion,
		cc:               NewController(cfg.Congestion, mss),
		pacer:            NewPacer(now, mss, cfg.PacingBurst),
		mss:              mss,
		peerMaxAckDelay:  DefaultPeerMaxAckDelay,
		peerValidated:    cfg.IsServer,
		onAcked:          cfg.OnAcked,
		onLost:           cfg.OnLost,
		onDiscarded:      cfg.OnDiscarded,
	}
	if cfg.ECN {
		r.ecn = ecnTesting
	}
	r.updatePacingRate(now)
	return r
}

// since converts a caller's time to the Recovery's clock and remembers it.
func (r *Recovery) since(now time.Time) time.Duration {
	t := now.Sub(r.base)
	if t > r.last {
		r.last = t
	}
	return t
}

// OnPacketSent records a packet just sent (RFC 9002 Appendix A.5). The
// caller has set rec.PacketNumber, rec.Space, rec.SentBytes, the frames and
// with them AckEliciting and InFlight; OnPacketSent sets rec.SentTime.
// Packet numbers must increase within a space. The Recovery holds rec until
// it is acknowledged, lost or discarded.
func (r *Recovery) OnPacketSent(rec *sched.Record, now time.Time) {
	if rec.Space >= sched.NumSpaces {
		r.report(r.onDiscarded, rec) // no such space: nothing to track
		return
	}
	t := r.since(now)
	rec.SentTime = int64(t)
	s := &r.spaces[rec.Space]
	if s.discarded {
		// Its keys are gone: no acknowledgment can come (RFC 9002 §6.4).
		r.report(r.onDiscarded, rec)
		return
	}
	if s.sent.len() >= maxSentHistory {
		r.evictOldest(rec.Space)
	}
	if !s.hasSent || rec.PacketNumber > s.largestSent {
		s.largestSent = rec.PacketNumber
	}
	s.hasSent = true
	s.sent.push(rec)
	r.onECNSent(rec.Space)
	if rec.Space == sched.Handshake {
		r.hasHandshakeKeys = true
	}
	if !rec.InFlight {
		return
	}
	if rec.AckEliciting {
		s.lastAckElicitingSent = t
		s.ackElicitingInFlight++
	}
	r.bytesInFlight += rec.SentBytes
	r.pacer.OnSent(now, rec.SentBytes)
	if r.bytesInFlight+r.mss > r.cc.Window() {
		// The window is full: whatever the caller said, the sender is
		// not application-limited now (RFC 9002 §7.8).
		r.appLimited = false
	}
	r.setTimer(t)
}

// evictOldest gives up on the oldest packet of a space whose history is
// full: it is reported lost, without a congestion event.
func (r *Recovery) evictOldest(space sched.Space) {
	s := &r.spaces[space]
	rec := s.sent.take(0)
	s.sent.trim()
	if rec == nil {
		return
	}
	r.removeFromFlight(s, rec)
	r.report(r.onLost, rec)
}

// removeFromFlight takes a packet that is no longer outstanding out of
// bytes in flight and the space's count of ack-eliciting packets.
func (r *Recovery) removeFromFlight(s *spaceState, rec *sched.Record) {
	if rec.InFlight {
		r.bytesInFlight = max(r.bytesInFlight-rec.SentBytes, 0)
	}
	if rec.AckEliciting && rec.InFlight {
		s.ackElicitingInFlight = max(s.ackElicitingInFlight-1, 0)
	}
}

func (r *Recovery) report(f func(*sched.Record), rec *sched.Record) {
	if f != nil {
		f(rec)
	}
}

// SkipPacketNumber records that pn was deliberately not used in space (to
// detect optimistic ACKs, RFC 9000 §21.4): an ACK that covers it is a
// PROTOCOL_VIOLATION. The last 8 skipped numbers per space are remembered.
func (r *Recovery) SkipPacketNumber(space sched.Space, pn uint64) {
	if space >= sched.NumSpaces {
		return
	}
	s := &r.spaces[space]
	s.skipped[s.skipNext] = pn
	s.skipNext = (s.skipNext + 1) % skipRing
	s.nSkipped = min(s.nSkipped+1, skipRing)
}

// DiscardSpace forgets the packets of a packet number space whose keys
// were discarded (RFC 9002 §6.4, Appendix A.11): each record goes to
// OnDiscarded, none counts as lost, and they leave bytes in flight. The
// loss detection timer is re-armed and the PTO backoff reset.
func (r *Recovery) DiscardSpace(space sched.Space, now time.Time) {
	if space >= sched.NumSpaces {
		return
	}
	t := r.since(now)
	s := &r.spaces[space]
	if s.discarded {
		return
	}
	s.sent.clear(func(rec *sched.Record) {
		r.removeFromFlight(s, rec)
		r.report(r.onDiscarded, rec)
	})
	s.ackElicitingInFlight = 0
	s.hasLossTime = false
	s.discarded = true
	s.lost = nil
	s.sent.buf = nil // nothing is sent in a discarded space again
	if space == sched.Initial {
		// Initial keys are discarded once Handshake packets are sent or
		// received (RFC 9001 §4.9.1).
		r.hasHandshakeKeys = true
	}
	r.ptoCount = 0
	r.setTimer(t)
}

// OnRetry resets congestion control and loss recovery after the client
// received a Retry packet (RFC 9002 §6.3): every packet still tracked is
// reported lost, so that its frames are sent again, with no congestion
// event; the congestion window, timers and PTO backoff start over. Packet
// numbers keep increasing.
func (r *Recovery) OnRetry(now time.Time) {
	t := r.since(now)
	for sp := range r.spaces {
		s := &r.spaces[sp]
		s.sent.clear(func(rec *sched.Record) { r.report(r.onLost, rec) })
		s.ackElicitingInFlight = 0
		s.hasLossTime = false
		s.hasAcked = false
	}
	r.bytesInFlight = 0
	r.ptoCount = 0
	r.cc = NewController(r.alg, r.mss)
	r.updatePacingRate(now)
	r.setTimer(t)
}

// OnPathChange starts congestion control and RTT estimation over for a new
// network path (RFC 9000 §9.4). Packets already in flight stay tracked.
func (r *Recovery) OnPathChange(now time.Time) {
	r.rtt.Reset()
	r.cc = NewController(r.alg, r.mss)
	r.hasAckedAny = false
	r.updatePacingRate(now)
}

// OnZeroRTTRejected reports every packet sent in the Application Data
// space as lost, without a congestion response: they were 0-RTT packets the
// server refused, and their content must go again in 1-RTT packets (RFC
// 9001 §4.6.2, RFC 9002 §6.4 treats them like discarded keys).
func (r *Recovery) OnZeroRTTRejected(now time.Time) {
	t := r.since(now)
	s := &r.spaces[sched.AppData]
	s.sent.clear(func(rec *sched.Record) {
		r.removeFromFlight(s, rec)
		r.report(r.onLost, rec)
	})
	s.ackElicitingInFlight = 0
	s.hasLossTime = false
	r.setTimer(t)
}

// SetPeerMaxAckDelay sets the peer's max_ack_delay transport parameter
// (RFC 9000 §18.2; 25 ms until then).
func (r *Recovery) SetPeerMaxAckDelay(d time.Duration) {
	r.peerMaxAckDelay = min(max(d, 0), (1<<14)*time.Millisecond)
}

// SetHandshakeConfirmed records that the handshake is confirmed (RFC 9001
// §4.1.2): from now on the Application Data space has a PTO, the peer's
// max_ack_delay limits ack delays, and the peer's address validation is
// certain.
func (r *Recovery) SetHandshakeConfirmed() {
	r.handshakeConfirmed = true
	r.peerValidated = true
	r.setTimer(r.last)
}

// SetPeerAddressValidated records that the peer has validated our address
// (a client: a Handshake packet was acknowledged, RFC 9002 §6.2.2.1). An ACK
// received in the Handshake space sets it too.
func (r *Recovery) SetPeerAddressValidated() {
	r.peerValidated = true
	r.setTimer(r.last)
}

// SetAmplificationLimited tells a server whether the anti-amplification
// limit (RFC 9000 §8.1) stops it from sending anything more. While it does,
// no PTO is armed (RFC 9002 §6.2.2.1); when a datagram lifts it, the timer
// is re-armed and, if LossTimer() is then not after now, the caller calls
// OnLossTimer at once (Appendix A.6).
func (r *Recovery) SetAmplificationLimited(limited bool) {
	if r.amplificationLimit == limited {
		return
	}
	r.amplificationLimit = limited
	r.setTimer(r.last)
}

// SetAppLimited records whether the sender stopped with congestion window
// to spare because it had nothing (or no flow-control credit) to send. The
// window does not grow while application-limited (RFC 9002 §7.8); filling
// the window clears it.
func (r *Recovery) SetAppLimited(limited bool) { r.appLimited = limited }

// SetMaxDatagramSize updates the maximum datagram size (after path MTU
// discovery): the congestion windows and the pacer follow it.
func (r *Recovery) SetMaxDatagramSize(n int) {
	n = clampDatagramSize(n)
	r.mss = n
	r.cc.SetMaxDatagramSize(n)
	r.pacer.SetMaxDatagramSize(n)
	r.updatePacingRate(r.base.Add(r.last))
}

// CanSend returns the room left in the congestion window, in bytes (0 when
// bytes in flight reached it).
func (r *Recovery) CanSend() int { return max(r.cc.Window()-r.bytesInFlight, 0) }

// PacingBudget returns how many bytes the pacer lets the sender send at now.
func (r *Recovery) PacingBudget(now time.Time) int { return r.pacer.Budget(now) }

// NextSendTime returns when the pacer next allows a full-sized datagram:
// now if it does already.
func (r *Recovery) NextSendTime(now time.Time) time.Time { return r.pacer.NextSend(now) }

// BytesInFlight returns bytes_in_flight (RFC 9002 Appendix B.2).
func (r *Recovery) BytesInFlight() int { return r.bytesInFlight }

// CongestionWindow returns the congestion window in bytes.
func (r *Recovery) CongestionWindow() int { return r.cc.Window() }

// SlowStartThreshold returns ssthresh in bytes (math.MaxInt until the first
// congestion event).
func (r *Recovery) SlowStartThreshold() int { return r.cc.SlowStartThreshold() }

// SmoothedRTT returns smoothed_rtt.
func (r *Recovery) SmoothedRTT() time.Duration { return r.rtt.Smoothed() }

// MinRTT returns min_rtt (0 before the first sample).
func (r *Recovery) MinRTT() time.Duration { return r.rtt.Min() }

// LatestRTT returns latest_rtt (0 before the first sample).
func (r *Recovery) LatestRTT() time.Duration { return r.rtt.Latest() }

// RTT returns a copy of the RTT estimator.
func (r *Recovery) RTT() RTTStats { return r.rtt }

// PTOCount returns pto_count, the number of PTOs since the last
// acknowledgment.
func (r *Recovery) PTOCount() int { return r.ptoCount }

// PTO returns the current probe timeout period of the Application Data
// space without backoff (smoothed_rtt + max(4*rttvar, 1ms) +
// max_ack_delay), the unit of the idle timeout's lower bound and of the
// closing and draining periods (RFC 9000 §10.1, §10.2).
func (r *Recovery) PTO() time.Duration { return r.rtt.PTO(true, r.peerMaxAckDelay) }

// HandshakeConfirmed reports whether SetHandshakeConfirmed was called.
func (r *Recovery) HandshakeConfirmed() bool { return r.handshakeConfirmed }

// updatePacingRate gives the pacer the current window and RTT.
func (r *Recovery) updatePacingRate(now time.Time) {
	r.pacer.SetRate(now, r.cc.Window(), r.rtt.Smoothed())
}

// cwndLimited reports whether acknowledged bytes may grow the window
// (RFC 9002 §7.8): always unless the caller said the sender is
// application-limited, and even then when bytes in flight before the ACK
// (priorInFlight) were close to the window - within one datagram in
// congestion avoidance, at least half of it in slow start, where the
// window may double per round trip.
func (r *Recovery) cwndLimited(priorInFlight int) bool {
	if !r.appLimited {
		return true
	}
	cwnd := r.cc.Window()
	if r.cc.InSlowStart() {
		return 2*priorInFlight >= cwnd
	}
	return priorInFlight+r.mss >= cwnd
}
