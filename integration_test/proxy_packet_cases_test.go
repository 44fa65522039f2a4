package integration_test

import (
	"encoding/binary"
	"slices"
	"testing"
)

// longPacket builds a long-header packet of the given version and type bits
// that is total bytes long: 8-byte connection IDs, an empty token for an
// Initial, a 2-byte Length, and filler for the rest.
func longPacket(version uint32, typeBits byte, total int) []byte {
	b := []byte{0xc0 | typeBits<<4}
	b = binary.BigEndian.AppendUint32(b, version)
	b = append(b, 8, 1, 2, 3, 4, 5, 6, 7, 8, 8, 9, 10, 11, 12, 13, 14, 15, 16)
	if longTypes[version][typeBits] == kindInitial {
		b = append(b, 0) // token length
	}
	rest := total - len(b) - 2
	b = binary.BigEndian.AppendUint16(b, 0x4000|uint16(rest))
	for i := range rest {
		b = append(b, byte(i)|1)
	}
	return b
}

func cat(parts ...[]byte) []byte { return slices.Concat(parts...) }

func TestWalkPackets(t *testing.T) {
	short := []byte{0x41, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	vn := cat([]byte{0x80, 0, 0, 0, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0}, []byte{0, 0, 0, 1})
	retry := cat([]byte{0xf0, 0, 0, 0, 1, 0, 4, 1, 2, 3, 4}, make([]byte, 20))
	initialWithToken := []byte{0xc0, 0, 0, 0, 1, 0, 0, 3, 't', 'o', 'k', 2, 0xaa, 0xbb}
	for _, tc := range []struct {
		name string
		d    []byte
		want []packetKind
	}{
		{"empty", nil, nil},
		{"1-RTT", short, []packetKind{kindOneRTT}},
		{"v1 Initial", longPacket(versionV1, 0, 1200), []packetKind{kindInitial}},
		{"v1 Initial with token", initialWithToken, []packetKind{kindInitial}},
		{"v1 0-RTT", longPacket(versionV1, 1, 100), []packetKind{kind0RTT}},
		{"v1 Handshake", longPacket(versionV1, 2, 100), []packetKind{kindHandshake}},
		{"v1 Retry", retry, []packetKind{kindRetry}},
		{"v2 Initial", longPacket(versionV2, 1, 1200), []packetKind{kindInitial}},
		{"v2 0-RTT", longPacket(versionV2, 2, 100), []packetKind{kind0RTT}},
		{"v2 Handshake", longPacket(versionV2, 3, 100), []packetKind{kindHandshake}},
		{"version negotiation", vn, []packetKind{kindVersionNegotiation}},
		{"coalesced Initial, Handshake, 1-RTT",
			cat(longPacket(versionV1, 0, 200), longPacket(versionV1, 2, 300), short),
			[]packetKind{kindInitial, kindHandshake, kindOneRTT}},
		{"coalesced, then zero padding",
			cat(longPacket(versionV1, 0, 200), longPacket(versionV1, 2, 300), make([]byte, 700)),
			[]packetKind{kindInitial, kindHandshake}},
		{"unknown version", longPacket(0x1a2a3a4a, 0, 100), []packetKind{kindOther}},
		{"Length beyond the datagram", longPacket(versionV1, 2, 100)[:99], []packetKind{kindOther}},
		{"truncated connection ID", longPacket(versionV1, 2, 100)[:10], []packetKind{kindOther}},
		{"truncated token", initialWithToken[:9], []packetKind{kindOther}},
		{"short header without the fixed bit", []byte{0x01, 2, 3}, []packetKind{kindOther}},
		{"long header, too short", []byte{0xc0, 0, 0}, []packetKind{kindOther}},
		{"Handshake then garbage", cat(longPacket(versionV1, 2, 100), []byte{0x03}), []packetKind{kindHandshake, kindOther}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []packetKind
			walkPackets(tc.d, func(k packetKind) { got = append(got, k) })
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			set := classifyDatagram(tc.d)
			for _, k := range tc.want {
				if !set.has(k) {
					t.Errorf("set %b lacks %v", set, k)
				}
			}
		})
	}
}

func TestReadVarint(t *testing.T) {
	for _, tc := range []struct {
		b []byte
		v uint64
		n int
	}{
		// RFC 9000 §A.1 examples.
		{[]byte{0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c}, 151288809941952652, 8},
		{[]byte{0x9d, 0x7f, 0x3e, 0x7d}, 494878333, 4},
		{[]byte{0x7b, 0xbd}, 15293, 2},
		{[]byte{0x25}, 37, 1},
		{[]byte{0x40, 0x25}, 37, 2},
		{[]byte{0x7b}, 0, 0},
		{nil, 0, 0},
	} {
		if v, n := readVarint(tc.b); v != tc.v || n != tc.n {
			t.Errorf("%x: got %d, %d; want %d, %d", tc.b, v, n, tc.v, tc.n)
		}
	}
}

// FuzzWalkPackets: any datagram is walked without panic, and the walk ends.
func FuzzWalkPackets(f *testing.F) {
	f.Add(longPacket(versionV1, 0, 1200))
	f.Add(cat(longPacket(versionV1, 0, 200), longPacket(versionV1, 2, 300), []byte{0x41, 1, 2}))
	f.Add(longPacket(versionV2, 3, 60))
	f.Add([]byte{0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})
	f.Add([]byte{0xc0, 0, 0, 0, 1, 0, 0, 0xff})
	f.Fuzz(func(t *testing.T, d []byte) {
		visits := 0
		walkPackets(d, func(packetKind) { visits++ })
		// Every packet but the last takes at least 7 bytes of header.
		if visits > len(d)/7+1 {
			t.Fatalf("%d packets in %d bytes", visits, len(d))
		}
	})
}
