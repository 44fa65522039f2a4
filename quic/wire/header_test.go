package wire

import (
	"bytes"
	"errors"
	"testing"
)

// buildLong builds a long-header packet with a payload of payloadLen bytes
// (including what would be the AEAD tag), unprotected.
func buildLong(h *LongHeader, pnLen, payloadLen int) []byte {
	pkt, lo := AppendLongHeader(nil, h, pnLen)
	pkt = AppendPacketNumber(pkt, 0x01020304, pnLen)
	pkt = append(pkt, make([]byte, payloadLen)...)
	PatchLength(pkt, lo, pnLen, payloadLen)
	return pkt
}

func TestLongHeaderRoundTrip(t *testing.T) {
	cid20 := bytes.Repeat([]byte{0xcc}, 20)
	for _, version := range []Version{Version1, Version2} {
		for _, typ := range []PacketType{PacketInitial, Packet0RTT, PacketHandshake} {
			for _, tc := range []struct {
				name       string
				dcid, scid []byte
				token      []byte
			}{
				{"empty CIDs", []byte{}, []byte{}, nil},
				{"20-byte CIDs", cid20, cid20, nil},
				{"token", []byte{1, 2, 3, 4, 5, 6, 7, 8}, []byte{9}, bytes.Repeat([]byte{0x7e}, 70)},
			} {
				for pnLen := 1; pnLen <= 4; pnLen++ {
					in := LongHeader{Type: typ, Version: version, DstConnID: tc.dcid, SrcConnID: tc.scid, Token: tc.token}
					pkt := buildLong(&in, pnLen, 40)
					if got := LongHeaderLen(&in); got+pnLen+40 != len(pkt) {
						t.Errorf("LongHeaderLen = %d, packet %d", got, len(pkt))
					}
					// A coalesced packet follows.
					datagram := append(bytes.Clone(pkt), 0x40, 1, 2, 3)
					h, err := ParseLongHeader(datagram)
					if err != nil {
						t.Fatalf("%#x %v %s pnLen %d: %v", version, typ, tc.name, pnLen, err)
					}
					wantToken := tc.token
					if typ != PacketInitial {
						wantToken = nil
					}
					if h.Type != typ || h.Version != version || !bytes.Equal(h.DstConnID, tc.dcid) ||
						!bytes.Equal(h.SrcConnID, tc.scid) || !bytes.Equal(h.Token, wantToken) ||
						h.Length != uint64(pnLen+40) || h.PNOffset != LongHeaderLen(&in) || h.PacketLen != len(pkt) {
						t.Errorf("%#x %v %s pnLen %d: parsed %+v", version, typ, tc.name, pnLen, h)
					}
					if int(datagram[0]&3)+1 != pnLen {
						t.Errorf("packet number length bits %d", datagram[0]&3)
					}
					if ReservedBitsSet(datagram[0]) {
						t.Errorf("reserved bits set: %#x", datagram[0])
					}
					dcid, err := PeekDstConnID(datagram, 5)
					if err != nil || !bytes.Equal(dcid, tc.dcid) {
						t.Errorf("PeekDstConnID = %x, %v", dcid, err)
					}
				}
			}
		}
	}
}

// The long packet type bits on the wire: RFC 9000 §17.2 Table 5 for v1,
// RFC 9369 §3.2 for v2.
func TestLongHeaderTypeBits(t *testing.T) {
	tests := []struct {
		version Version
		typ     PacketType
		bits    byte
	}{
		{Version1, PacketInitial, 0}, {Version1, Packet0RTT, 1}, {Version1, PacketHandshake, 2}, {Version1, PacketRetry, 3},
		{Version2, PacketInitial, 1}, {Version2, Packet0RTT, 2}, {Version2, PacketHandshake, 3}, {Version2, PacketRetry, 0},
	}
	for _, tt := range tests {
		var first byte
		if tt.typ == PacketRetry {
			first = AppendRetry(nil, tt.version, nil, []byte{1}, []byte{1}, []byte{2})[0]
		} else {
			first = buildLong(&LongHeader{Type: tt.typ, Version: tt.version}, 1, 20)[0]
		}
		if got := first >> 4 & 3; got != tt.bits {
			t.Errorf("%#x %v: type bits %d, want %d", tt.version, tt.typ, got, tt.bits)
		}
		if got := longPacketType(tt.version, tt.bits); got != tt.typ {
			t.Errorf("%#x bits %d: type %v, want %v", tt.version, tt.bits, got, tt.typ)
		}
	}
}

// Every strict prefix of a valid packet fails to parse, without panicking.
func TestLongHeaderTruncation(t *testing.T) {
	for _, version := range []Version{Version1, Version2} {
		pkts := map[string][]byte{
			"initial":   buildLong(&LongHeader{Type: PacketInitial, Version: version, DstConnID: []byte{1, 2, 3, 4}, SrcConnID: []byte{5, 6}, Token: []byte("tok")}, 2, 30),
			"handshake": buildLong(&LongHeader{Type: PacketHandshake, Version: version, DstConnID: []byte{1}, SrcConnID: []byte{}}, 4, 20),
			"0rtt":      buildLong(&LongHeader{Type: Packet0RTT, Version: version, DstConnID: []byte{}, SrcConnID: []byte{3}}, 1, 25),
			"retry":     AppendRetry(nil, version, []byte{1, 2}, []byte{3, 4, 5}, []byte("token"), []byte{6}),
		}
		for name, pkt := range pkts {
			if _, err := ParseLongHeader(pkt); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			for i := range len(pkt) {
				if name == "retry" && i >= len(pkt)-len("token") {
					// A Retry has no Length: a prefix that keeps the
					// 16-byte tag reads as a shorter token, and only
					// the integrity tag rejects it.
					if _, err := ValidateRetry(pkt[:i], []byte{6}); err == nil {
						t.Errorf("%#x retry: prefix of %d bytes validated", version, i)
					}
					continue
				}
				if h, err := ParseLongHeader(pkt[:i]); err == nil {
					t.Errorf("%#x %s: prefix of %d bytes parsed: %+v", version, name, i, h)
				} else if !errors.Is(err, ErrMalformedPacket) {
					t.Errorf("%#x %s: prefix %d: %v is not ErrMalformedPacket", version, name, i, err)
				}
			}
		}
	}
}

func TestParseLongHeaderErrors(t *testing.T) {
	valid := buildLong(&LongHeader{Type: PacketHandshake, Version: Version1, DstConnID: []byte{1}, SrcConnID: []byte{2}}, 1, 30)
	withByte := func(i int, v byte) []byte { c := bytes.Clone(valid); c[i] = v; return c }
	cid21 := bytes.Repeat([]byte{1}, 21)
	tooLongDCID := append([]byte{0xe0, 0, 0, 0, 1, 21}, cid21...)
	tooLongDCID = append(tooLongDCID, 0, 0x40, 20)
	tooLongDCID = append(tooLongDCID, make([]byte, 20)...)
	tests := []struct {
		name string
		pkt  []byte
		want error
	}{
		{"short header", withByte(0, 0x40), errNotLongHeader},
		{"fixed bit clear", withByte(0, valid[0]&^0x40), errFixedBit},
		{"DCID of 21 bytes", tooLongDCID, errConnIDTooLong},
		{"SCID of 21 bytes", withByte(7, 21), errConnIDTooLong},
		{"Length past the datagram", withByte(10, 32), errLengthTooLong},
		{"Length below 20", withByte(10, 19), errLengthTooShort},
	}
	for _, tt := range tests {
		if _, err := ParseLongHeader(tt.pkt); err != tt.want {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}

	// An unknown version returns its CIDs (of up to 255 bytes) with
	// ErrUnsupportedVersion, so that a Version Negotiation can answer.
	unknown := append([]byte{0xc0, 0x1a, 0x2a, 0x3a, 0x4a, 40}, bytes.Repeat([]byte{7}, 40)...)
	unknown = append(unknown, 3, 8, 8, 8)
	h, err := ParseLongHeader(unknown)
	if err != ErrUnsupportedVersion || errors.Is(err, ErrMalformedPacket) {
		t.Fatalf("unknown version: err = %v", err)
	}
	if h.Version != 0x1a2a3a4a || len(h.DstConnID) != 40 || !bytes.Equal(h.SrcConnID, []byte{8, 8, 8}) {
		t.Errorf("unknown version header %+v", h)
	}
	if dcid, err := PeekDstConnID(unknown, 0); err != nil || len(dcid) != 40 {
		t.Errorf("PeekDstConnID of an unknown version: %d bytes, %v", len(dcid), err)
	}
	if _, err := PeekDstConnID(tooLongDCID, 0); err != errConnIDTooLong {
		t.Errorf("PeekDstConnID of v1 with 21-byte DCID: %v", err)
	}
}

func TestParseLongHeaderNoAlloc(t *testing.T) {
	pkt := buildLong(&LongHeader{Type: PacketInitial, Version: Version2, DstConnID: []byte{1, 2, 3, 4, 5, 6, 7, 8}, SrcConnID: []byte{1}, Token: []byte("x")}, 4, 1200)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := ParseLongHeader(pkt); err != nil {
			t.Fatal(err)
		}
		if _, err := PeekDstConnID(pkt, 8); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("ParseLongHeader allocates %.0f times", allocs)
	}
	buf := make([]byte, 0, 128)
	h := LongHeader{Type: PacketHandshake, Version: Version1, DstConnID: []byte{1, 2, 3, 4}, SrcConnID: []byte{5}}
	allocs = testing.AllocsPerRun(100, func() {
		b, lo := AppendLongHeader(buf, &h, 2)
		b = AppendPacketNumber(b, 7, 2)
		PatchLength(b, lo, 2, 100)
		AppendShortHeader(buf, h.DstConnID, 2, true, false)
	})
	if allocs != 0 {
		t.Errorf("header encoders allocate %.0f times", allocs)
	}
}

func TestShortHeader(t *testing.T) {
	for _, cidLen := range []int{0, 8, 20} {
		dcid := bytes.Repeat([]byte{0x5a}, cidLen)
		for pnLen := 1; pnLen <= 4; pnLen++ {
			for _, bits := range []struct{ keyPhase, spin bool }{{false, false}, {true, false}, {false, true}, {true, true}} {
				pkt := AppendShortHeader(nil, dcid, pnLen, bits.keyPhase, bits.spin)
				if len(pkt) != ShortHeaderLen(cidLen) {
					t.Errorf("ShortHeaderLen(%d) = %d, len %d", cidLen, ShortHeaderLen(cidLen), len(pkt))
				}
				pkt = AppendPacketNumber(pkt, 0xaabbccdd, pnLen)
				if KeyPhase(pkt[0]) != bits.keyPhase || SpinBit(pkt[0]) != bits.spin || int(pkt[0]&3)+1 != pnLen || ReservedBitsSet(pkt[0]) {
					t.Errorf("first byte %#x for %+v pnLen %d", pkt[0], bits, pnLen)
				}
				got, pnOffset, err := ParseShortHeader(pkt, cidLen)
				if err != nil || !bytes.Equal(got, dcid) || pnOffset != 1+cidLen {
					t.Errorf("ParseShortHeader = %x, %d, %v", got, pnOffset, err)
				}
				if peek, err := PeekDstConnID(pkt, cidLen); err != nil || !bytes.Equal(peek, dcid) {
					t.Errorf("PeekDstConnID = %x, %v", peek, err)
				}
			}
		}
		// Every prefix up to and including the connection ID is too short.
		pkt := AppendShortHeader(nil, dcid, 1, false, false)
		for i := 0; i <= len(pkt); i++ {
			if _, _, err := ParseShortHeader(pkt[:i], cidLen); !errors.Is(err, ErrMalformedPacket) {
				t.Errorf("cidLen %d: prefix %d: err = %v", cidLen, i, err)
			}
		}
	}
	if _, _, err := ParseShortHeader([]byte{0x00, 1, 2}, 0); err != errFixedBit {
		t.Errorf("fixed bit clear: %v", err)
	}
	if _, _, err := ParseShortHeader([]byte{0xc0, 1, 2}, 0); err != errNotShortHeader {
		t.Errorf("long header: %v", err)
	}
	if _, _, err := ParseShortHeader([]byte{0x40, 1, 2}, 21); err == nil {
		t.Errorf("cidLen 21 accepted")
	}
	if _, err := PeekDstConnID(nil, 0); err == nil {
		t.Errorf("PeekDstConnID(nil) succeeded")
	}
	if _, err := PeekDstConnID([]byte{0x40, 1}, 4); err == nil {
		t.Errorf("PeekDstConnID of a truncated short header succeeded")
	}
}

func TestReservedBits(t *testing.T) {
	for _, tt := range []struct {
		b0   byte
		want bool
	}{
		{0xc0, false}, {0xc4, true}, {0xc8, true}, {0xc3, false},
		{0x40, false}, {0x48, true}, {0x50, true}, {0x47, false}, {0x60, false},
	} {
		if got := ReservedBitsSet(tt.b0); got != tt.want {
			t.Errorf("ReservedBitsSet(%#x) = %v", tt.b0, got)
		}
	}
}

func TestAppendLongHeaderPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"retry":   func() { AppendLongHeader(nil, &LongHeader{Type: PacketRetry, Version: Version1}, 1) },
		"version": func() { AppendLongHeader(nil, &LongHeader{Type: PacketInitial, Version: 7}, 1) },
		"pnLen 0": func() { AppendLongHeader(nil, &LongHeader{Type: PacketInitial, Version: Version1}, 0) },
		"21-byte CID": func() {
			AppendLongHeader(nil, &LongHeader{Type: PacketInitial, Version: Version1, DstConnID: make([]byte, 21)}, 1)
		},
		"short pnLen":  func() { AppendShortHeader(nil, nil, 5, false, false) },
		"patch length": func() { PatchLength(make([]byte, 2), 0, 4, MaxPatchLength) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}
