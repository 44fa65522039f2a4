package wire

import (
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

// unhex decodes a hex string, ignoring whitespace.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatalf("bad hex in test: %v", err)
	}
	return b
}

func checkHex(t *testing.T, what string, got []byte, want string) {
	t.Helper()
	if h := hex.EncodeToString(got); h != strings.Join(strings.Fields(want), "") {
		t.Errorf("%s:\n got %s\nwant %s", what, h, strings.Join(strings.Fields(want), ""))
	}
}

// RFC 9001 A.1, RFC 9369 A.1: the Initial secrets and the keys derived from
// them.
func TestRFCInitialKeys(t *testing.T) {
	for _, v := range rfcVectorSets {
		t.Run(v.name, func(t *testing.T) {
			dcid := unhex(t, vectorDCID)
			salt := initialSaltV1
			if v.version == Version2 {
				salt = initialSaltV2
			}
			prk, err := hkdf.Extract(sha256.New, dcid, salt)
			if err != nil {
				t.Fatal(err)
			}
			checkHex(t, "initial_secret", prk, v.initialSecret)
			client, server := initialSecrets(v.version, dcid)
			checkHex(t, "client_initial_secret", client, v.clientSecret)
			checkHex(t, "server_initial_secret", server, v.serverSecret)

			l := versionLabels(v.version)
			for _, side := range []struct {
				name        string
				secret      []byte
				key, iv, hp string
				isClient    bool
			}{
				{"client", client, v.clientKey, v.clientIV, v.clientHP, true},
				{"server", server, v.serverKey, v.serverIV, v.serverHP, false},
			} {
				checkHex(t, side.name+" key", hkdfExpandLabel(sha256.New, side.secret, l.key, 16), side.key)
				checkHex(t, side.name+" iv", hkdfExpandLabel(sha256.New, side.secret, l.iv, 12), side.iv)
				checkHex(t, side.name+" hp", hkdfExpandLabel(sha256.New, side.secret, l.hp, 16), side.hp)
				seal, open := NewInitialKeys(v.version, dcid, side.isClient)
				checkHex(t, side.name+" Keys.iv", seal.iv[:], side.iv)
				if seal.Overhead() != 16 || open.Overhead() != 16 {
					t.Errorf("Overhead = %d, %d; want 16", seal.Overhead(), open.Overhead())
				}
			}
		})
	}
}

// RFC 9001 A.2, RFC 9369 A.2: the client's Initial, built with
// AppendLongHeader, sealed, compared byte for byte, and opened again by the
// server.
func TestRFCClientInitial(t *testing.T) {
	for _, v := range rfcVectorSets {
		t.Run(v.name, func(t *testing.T) {
			dcid := unhex(t, vectorDCID)
			payload := make([]byte, 1162) // the CRYPTO frame, then PADDING
			copy(payload, unhex(t, v.clientPayload))

			h := LongHeader{Type: PacketInitial, Version: v.version, DstConnID: dcid, SrcConnID: []byte{}}
			pkt, lenOff := AppendLongHeader(make([]byte, 0, 1500), &h, 4)
			pnOffset := len(pkt)
			pkt = AppendPacketNumber(pkt, 2, 4)
			pkt = append(pkt, payload...)
			PatchLength(pkt, lenOff, 4, len(payload)+16)
			checkHex(t, "unprotected header", pkt[:pnOffset+4], v.clientHeader)

			seal, _ := NewInitialKeys(v.version, dcid, true)
			checkHex(t, "mask", seal.hp.mask(unhex(t, v.clientSample)), v.clientMask)
			pkt = seal.Seal(pkt, pnOffset, 4, 2)
			checkHex(t, "protected header", pkt[:pnOffset+4], v.clientProtectedHeader)
			checkHex(t, "packet", pkt, v.clientPacket)

			_, open := NewInitialKeys(v.version, dcid, false)
			got := openLong(t, open, unhex(t, v.clientPacket), NoPacketNumber, 2)
			if !bytes.Equal(got, payload) {
				t.Errorf("opened payload differs")
			}
		})
	}
}

// RFC 9001 A.3, RFC 9369 A.3: the server's Initial with a 2-byte packet
// number.
func TestRFCServerInitial(t *testing.T) {
	for _, v := range rfcVectorSets {
		t.Run(v.name, func(t *testing.T) {
			dcid := unhex(t, vectorDCID)
			payload := unhex(t, v.serverPayload)
			h := LongHeader{Type: PacketInitial, Version: v.version, DstConnID: []byte{}, SrcConnID: unhex(t, vectorServerSCID)}
			pkt, lenOff := AppendLongHeader(nil, &h, 2)
			pnOffset := len(pkt)
			pkt = AppendPacketNumber(pkt, 1, 2)
			pkt = append(pkt, payload...)
			PatchLength(pkt, lenOff, 2, len(payload)+16)
			checkHex(t, "unprotected header", pkt[:pnOffset+2], v.serverHeader)

			seal, _ := NewInitialKeys(v.version, dcid, false)
			checkHex(t, "mask", seal.hp.mask(unhex(t, v.serverSample)), v.serverMask)
			pkt = seal.Seal(pkt, pnOffset, 2, 1) // grows pkt: no spare capacity
			checkHex(t, "protected header", pkt[:pnOffset+2], v.serverProtectedHeader)
			checkHex(t, "packet", pkt, v.serverPacket)

			_, open := NewInitialKeys(v.version, dcid, true)
			got := openLong(t, open, unhex(t, v.serverPacket), 0, 1)
			if !bytes.Equal(got, payload) {
				t.Errorf("opened payload differs")
			}
		})
	}
}

// openLong unprotects a long-header packet step by step as a receiver does
// and checks the recovered packet number.
func openLong(t *testing.T, k *Keys, pkt []byte, largest, wantPN uint64) []byte {
	t.Helper()
	h, err := ParseLongHeader(pkt)
	if err != nil {
		t.Fatalf("ParseLongHeader: %v", err)
	}
	if h.PacketLen != len(pkt) {
		t.Fatalf("PacketLen = %d, want %d", h.PacketLen, len(pkt))
	}
	pkt = pkt[:h.PacketLen]
	pnLen, tpn, err := k.RemoveHeaderProtection(pkt, h.PNOffset)
	if err != nil {
		t.Fatalf("RemoveHeaderProtection: %v", err)
	}
	pn := DecodePacketNumber(largest, tpn, 8*pnLen)
	if pn != wantPN {
		t.Fatalf("packet number = %d, want %d", pn, wantPN)
	}
	if ReservedBitsSet(pkt[0]) {
		t.Errorf("reserved bits set after unprotection: %#x", pkt[0])
	}
	payload, err := k.Open(pkt, h.PNOffset+pnLen, pn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return payload
}

// RFC 9001 A.5, RFC 9369 A.5: ChaCha20-Poly1305 short header packet.
func TestRFCChaCha20ShortHeader(t *testing.T) {
	const pn = 654360564
	for _, v := range rfcVectorSets {
		t.Run(v.name, func(t *testing.T) {
			secret := unhex(t, v.chachaSecret)
			l := versionLabels(v.version)
			checkHex(t, "key", hkdfExpandLabel(sha256.New, secret, l.key, 32), v.chachaKey)
			checkHex(t, "iv", hkdfExpandLabel(sha256.New, secret, l.iv, 12), v.chachaIV)
			checkHex(t, "hp", hkdfExpandLabel(sha256.New, secret, l.hp, 32), v.chachaHP)
			checkHex(t, "ku", hkdfExpandLabel(sha256.New, secret, l.ku, 32), v.chachaKU)

			k, err := NewKeys(v.version, tls.TLS_CHACHA20_POLY1305_SHA256, secret)
			if err != nil {
				t.Fatal(err)
			}
			checkHex(t, "Keys.iv", k.iv[:], v.chachaIV)
			k.makeNonce(pn)
			checkHex(t, "nonce", k.nonce[:], v.chachaNonce)
			checkHex(t, "Next secret", k.Next().secret, v.chachaKU)
			checkHex(t, "mask", k.hp.mask(unhex(t, v.chachaSample)), v.chachaMask)

			// The header is built with AppendShortHeader: empty DCID,
			// 3-byte packet number, no spin, key phase 0.
			pkt := AppendShortHeader(make([]byte, 0, 64), nil, 3, false, false)
			pkt = AppendPacketNumber(pkt, pn, 3)
			checkHex(t, "unprotected header", pkt, v.chachaHeader)
			pkt = append(pkt, unhex(t, v.chachaPlaintext)...)
			pkt = k.Seal(pkt, 1, 3, pn)
			checkHex(t, "protected header", pkt[:4], v.chachaProtectedHeader)
			checkHex(t, "ciphertext", pkt[4:], v.chachaCiphertext)
			checkHex(t, "packet", pkt, v.chachaPacket)

			// Open it again.
			in := unhex(t, v.chachaPacket)
			dcid, pnOffset, err := ParseShortHeader(in, 0)
			if err != nil || len(dcid) != 0 || pnOffset != 1 {
				t.Fatalf("ParseShortHeader = %x, %d, %v", dcid, pnOffset, err)
			}
			pnLen, tpn, err := k.RemoveHeaderProtection(in, pnOffset)
			if err != nil || pnLen != 3 || tpn != 49140 {
				t.Fatalf("RemoveHeaderProtection = %d, %d, %v; want 3, 49140", pnLen, tpn, err)
			}
			if KeyPhase(in[0]) {
				t.Errorf("key phase set")
			}
			full := DecodePacketNumber(pn-1, tpn, 24)
			if full != pn {
				t.Fatalf("decoded packet number %d, want %d", full, pn)
			}
			payload, err := k.Open(in, pnOffset+pnLen, full)
			if err != nil {
				t.Fatal(err)
			}
			checkHex(t, "opened payload", payload, v.chachaPlaintext)
		})
	}
}

// Seal and Open round trips with every suite, both header forms, every
// packet number length, and tampering.
func TestSealOpenSuites(t *testing.T) {
	suites := []struct {
		name   string
		id     uint16
		secLen int
	}{
		{"AES-128-GCM", tls.TLS_AES_128_GCM_SHA256, 32},
		{"AES-256-GCM", tls.TLS_AES_256_GCM_SHA384, 48},
		{"ChaCha20-Poly1305", tls.TLS_CHACHA20_POLY1305_SHA256, 32},
	}
	for _, version := range []Version{Version1, Version2} {
		for _, s := range suites {
			for _, long := range []bool{false, true} {
				for pnLen := 1; pnLen <= 4; pnLen++ {
					secret := bytes.Repeat([]byte{byte(s.id)}, s.secLen)
					seal, err := NewKeys(version, s.id, secret)
					if err != nil {
						t.Fatal(err)
					}
					open, _ := NewKeys(version, s.id, secret)
					pn := uint64(0x1234567)
					var pkt []byte
					var pnOffset int
					payload := []byte("hello, QUIC")
					if long {
						h := LongHeader{Type: PacketHandshake, Version: version, DstConnID: []byte{1, 2, 3}, SrcConnID: []byte{4}}
						var lo int
						pkt, lo = AppendLongHeader(nil, &h, pnLen)
						pnOffset = len(pkt)
						pkt = AppendPacketNumber(pkt, pn, pnLen)
						pkt = append(pkt, payload...)
						PatchLength(pkt, lo, pnLen, len(payload)+seal.Overhead())
					} else {
						pkt = AppendShortHeader(nil, []byte{9, 8, 7, 6}, pnLen, true, true)
						pnOffset = len(pkt)
						pkt = AppendPacketNumber(pkt, pn, pnLen)
						pkt = append(pkt, payload...)
					}
					pkt = seal.Seal(pkt, pnOffset, pnLen, pn)
					tampered := bytes.Clone(pkt)
					tampered[len(tampered)-1] ^= 1

					gotLen, tpn, err := open.RemoveHeaderProtection(pkt, pnOffset)
					if err != nil || gotLen != pnLen {
						t.Fatalf("%v/%s/long=%v/pnLen=%d: RemoveHeaderProtection = %d, %v", version, s.name, long, pnLen, gotLen, err)
					}
					if !long && (!KeyPhase(pkt[0]) || !SpinBit(pkt[0])) {
						t.Errorf("key phase or spin bit lost: %#x", pkt[0])
					}
					full := DecodePacketNumber(pn-1, tpn, 8*pnLen)
					if full != pn {
						t.Fatalf("packet number %#x, want %#x", full, pn)
					}
					wrongPN := bytes.Clone(pkt)
					got, err := open.Open(pkt, pnOffset+pnLen, full)
					if err != nil || !bytes.Equal(got, payload) {
						t.Fatalf("Open = %q, %v", got, err)
					}

					// A flipped tag bit fails with ErrDecryptFailed.
					gotLen, _, _ = open.RemoveHeaderProtection(tampered, pnOffset)
					if _, err := open.Open(tampered, pnOffset+gotLen, pn); !errors.Is(err, ErrDecryptFailed) {
						t.Errorf("tampered packet: err = %v, want ErrDecryptFailed", err)
					}
					// So does the wrong packet number (nonce).
					if _, err := open.Open(wrongPN, pnOffset+pnLen, pn+1); !errors.Is(err, ErrDecryptFailed) {
						t.Errorf("wrong packet number: err = %v, want ErrDecryptFailed", err)
					}
				}
			}
		}
	}
}

func TestNewKeysErrors(t *testing.T) {
	tests := []struct {
		name    string
		version Version
		suite   uint16
		secLen  int
	}{
		{"unknown version", 0xff00001d, tls.TLS_AES_128_GCM_SHA256, 32},
		{"unknown suite", Version1, 0x1304, 32}, // TLS_AES_128_CCM_SHA256
		{"short secret", Version1, tls.TLS_AES_128_GCM_SHA256, 31},
		{"SHA-256 secret for SHA-384 suite", Version1, tls.TLS_AES_256_GCM_SHA384, 32},
	}
	for _, tt := range tests {
		if k, err := NewKeys(tt.version, tt.suite, make([]byte, tt.secLen)); err == nil || k != nil {
			t.Errorf("%s: NewKeys = %v, %v; want an error", tt.name, k, err)
		}
	}
	if s, o := NewInitialKeys(0xbabababa, []byte{1}, true); s != nil || o != nil {
		t.Errorf("NewInitialKeys of an unknown version returned keys")
	}
}

func TestRemoveHeaderProtectionTooShort(t *testing.T) {
	_, open := NewInitialKeys(Version1, []byte{1, 2, 3, 4}, false)
	pkt := make([]byte, 40)
	for pnOffset := 0; pnOffset < len(pkt); pnOffset++ {
		orig := bytes.Clone(pkt)
		_, _, err := open.RemoveHeaderProtection(pkt, pnOffset)
		ok := pnOffset >= 1 && pnOffset+4+SampleLen <= len(pkt)
		if (err == nil) != ok {
			t.Errorf("pnOffset %d: err = %v, want ok=%v", pnOffset, err, ok)
		}
		if err != nil && !bytes.Equal(pkt, orig) {
			t.Errorf("pnOffset %d: packet changed on error", pnOffset)
		}
		copy(pkt, orig)
	}
	if _, err := open.Open(make([]byte, 20), 5, 0); !errors.Is(err, ErrDecryptFailed) {
		t.Errorf("Open of a packet shorter than a tag: %v", err)
	}
}

func TestSealPanicsWithoutSample(t *testing.T) {
	seal, _ := NewInitialKeys(Version1, []byte{1, 2, 3, 4}, true)
	pkt := AppendShortHeader(nil, nil, 1, false, false)
	pkt = AppendPacketNumber(pkt, 0, 1)
	pkt = append(pkt, 1, 0) // 2 bytes: one short of MinPayloadLen(1)
	defer func() {
		if recover() == nil {
			t.Errorf("Seal of a packet too short for the sample did not panic")
		}
	}()
	seal.Seal(pkt, 1, 1, 0)
}

// ChaCha20 header protection takes its block counter from the sample, so an
// attacker controls it; the largest counter must not make the cipher panic.
func TestChaChaHeaderProtectionAnyCounter(t *testing.T) {
	k, err := NewKeys(Version1, tls.TLS_CHACHA20_POLY1305_SHA256, make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range [][4]byte{{0, 0, 0, 0}, {0xff, 0xff, 0xff, 0xff}, {0xfe, 0xff, 0xff, 0xff}} {
		sample := make([]byte, SampleLen)
		copy(sample, c[:])
		if m := k.hp.mask(sample); len(m) != 5 {
			t.Errorf("mask length %d", len(m))
		}
	}
}

func TestAEADLimits(t *testing.T) {
	aes, _ := NewKeys(Version1, tls.TLS_AES_128_GCM_SHA256, make([]byte, 32))
	cc, _ := NewKeys(Version1, tls.TLS_CHACHA20_POLY1305_SHA256, make([]byte, 32))
	// RFC 9001 §6.6.
	if aes.ConfidentialityLimit() != 1<<23 || aes.IntegrityLimit() != 1<<52 {
		t.Errorf("AES-GCM limits %d, %d", aes.ConfidentialityLimit(), aes.IntegrityLimit())
	}
	if cc.IntegrityLimit() != 1<<36 {
		t.Errorf("ChaCha20 integrity limit %d", cc.IntegrityLimit())
	}
	if aes.Suite() != tls.TLS_AES_128_GCM_SHA256 || cc.Version() != Version1 {
		t.Errorf("Suite/Version accessors")
	}
}
