package wire

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"errors"
	"hash"
	"testing"
)

// Key update (RFC 9001 §6): each generation's secret is the previous one
// expanded with "quic ku" ("quicv2 ku"); packets sealed with generation N
// open with generation N only; the header protection key never changes.
func TestKeyUpdateChain(t *testing.T) {
	suites := []struct {
		id   uint16
		hash func() hash.Hash
	}{
		{tls.TLS_AES_128_GCM_SHA256, sha256.New},
		{tls.TLS_AES_256_GCM_SHA384, sha512.New384},
		{tls.TLS_CHACHA20_POLY1305_SHA256, sha256.New},
	}
	for _, version := range []Version{Version1, Version2} {
		for _, s := range suites {
			secret := bytes.Repeat([]byte{0x42}, s.hash().Size())
			sealGen := []*Keys{mustKeys(t, version, s.id, secret)}
			openGen := []*Keys{mustKeys(t, version, s.id, secret)}
			for i := 1; i <= 2; i++ {
				sealGen = append(sealGen, sealGen[i-1].Next())
				openGen = append(openGen, openGen[i-1].Next())
				want := hkdfExpandLabel(s.hash, sealGen[i-1].secret, versionLabels(version).ku, len(secret))
				if !bytes.Equal(sealGen[i].secret, want) {
					t.Errorf("%#x/%#x gen %d: secret %x, want %x", version, s.id, i, sealGen[i].secret, want)
				}
				if bytes.Equal(sealGen[i].iv[:], sealGen[i-1].iv[:]) {
					t.Errorf("gen %d: IV unchanged", i)
				}
			}
			for n, sk := range sealGen {
				pkt := AppendShortHeader(nil, []byte{1, 2, 3, 4}, 2, n%2 == 1, false)
				pkt = AppendPacketNumber(pkt, uint64(100+n), 2)
				pkt = append(pkt, []byte("key update payload")...)
				pkt = sk.Seal(pkt, 5, 2, uint64(100+n))
				for m, opener := range openGen {
					in := bytes.Clone(pkt)
					// Header protection is the same for every
					// generation: generation 0 removes it.
					pnLen, tpn, err := openGen[0].RemoveHeaderProtection(in, 5)
					if err != nil || pnLen != 2 || tpn != uint64(100+n) {
						t.Fatalf("gen %d: RemoveHeaderProtection = %d, %d, %v", n, pnLen, tpn, err)
					}
					if KeyPhase(in[0]) != (n%2 == 1) {
						t.Errorf("gen %d: key phase bit %v", n, KeyPhase(in[0]))
					}
					_, err = opener.Open(in, 5+pnLen, tpn)
					if (m == n) != (err == nil) {
						t.Errorf("%#x/%#x: sealed with gen %d, opened with gen %d: err = %v", version, s.id, n, m, err)
					}
					if err != nil && !errors.Is(err, ErrDecryptFailed) {
						t.Errorf("error %v is not ErrDecryptFailed", err)
					}
				}
			}
		}
	}
}

func mustKeys(t *testing.T, version Version, suite uint16, secret []byte) *Keys {
	t.Helper()
	k, err := NewKeys(version, suite, secret)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
