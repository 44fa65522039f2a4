package recovery

import "time"

// Loss detection constants, RFC 9002 §6.1 and Appendix A.2.
const (
	// packetThreshold is kPacketThreshold, RFC 9002 §6.1.1.
	packetThreshold = 3
	// timeThresholdNum/timeThresholdDen is kTimeThreshold (9/8), RFC 9002 §6.1.2.
	timeThresholdNum = 9
	timeThresholdDen = 8
	// Granularity is kGranularity, the timer granularity, RFC 9002 §6.1.2.
	Granularity = time.Millisecond
	// DefaultInitialRTT is kInitialRtt, RFC 9002 §6.2.2.
	DefaultInitialRTT = 333 * time.Millisecond
	// persistentCongestionThreshold is kPersistentCongestionThreshold,
	// RFC 9002 §7.6.1.
	persistentCongestionThreshold = 3
	// DefaultPeerMaxAckDelay is the max_ack_delay a peer has until its
	// transport parameters say otherwise, RFC 9000 §18.2.
	DefaultPeerMaxAckDelay = 25 * time.Millisecond
	// maxPTOBackoff bounds the exponent of the PTO backoff so that the
	// period cannot overflow; 2^16 PTO periods is far beyond any idle timeout.
	maxPTOBackoff = 16
)

// Congestion control constants, RFC 9002 §7.2 and Appendix B.1.
const (
	// MinDatagramSize is the smallest maximum datagram size QUIC allows,
	// RFC 9000 §14.
	MinDatagramSize = 1200
	// maxWindowPackets caps the congestion window (in datagrams) so that a
	// long loss-free run cannot grow it, and the sent-packet history with
	// it, without bound.
	maxWindowPackets = 20000
)

// initialWindow is kInitialWindow for a maximum datagram size of mss,
// RFC 9002 §7.2: min(10*mss, max(14720, 2*mss)).
func initialWindow(mss int) int {
	return min(10*mss, max(14720, 2*mss))
}

// minimumWindow is kMinimumWindow, RFC 9002 §7.2.
func minimumWindow(mss int) int { return 2 * mss }

// maximumWindow is the cap on the congestion window.
func maximumWindow(mss int) int { return maxWindowPackets * mss }

// clampDatagramSize keeps a configured maximum datagram size sane.
func clampDatagramSize(n int) int {
	if n < MinDatagramSize {
		return MinDatagramSize
	}
	if n > 65527 { // largest UDP payload over IPv6 jumbograms aside
		return 65527
	}
	return n
}
