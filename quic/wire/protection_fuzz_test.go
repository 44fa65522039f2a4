package wire

import (
	"crypto/tls"
	"testing"
)

// FuzzUnprotect runs arbitrary datagrams through the receive path: header
// parsing, header protection removal and AEAD opening, with the Initial keys
// of the RFC vectors (as server or client) or the ChaCha20 1-RTT keys of
// RFC 9001 A.5 / RFC 9369 A.5. Every input yields an error or a payload.
func FuzzUnprotect(f *testing.F) {
	dcid := unhex(f, vectorDCID)
	type keySet struct {
		v1, v2 *Keys
	}
	var sets [4]keySet
	_, sets[0].v1 = NewInitialKeys(Version1, dcid, false) // server: opens client Initials
	_, sets[0].v2 = NewInitialKeys(Version2, dcid, false)
	_, sets[1].v1 = NewInitialKeys(Version1, dcid, true) // client: opens server Initials
	_, sets[1].v2 = NewInitialKeys(Version2, dcid, true)
	for i, v := range rfcVectorSets {
		k, err := NewKeys(v.version, tls.TLS_CHACHA20_POLY1305_SHA256, unhex(f, v.chachaSecret))
		if err != nil {
			f.Fatal(err)
		}
		sets[2+i].v1, sets[2+i].v2 = k, k
	}
	for i, v := range rfcVectorSets {
		f.Add(unhex(f, v.clientPacket), uint8(0))
		f.Add(unhex(f, v.serverPacket), uint8(1))
		f.Add(unhex(f, v.chachaPacket), uint8(2+i))
		// Two coalesced packets.
		f.Add(append(unhex(f, v.serverPacket), unhex(f, v.serverPacket)...), uint8(1))
	}
	f.Add(make([]byte, 21), uint8(2))
	f.Fuzz(func(t *testing.T, datagram []byte, which uint8) {
		ks := sets[int(which)%len(sets)]
		b := datagram
		for len(b) > 0 {
			var pkt []byte
			var pnOffset int
			largest := NoPacketNumber // nothing received yet
			k := ks.v1
			if IsLongHeader(b[0]) {
				h, err := ParseLongHeader(b)
				if err != nil || h.Type == PacketRetry || h.Type == PacketVersionNegotiation {
					return
				}
				if h.Version == Version2 {
					k = ks.v2
				}
				pkt, pnOffset = b[:h.PacketLen], h.PNOffset
				b = b[h.PacketLen:]
			} else {
				var err error
				if _, pnOffset, err = ParseShortHeader(b, 0); err != nil {
					return
				}
				pkt, b = b, nil
				largest = 654360563 // one below the packet number of A.5
			}
			pnLen, tpn, err := k.RemoveHeaderProtection(pkt, pnOffset)
			if err != nil {
				return
			}
			if pnLen < 1 || pnLen > 4 || tpn >= 1<<(8*pnLen) {
				t.Fatalf("pnLen %d, truncated pn %#x", pnLen, tpn)
			}
			pn := DecodePacketNumber(largest, tpn, 8*pnLen)
			payload, err := k.Open(pkt, pnOffset+pnLen, pn)
			if err != nil {
				continue
			}
			if len(payload) != len(pkt)-pnOffset-pnLen-k.Overhead() {
				t.Fatalf("payload of %d bytes from a %d-byte packet", len(payload), len(pkt))
			}
		}
	})
}
