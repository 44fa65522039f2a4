package wire

import (
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"hash"
	"testing"
)

// TestExpanderMatchesHKDF: the expander's HKDF-Expand-Label equals
// crypto/hkdf.Expand with the same HkdfLabel, for lengths within one hash
// block and across several, with SHA-256 and SHA-384, label after label
// on one expander (its HMAC is reset between them).
func TestExpanderMatchesHKDF(t *testing.T) {
	secret := bytes.Repeat([]byte{0x5a}, 48)
	for _, h := range []struct {
		name string
		new  func() hash.Hash
	}{{"sha256", sha256.New}, {"sha384", sha512.New384}} {
		e := newExpander(h.new, secret)
		for _, label := range []string{"quic key", "quic iv", "quicv2 hp", "client in", ""} {
			for _, n := range []int{1, 12, 16, 32, 33, 48, 64, 65, 100, 255} {
				info := []byte{byte(n >> 8), byte(n), byte(6 + len(label))}
				info = append(info, "tls13 "+label...)
				info = append(info, 0)
				want, err := hkdf.Expand(h.new, secret, string(info), n)
				if err != nil {
					t.Fatal(err)
				}
				if got := e.expand(label, n); !bytes.Equal(got, want) {
					t.Errorf("%s %q %d: %x, want %x", h.name, label, n, got, want)
				}
			}
		}
	}
}

// BenchmarkNewKeys: deriving the keys of one traffic secret (key, IV,
// header protection key, AEAD and header protection ciphers).
func BenchmarkNewKeys(b *testing.B) {
	secret := bytes.Repeat([]byte{1}, 32)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := NewKeys(Version1, tls.TLS_AES_128_GCM_SHA256, secret); err != nil {
			b.Fatal(err)
		}
	}
}
