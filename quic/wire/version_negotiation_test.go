package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

func TestVersionNegotiationRoundTrip(t *testing.T) {
	long := bytes.Repeat([]byte{0xab}, 255) // RFC 8999: up to 255 bytes
	tests := []struct {
		name       string
		dcid, scid []byte
		versions   []uint32
	}{
		{"typical", []byte{1, 2, 3, 4}, []byte{5, 6, 7, 8, 9, 10, 11, 12}, []uint32{Version2, Version1}},
		{"empty CIDs", nil, nil, []uint32{Version1}},
		{"255-byte CIDs", long, long, []uint32{Version1, 0x1a2a3a4a}},
	}
	for _, tt := range tests {
		pkt := AppendVersionNegotiation([]byte{0xee}, tt.dcid, tt.scid, tt.versions...)[1:]
		if len(pkt) != VersionNegotiationLen(tt.dcid, tt.scid, len(tt.versions)) {
			t.Errorf("%s: VersionNegotiationLen = %d, len = %d", tt.name, VersionNegotiationLen(tt.dcid, tt.scid, len(tt.versions)), len(pkt))
		}
		if !IsLongHeader(pkt[0]) || pkt[0]&0x40 == 0 {
			t.Errorf("%s: first byte %#x", tt.name, pkt[0])
		}
		dcid, scid, vs, err := ParseVersionNegotiation(pkt)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if !bytes.Equal(dcid, tt.dcid) || !bytes.Equal(scid, tt.scid) {
			t.Errorf("%s: CIDs %x %x", tt.name, dcid, scid)
		}
		if len(vs) != 4*len(tt.versions) {
			t.Fatalf("%s: %d version bytes", tt.name, len(vs))
		}
		for i, v := range tt.versions {
			if got := binary.BigEndian.Uint32(vs[4*i:]); got != v {
				t.Errorf("%s: version %d = %#x, want %#x", tt.name, i, got, v)
			}
		}
		h, err := ParseLongHeader(pkt)
		if err != nil || h.Type != PacketVersionNegotiation || h.PacketLen != len(pkt) {
			t.Errorf("%s: ParseLongHeader = %+v, %v", tt.name, h, err)
		}
	}
}

func TestParseVersionNegotiationErrors(t *testing.T) {
	good := AppendVersionNegotiation(nil, []byte{1}, []byte{2}, Version1)
	tests := []struct {
		name string
		pkt  []byte
	}{
		{"no versions", AppendVersionNegotiation(nil, []byte{1}, []byte{2})},
		{"partial version", good[:len(good)-1]},
		{"short header", []byte{0x80}},
		{"v1 packet", AppendRetry(nil, Version1, nil, []byte{1}, []byte{1}, []byte{2})},
	}
	for _, tt := range tests {
		if _, _, _, err := ParseVersionNegotiation(tt.pkt); !errors.Is(err, ErrMalformedPacket) {
			t.Errorf("%s: err = %v, want a malformed packet", tt.name, err)
		}
	}
	for i := range len(good) - 1 {
		if _, _, _, err := ParseVersionNegotiation(good[:i]); err == nil {
			t.Errorf("truncated to %d bytes: no error", i)
		}
	}
}
