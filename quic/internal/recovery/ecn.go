package recovery

import (
	"github.com/tsumugi-quic/tsumugi/quic/wire"
	"github.com/tsumugi-quic/tsumugi/sched"
)

// ecnState is where the sender stands with ECN on its path
// (RFC 9000 §13.4.2, kept simple):
//
//   - ecnOff: ECN not configured; the peer's ECN counts are ignored.
//   - ecnTesting: every packet is sent with ECT(0) and every ACK frame's
//     counts are validated (§13.4.2.1); an increase of ECN-CE is a congestion
//     event (RFC 9002 §7.1).
//   - ecnFailed: validation failed; packets go out unmarked (Not-ECT) and
//     counts are ignored for the rest of the connection (no revalidation).
//
// Besides the count checks, marking stops if three PTOs in a row expire
// before any marked packet was acknowledged: a path that drops ECT packets
// (RFC 9000 §13.4.2 suggests giving up "for a period of three PTOs").
type ecnState uint8

const (
	ecnOff ecnState = iota
	ecnTesting
	ecnFailed
)

// ecnCounts is what one packet number space knows of ECN: packets sent
// marked ECT(0), and the highest counts the peer reported.
type ecnCounts struct {
	sentECT0 uint64
	ect0     uint64
	ect1     uint64
	ce       uint64
}

// ECNMarking reports whether the next packets should carry ECT(0) in their
// IP header.
func (r *Recovery) ECNMarking() bool { return r.ecn == ecnTesting }

// ECNFailed reports whether ECN validation failed on this path.
func (r *Recovery) ECNFailed() bool { return r.ecn == ecnFailed }

// onECNSent counts a packet sent while marking.
func (r *Recovery) onECNSent(space sched.Space) {
	if r.ecn == ecnTesting {
		r.spaces[space].ecn.sentECT0++
	}
}

// processECN validates the ECN counts of an ACK frame that newly
// acknowledged newlyAcked packets (all sent with ECT(0) while testing), RFC
// 9000 §13.4.2.1, and reports whether the ECN-CE count increased (RFC 9002
// Appendix A.7 ProcessECN). largestIncreased says whether the frame raised
// the largest acknowledged packet number: only such frames can fail the
// check of count increases, since reordered ACK frames carry older counts.
func (r *Recovery) processECN(space sched.Space, ack *wire.AckFrame, newlyAcked int, largestIncreased bool) (ceIncreased bool) {
	if r.ecn != ecnTesting {
		return false
	}
	c := &r.spaces[space].ecn
	if !ack.ECN {
		// Marked packets acknowledged without counts: the marks were
		// cleared on the path or the peer does not report them.
		if newlyAcked > 0 {
			r.ecnFail()
		}
		return false
	}
	if ack.ECT1 > 0 || ack.ECT0 > c.sentECT0 || ack.ECNCE > c.sentECT0 {
		// Counts for a codepoint never sent, or more packets than were
		// sent: remarking on the path.
		r.ecnFail()
		return false
	}
	if largestIncreased {
		inc := sub0(ack.ECT0, c.ect0) + sub0(ack.ECNCE, c.ce)
		if inc < uint64(newlyAcked) {
			r.ecnFail()
			return false
		}
	}
	ceIncreased = ack.ECNCE > c.ce
	c.ect0 = max(c.ect0, ack.ECT0)
	c.ect1 = max(c.ect1, ack.ECT1)
	c.ce = max(c.ce, ack.ECNCE)
	return ceIncreased
}

// sub0 returns a-b, or 0 if b > a.
func sub0(a, b uint64) uint64 {
	if a < b {
		return 0
	}
	return a - b
}

func (r *Recovery) ecnFail() { r.ecn = ecnFailed }

// ecnOnPTO stops marking after three consecutive PTOs with no marked
// packet ever acknowledged.
func (r *Recovery) ecnOnPTO() {
	if r.ecn == ecnTesting && !r.hasAckedAny && r.ptoCount >= 3 {
		r.ecnFail()
	}
}
