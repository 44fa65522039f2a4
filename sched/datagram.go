package sched

// DatagramBudget returns the bytes of frames the next packet of a UDP
// datagram may hold when several packets are coalesced into it (RFC 9000
// §12.2: Initial, then Handshake, then a 1-RTT packet, which must be last).
// mtu is the datagram's size limit, used the bytes already taken by earlier
// packets in it, and overhead the next packet's header and AEAD tag. It
// returns 0 when no useful frame fits.
//
// The result is the Packet.Budget before the connection's other limits
// (congestion window, pacing, anti-amplification) are applied. Padding, such
// as a client's Initial datagram to 1200 bytes (RFC 9000 §14.1), stays the
// connection's business.
func DatagramBudget(mtu, used, overhead int) int {
	n := mtu - used - overhead
	if n < minFrame {
		return 0
	}
	return n
}
