package wire

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

func TestPacketNumberLen(t *testing.T) {
	tests := []struct {
		name        string
		pn, largest uint64
		hasAcked    bool
		want        int
	}{
		// RFC 9000 §17.1 and Appendix A.2 examples.
		{"RFC: 0xac5c02 after 0xabe8b3", 0xac5c02, 0xabe8b3, true, 2},
		{"RFC: 0xace8fe after 0xabe8b3", 0xace8fe, 0xabe8b3, true, 3},
		{"first packet", 0, 0, false, 1},
		{"128 unacked", 127, 0, false, 1},
		{"129 unacked", 128, 0, false, 2},
		{"2^15 unacked", 1<<15 + 10, 10, true, 2},
		{"2^15+1 unacked", 1<<15 + 11, 10, true, 3},
		{"2^23 unacked", 1 << 23, 0, true, 3},
		{"2^23+1 unacked", 1<<23 + 1, 0, true, 4},
		{"2^31 unacked", 1<<31 + 5, 5, true, 4},
		{"beyond 2^31", 1 << 40, 0, true, 4},
		{"next after acked", 1001, 1000, true, 1},
		{"pn not above largest acked", 5, 5, true, 1},
	}
	for _, tt := range tests {
		if got := PacketNumberLen(tt.pn, tt.largest, tt.hasAcked); got != tt.want {
			t.Errorf("%s: PacketNumberLen = %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestDecodePacketNumber(t *testing.T) {
	tests := []struct {
		name      string
		largest   uint64
		truncated uint64
		nbits     int
		want      uint64
	}{
		// RFC 9000 Appendix A.3 example.
		{"RFC: 0x9b32 after 0xa82f30ea", 0xa82f30ea, 0x9b32, 16, 0xa82f9b32},
		{"nothing received: 0", NoPacketNumber, 0, 8, 0},
		{"nothing received: 5", NoPacketNumber, 5, 8, 5},
		{"nothing received: 0x7f", NoPacketNumber, 0x7f, 8, 0x7f},
		{"nothing received: 0xff", NoPacketNumber, 0xff, 8, 0xff},
		{"wrap forward", 0xff, 0x01, 8, 0x101},
		{"wrap backward", 0x101, 0xff, 8, 0xff},
		{"small largest, late packet", 3, 0xfe, 8, 0xfe},
		{"top of the space", MaxPacketNumber - 1, 0xff, 8, MaxPacketNumber},
		{"no wrap past 2^62", MaxPacketNumber - 1, 0x00, 8, MaxPacketNumber - 0xff},
		{"32-bit", 0x1_0000_0000, 0xffff_fffe, 32, 0xffff_fffe},
	}
	for _, tt := range tests {
		if got := DecodePacketNumber(tt.largest, tt.truncated, tt.nbits); got != tt.want {
			t.Errorf("%s: DecodePacketNumber(%#x, %#x, %d) = %#x, want %#x", tt.name, tt.largest, tt.truncated, tt.nbits, got, tt.want)
		}
	}
}

// Encoding with PacketNumberLen and decoding with the receiver's largest
// packet number anywhere between the largest acknowledged and pn-1 recovers
// pn (RFC 9000 §17.1).
func TestPacketNumberEncodeDecode(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		largestAcked := r.Uint64N(1 << 40)
		pn := largestAcked + 1 + r.Uint64N(1<<uint(r.IntN(32)))
		n := PacketNumberLen(pn, largestAcked, true)
		enc := AppendPacketNumber(nil, pn, n)
		var truncated uint64
		for _, b := range enc {
			truncated = truncated<<8 | uint64(b)
		}
		received := largestAcked + r.Uint64N(pn-largestAcked)
		if got := DecodePacketNumber(received, truncated, 8*n); got != pn {
			t.Fatalf("pn %#x acked %#x received %#x len %d: decoded %#x", pn, largestAcked, received, n, got)
		}
	}
}

func TestAppendPacketNumber(t *testing.T) {
	for n, want := range map[int][]byte{
		1: {0x04}, 2: {0x03, 0x04}, 3: {0x02, 0x03, 0x04}, 4: {0x01, 0x02, 0x03, 0x04},
	} {
		if got := AppendPacketNumber(nil, 0xff01020304, n); !bytes.Equal(got, want) {
			t.Errorf("n=%d: %x, want %x", n, got, want)
		}
	}
	defer func() {
		if recover() == nil {
			t.Errorf("n=5 did not panic")
		}
	}()
	AppendPacketNumber(nil, 1, 5)
}
