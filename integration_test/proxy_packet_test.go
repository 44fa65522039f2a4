package integration_test

import "encoding/binary"

// The proxy reads the unprotected parts of QUIC headers, on its own, so that
// hooks can target packet types and tests can count them: the long-header
// form bit, version, type bits and lengths (RFC 9000 §17.2; header
// protection leaves the type bits of byte 0 in the clear, RFC 9001 §5.4.1).
// It never relies on the code under test for this.

// packetKind is the type of a QUIC packet as seen on the wire.
type packetKind int

const (
	kindInitial packetKind = iota
	kind0RTT
	kindHandshake
	kindRetry
	kindVersionNegotiation
	kindOneRTT // short header
	kindOther  // unknown version, or not a QUIC packet
	numKinds
)

var kindNames = [numKinds]string{"Initial", "0-RTT", "Handshake", "Retry", "VersionNegotiation", "1-RTT", "other"}

func (k packetKind) String() string {
	if k < 0 || k >= numKinds {
		return "invalid"
	}
	return kindNames[k]
}

// kindSet is a set of packet kinds.
type kindSet uint16

func (s kindSet) has(k packetKind) bool { return s&(1<<k) != 0 }

// QUIC versions whose long-header types the proxy knows.
const (
	versionV1 = 0x00000001 // RFC 9000
	versionV2 = 0x6b3343cf // RFC 9369
)

// longTypes maps the two type bits of a long header to a kind, per version:
// RFC 9000 §17.2 Table 5, and RFC 9369 §3.2 for v2.
var longTypes = map[uint32][4]packetKind{
	versionV1: {kindInitial, kind0RTT, kindHandshake, kindRetry},
	versionV2: {kindRetry, kindInitial, kind0RTT, kindHandshake},
}

// classifyDatagram returns the kinds of the packets coalesced in d.
func classifyDatagram(d []byte) kindSet {
	var s kindSet
	walkPackets(d, func(k packetKind) { s |= 1 << k })
	return s
}

// countPackets adds the packets of d to counts.
func countPackets(d []byte, counts *[numKinds]uint64) {
	walkPackets(d, func(k packetKind) { counts[k]++ })
}

// walkPackets calls visit with the kind of each packet coalesced in d
// (RFC 9000 §12.2). It stops at anything it cannot parse, reporting it as
// kindOther, and ignores trailing zero bytes (padding after the packets).
func walkPackets(d []byte, visit func(packetKind)) {
	for len(d) > 0 {
		b0 := d[0]
		if b0&0x80 == 0 { // short header: the rest of the datagram
			if b0 == 0 && allZero(d) {
				return
			}
			if b0&0x40 != 0 {
				visit(kindOneRTT)
			} else {
				visit(kindOther)
			}
			return
		}
		if len(d) < 7 {
			visit(kindOther)
			return
		}
		version := binary.BigEndian.Uint32(d[1:5])
		if version == 0 { // RFC 9000 §17.2.1: the whole datagram
			visit(kindVersionNegotiation)
			return
		}
		types, ok := longTypes[version]
		if !ok {
			visit(kindOther)
			return
		}
		kind := types[(b0>>4)&3]
		n, ok := longHeaderLen(d, kind)
		if !ok {
			visit(kindOther)
			return
		}
		visit(kind)
		d = d[n:]
	}
}

// longHeaderLen is the length of the long-header packet at the start of d,
// or false if its header does not fit. A Retry packet takes the rest of the
// datagram.
func longHeaderLen(d []byte, kind packetKind) (int, bool) {
	off := 5
	for range 2 { // destination, then source connection ID
		if off >= len(d) {
			return 0, false
		}
		off += 1 + int(d[off])
	}
	if off > len(d) {
		return 0, false
	}
	if kind == kindRetry {
		return len(d), true
	}
	if kind == kindInitial { // token
		v, n := readVarint(d[off:])
		if n == 0 || v > uint64(len(d)) {
			return 0, false
		}
		off += n + int(v)
	}
	if off > len(d) {
		return 0, false
	}
	v, n := readVarint(d[off:])
	if n == 0 || v > uint64(len(d)-off-n) {
		return 0, false
	}
	return off + n + int(v), true
}

// readVarint decodes a QUIC variable-length integer (RFC 9000 §16); n is 0
// if b is too short.
func readVarint(b []byte) (v uint64, n int) {
	if len(b) == 0 {
		return 0, 0
	}
	n = 1 << (b[0] >> 6)
	if len(b) < n {
		return 0, 0
	}
	v = uint64(b[0] & 0x3f)
	for _, c := range b[1:n] {
		v = v<<8 | uint64(c)
	}
	return v, n
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// dropFirst returns a hook that drops the first n datagrams in direction dir
// that carry a packet of kind k, and lets everything else through.
func dropFirst(dir direction, k packetKind, n int) func(*datagramInfo) verdict {
	dropped := 0 // calls for one direction never overlap
	return func(d *datagramInfo) verdict {
		if d.Dir != dir || !d.Kinds.has(k) || dropped >= n {
			return verdict{}
		}
		dropped++
		return verdict{Drop: true}
	}
}
