package wire

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"errors"
	"hash"

	"golang.org/x/crypto/chacha20poly1305"
)

// The cipher suites QUIC packet protection supports (RFC 9001 §5.3): the
// TLS 1.3 suites except TLS_AES_128_CCM_8_SHA256, whose header protection is
// not defined; TLS_AES_128_CCM_SHA256 is not offered by crypto/tls.

// suiteParams describes one TLS 1.3 cipher suite for QUIC.
type suiteParams struct {
	keyLen int // AEAD key and header protection key length
	hash   func() hash.Hash
	chacha bool // ChaCha20-Poly1305 and ChaCha20 header protection
}

func lookupSuite(id uint16) (suiteParams, bool) {
	switch id {
	case tls.TLS_AES_128_GCM_SHA256:
		return suiteParams{keyLen: 16, hash: sha256.New}, true
	case tls.TLS_AES_256_GCM_SHA384:
		return suiteParams{keyLen: 32, hash: sha512.New384}, true
	case tls.TLS_CHACHA20_POLY1305_SHA256:
		return suiteParams{keyLen: 32, hash: sha256.New, chacha: true}, true
	}
	return suiteParams{}, false
}

// ivLen is the AEAD nonce length of every supported suite (RFC 9001 §5.1:
// "quic iv" is the nonce length, at least 8 bytes).
const ivLen = 12

// labels are the HKDF labels of one QUIC version: RFC 9001 §5.1, §5.4 and
// §6.1 for v1, RFC 9369 §3.3.2 for v2.
type labels struct {
	key, iv, hp, ku string
}

var (
	labelsV1 = labels{key: "quic key", iv: "quic iv", hp: "quic hp", ku: "quic ku"}
	labelsV2 = labels{key: "quicv2 key", iv: "quicv2 iv", hp: "quicv2 hp", ku: "quicv2 ku"}
)

func versionLabels(v Version) labels {
	if v == Version2 {
		return labelsV2
	}
	return labelsV1
}

// expander computes HKDF-Expand-Label of TLS 1.3 (RFC 8446 §7.1) for
// several labels of one secret, with an empty context as QUIC uses it
// (RFC 9001 §5.1):
//
//	struct {
//	    uint16 length = Length;
//	    opaque label<7..255> = "tls13 " + Label;
//	    opaque context<0..255> = Context;
//	} HkdfLabel;
//
// It keys one HMAC with the secret and resets it for each label: a key, an
// IV and a header protection key cost one HMAC key schedule, not three
// (the handshake derives a dozen such values per connection).
type expander struct {
	mac hash.Hash
}

func newExpander(h func() hash.Hash, secret []byte) expander {
	return expander{mac: hmac.New(h, secret)}
}

// expand returns HKDF-Expand(secret, HkdfLabel, length) (RFC 5869 §2.3):
// T(1) | T(2) | ..., T(i) = HMAC(secret, T(i-1) | info | i).
func (e expander) expand(label string, length int) []byte {
	const prefix = "tls13 "
	size := e.mac.Size()
	// One buffer holds the output blocks, then the HMAC input of the
	// next block: T(i-1) | HkdfLabel | i.
	n := (length + size - 1) / size * size
	buf := make([]byte, n, n+size+2+1+len(prefix)+len(label)+1+1)
	out := buf[:0]
	for i := byte(1); len(out) < length; i++ {
		msg := buf[n:n]
		if i > 1 {
			msg = append(msg, out[len(out)-size:]...)
		}
		msg = append(msg, byte(length>>8), byte(length), byte(len(prefix)+len(label)))
		msg = append(msg, prefix...)
		msg = append(msg, label...)
		msg = append(msg, 0, i) // empty context, then the block counter
		e.mac.Reset()
		e.mac.Write(msg)
		out = e.mac.Sum(out)
	}
	return out[:length]
}

// hkdfExpandLabel is HKDF-Expand-Label with one label (see expander).
func hkdfExpandLabel(h func() hash.Hash, secret []byte, label string, length int) []byte {
	return newExpander(h, secret).expand(label, length)
}

// newAEAD returns the AEAD of suite s keyed with key.
func newAEAD(s suiteParams, key []byte) (cipher.AEAD, error) {
	if s.chacha {
		return chacha20poly1305.New(key)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

var (
	errUnknownSuite = errors.New("quic: cipher suite not supported for QUIC packet protection")
	errSecretLength = errors.New("quic: traffic secret length does not match the cipher suite's hash")
)

// AEAD usage limits, RFC 9001 §6.6.
const (
	aesGCMConfidentialityLimit = 1 << 23
	aesGCMIntegrityLimit       = 1 << 52
	chachaConfidentialityLimit = 1 << 62 // no practical limit: 2^62 packet numbers
	chachaIntegrityLimit       = 1 << 36
)
