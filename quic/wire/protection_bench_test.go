package wire

import (
	"crypto/tls"
	"testing"
)

// 1-RTT packets of 1452 bytes (a 1500-byte MTU minus IPv6 and UDP headers):
// short header with an 8-byte connection ID and a 2-byte packet number.
const benchPacketLen = 1452

var benchDCID = []byte{1, 2, 3, 4, 5, 6, 7, 8}

func benchKeys(b *testing.B, suite uint16) (seal, open *Keys) {
	secret := make([]byte, 32)
	for i := range secret {
		secret[i] = byte(i)
	}
	seal, err := NewKeys(Version1, suite, secret)
	if err != nil {
		b.Fatal(err)
	}
	open, _ = NewKeys(Version1, suite, secret)
	return seal, open
}

// buildBenchPacket writes an unprotected 1-RTT packet into buf and returns
// it with the packet number offset.
func buildBenchPacket(buf []byte, payload []byte, pn uint64) ([]byte, int) {
	pkt := AppendShortHeader(buf[:0], benchDCID, 2, false, false)
	pnOffset := len(pkt)
	pkt = AppendPacketNumber(pkt, pn, 2)
	return append(pkt, payload...), pnOffset
}

func benchSeal(b *testing.B, suite uint16) {
	seal, _ := benchKeys(b, suite)
	payload := make([]byte, benchPacketLen-ShortHeaderLen(len(benchDCID))-2-tagLen)
	buf := make([]byte, 0, 2048)
	b.SetBytes(benchPacketLen)
	b.ReportAllocs()
	pn := uint64(0)
	for b.Loop() {
		pkt, pnOffset := buildBenchPacket(buf, payload, pn)
		pkt = seal.Seal(pkt, pnOffset, 2, pn)
		if len(pkt) != benchPacketLen {
			b.Fatalf("packet of %d bytes", len(pkt))
		}
		pn++
	}
}

func benchOpen(b *testing.B, suite uint16) {
	seal, open := benchKeys(b, suite)
	payload := make([]byte, benchPacketLen-ShortHeaderLen(len(benchDCID))-2-tagLen)
	const pn = 12345
	sealed, pnOffset := buildBenchPacket(make([]byte, 0, 2048), payload, pn)
	sealed = seal.Seal(sealed, pnOffset, 2, pn)
	buf := make([]byte, len(sealed))
	b.SetBytes(benchPacketLen)
	b.ReportAllocs()
	for b.Loop() {
		// Opening works in place: start from a fresh copy each time, as a
		// receive buffer would hold it.
		copy(buf, sealed)
		_, off, err := ParseShortHeader(buf, len(benchDCID))
		if err != nil {
			b.Fatal(err)
		}
		pnLen, tpn, err := open.RemoveHeaderProtection(buf, off)
		if err != nil {
			b.Fatal(err)
		}
		full := DecodePacketNumber(pn-1, tpn, 8*pnLen)
		if _, err := open.Open(buf, off+pnLen, full); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSeal1RTT(b *testing.B)         { benchSeal(b, tls.TLS_AES_128_GCM_SHA256) }
func BenchmarkOpen1RTT(b *testing.B)         { benchOpen(b, tls.TLS_AES_128_GCM_SHA256) }
func BenchmarkSeal1RTTChaCha20(b *testing.B) { benchSeal(b, tls.TLS_CHACHA20_POLY1305_SHA256) }
func BenchmarkOpen1RTTChaCha20(b *testing.B) { benchOpen(b, tls.TLS_CHACHA20_POLY1305_SHA256) }

func BenchmarkParseLongHeader(b *testing.B) {
	pkt := buildLong(&LongHeader{Type: PacketInitial, Version: Version1, DstConnID: benchDCID, SrcConnID: benchDCID, Token: make([]byte, 40)}, 4, 1200)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseLongHeader(pkt); err != nil {
			b.Fatal(err)
		}
	}
}

// The 1-RTT send and receive paths do not allocate.
func TestSealOpenNoAlloc(t *testing.T) {
	for _, suite := range []uint16{tls.TLS_AES_128_GCM_SHA256, tls.TLS_AES_256_GCM_SHA384, tls.TLS_CHACHA20_POLY1305_SHA256} {
		secret := make([]byte, 48)
		if suite != tls.TLS_AES_256_GCM_SHA384 {
			secret = secret[:32]
		}
		seal, _ := NewKeys(Version2, suite, secret)
		open, _ := NewKeys(Version2, suite, secret)
		payload := make([]byte, 1000)
		buf := make([]byte, 0, 2048)
		allocs := testing.AllocsPerRun(100, func() {
			pkt, off := buildBenchPacket(buf, payload, 77)
			pkt = seal.Seal(pkt, off, 2, 77)
			pnLen, tpn, err := open.RemoveHeaderProtection(pkt, off)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := open.Open(pkt, off+pnLen, DecodePacketNumber(76, tpn, 8*pnLen)); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("suite %#x: seal+open allocates %.0f times", suite, allocs)
		}
	}
}
