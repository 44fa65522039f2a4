package wire

// Packet numbers: truncated encoding and recovery, RFC 9000 §17.1 and
// Appendices A.2 and A.3.

// MaxPacketNumber is the largest packet number: 2^62-1 (RFC 9000 §12.3).
const MaxPacketNumber = 1<<62 - 1

// NoPacketNumber stands for "no packet received yet" as the largest packet
// number passed to DecodePacketNumber. It is outside the packet number space.
const NoPacketNumber = ^uint64(0)

// PacketNumberLen returns how many bytes (1 to 4) to encode packet number pn
// with, given the largest packet number the peer acknowledged in this packet
// number space (hasAcked false: none yet). The encoding must cover more than
// twice the range of unacknowledged packet numbers, so that the receiver
// recovers pn (RFC 9000 §17.1, Appendix A.2): with n bytes, up to 2^(8n-1)
// unacknowledged numbers. Beyond 2^31 unacknowledged numbers it returns 4,
// the most the wire allows.
func PacketNumberLen(pn, largestAcked uint64, hasAcked bool) int {
	var unacked uint64
	if hasAcked && pn > largestAcked {
		unacked = pn - largestAcked
	} else if hasAcked {
		unacked = 1 // pn <= largestAcked: a caller bug, but be safe
	} else {
		unacked = pn + 1
	}
	// Appendix A.2: bytes = ceil((log2(unacked) + 1) / 8), that is the
	// least n with unacked <= 2^(8n-1).
	for n := 1; n < 4; n++ {
		if unacked <= 1<<(8*n-1) {
			return n
		}
	}
	return 4
}

// AppendPacketNumber appends the n least significant bytes of pn in network
// byte order (RFC 9000 §17.1). n outside 1..4 is a caller bug and panics.
func AppendPacketNumber(b []byte, pn uint64, n int) []byte {
	switch n {
	case 1:
		return append(b, byte(pn))
	case 2:
		return append(b, byte(pn>>8), byte(pn))
	case 3:
		return append(b, byte(pn>>16), byte(pn>>8), byte(pn))
	case 4:
		return append(b, byte(pn>>24), byte(pn>>16), byte(pn>>8), byte(pn))
	}
	panic("wire: packet number length out of range")
}

// DecodePacketNumber recovers a full packet number from its truncated
// nbits-bit encoding, given the largest packet number successfully processed
// in the same packet number space, or NoPacketNumber if none was (RFC 9000
// Appendix A.3): the candidate closest to largest+1.
func DecodePacketNumber(largest uint64, truncated uint64, nbits int) uint64 {
	expected := largest + 1 // NoPacketNumber wraps to 0
	win := uint64(1) << nbits
	hwin := win / 2
	mask := win - 1
	candidate := expected&^mask | truncated&mask
	// The checks against 2^62 keep the result in the packet number space.
	if expected >= hwin && candidate <= expected-hwin && candidate < 1<<62-win {
		return candidate + win
	}
	if candidate > expected+hwin && candidate >= win {
		return candidate - win
	}
	return candidate
}
