package wire

import (
	"bytes"
	"testing"
)

// headerSeeds are valid packets of every kind, for the fuzz corpora.
func headerSeeds() [][]byte {
	seeds := [][]byte{
		AppendVersionNegotiation(nil, []byte{1, 2, 3}, []byte{4}, Version1, Version2),
		{0xc0, 0x1a, 0x2a, 0x3a, 0x4a, 0, 0}, // unknown version
		{0x40, 1, 2, 3, 4, 5, 6, 7, 8, 9},    // short header
	}
	for _, v := range []Version{Version1, Version2} {
		for _, typ := range []PacketType{PacketInitial, Packet0RTT, PacketHandshake} {
			h := LongHeader{Type: typ, Version: v, DstConnID: []byte{1, 2, 3, 4, 5, 6, 7, 8}, SrcConnID: []byte{9}, Token: []byte("tk")}
			seeds = append(seeds, buildLong(&h, 2, 24))
		}
		seeds = append(seeds, AppendRetry(nil, v, []byte{1}, []byte{2, 3}, []byte("token"), []byte{4, 5, 6, 7}))
	}
	return seeds
}

func FuzzParseLongHeader(f *testing.F) {
	for _, s := range headerSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseLongHeader(b)
		PeekDstConnID(b, 8)
		ParseVersionNegotiation(b)
		ValidateRetry(b, []byte{4, 5, 6, 7})
		if err != nil {
			return
		}
		if h.PacketLen > len(b) || h.PacketLen < 7 {
			t.Fatalf("PacketLen %d of %d bytes", h.PacketLen, len(b))
		}
		switch h.Type {
		case PacketInitial, Packet0RTT, PacketHandshake:
		default:
			return
		}
		if h.PNOffset+int(h.Length) != h.PacketLen || h.Length < minProtectedLen {
			t.Fatalf("PNOffset %d + Length %d != PacketLen %d", h.PNOffset, h.Length, h.PacketLen)
		}
		if len(h.DstConnID) > MaxConnIDLen || len(h.SrcConnID) > MaxConnIDLen {
			t.Fatalf("connection ID over 20 bytes")
		}
		if h.Length > MaxPatchLength {
			return
		}
		// Re-encode the header and parse it again.
		out, lo := AppendLongHeader(nil, &h, 1)
		pnOffset := len(out)
		out = AppendPacketNumber(out, 0, 1)
		out = append(out, make([]byte, h.Length-1)...)
		PatchLength(out, lo, 1, int(h.Length)-1)
		h2, err := ParseLongHeader(out)
		if err != nil {
			t.Fatalf("re-encoded header does not parse: %v", err)
		}
		if h2.Type != h.Type || h2.Version != h.Version || !bytes.Equal(h2.DstConnID, h.DstConnID) ||
			!bytes.Equal(h2.SrcConnID, h.SrcConnID) || !bytes.Equal(h2.Token, h.Token) ||
			h2.Length != h.Length || h2.PNOffset != pnOffset || h2.PacketLen != len(out) {
			t.Fatalf("round trip: %+v != %+v", h2, h)
		}
	})
}

func FuzzParseShortHeader(f *testing.F) {
	for _, s := range headerSeeds() {
		f.Add(s, 8)
	}
	f.Add([]byte{0x40}, 0)
	f.Add([]byte{0x41, 0}, -1)
	f.Fuzz(func(t *testing.T, b []byte, cidLen int) {
		dcid, pnOffset, err := ParseShortHeader(b, cidLen)
		PeekDstConnID(b, cidLen)
		if err != nil {
			return
		}
		if len(dcid) != cidLen || pnOffset != 1+cidLen || pnOffset >= len(b) {
			t.Fatalf("dcid %d bytes, pnOffset %d, cidLen %d, len %d", len(dcid), pnOffset, cidLen, len(b))
		}
		out := AppendShortHeader(nil, dcid, 1, KeyPhase(b[0]), SpinBit(b[0]))
		if !bytes.Equal(out[1:], b[1:pnOffset]) || out[0]&0xe4 != b[0]&0xe4 {
			t.Fatalf("re-encoded %x, input %x", out, b[:pnOffset])
		}
	})
}
