package quic

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"net/netip"
	"time"
)

// Address validation tokens (RFC 9000 §8.1): a Retry token proves that the
// client received our Retry at its address; a NEW_TOKEN token lets a later
// connection from the same address skip the Retry round trip. Both are
// sealed with AES-GCM under an endpoint key, bound to the client's address
// through the AEAD's additional data, and carry their issue time.

const (
	tokenRetry    byte = 1
	tokenNewToken byte = 2

	retryTokenLifetime    = 10 * time.Second
	newTokenLifetime      = 24 * time.Hour
	maxTokenClockSkew     = time.Minute
	tokenNonceLen         = 12
	maxRetryTokenPlainLen = 1 + 8 + 1 + 20 + 1 + 20
)

var errBadToken = errors.New("quic: invalid address validation token")

// tokenProtector seals and opens tokens. It is safe for concurrent use.
type tokenProtector struct {
	aead cipher.AEAD
}

func newTokenProtector(key [32]byte) *tokenProtector {
	block, err := aes.NewCipher(key[:16])
	if err != nil {
		panic(err) // a 16-byte key never fails
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return &tokenProtector{aead: aead}
}

// token is the content of an address validation token.
type token struct {
	kind     byte
	issued   time.Time
	odcid    []byte // Retry: the client's original Destination Connection ID
	retrySCI []byte // Retry: the Source Connection ID of our Retry
}

// tokenAAD binds a token to the client's address: the IP for NEW_TOKEN
// tokens (a client's port changes between connections), IP and port for
// Retry tokens.
func tokenAAD(b []byte, kind byte, addr netip.AddrPort) []byte {
	b = append(b, kind)
	ip := addr.Addr().As16()
	b = append(b, ip[:]...)
	if kind == tokenRetry {
		b = binary.BigEndian.AppendUint16(b, addr.Port())
	}
	return b
}

// seal returns a new token for addr.
func (p *tokenProtector) seal(t token, addr netip.AddrPort) []byte {
	var plain [maxRetryTokenPlainLen]byte
	pb := append(plain[:0], t.kind)
	pb = binary.BigEndian.AppendUint64(pb, uint64(t.issued.Unix()))
	if t.kind == tokenRetry {
		pb = append(pb, byte(len(t.odcid)))
		pb = append(pb, t.odcid...)
		pb = append(pb, byte(len(t.retrySCI)))
		pb = append(pb, t.retrySCI...)
	}
	out := make([]byte, tokenNonceLen, tokenNonceLen+len(pb)+p.aead.Overhead())
	rand.Read(out)
	var aad [1 + 16 + 2]byte
	return p.aead.Seal(out, out[:tokenNonceLen], pb, tokenAAD(aad[:0], t.kind, addr))
}

// open checks a token received from addr and returns its content.
func (p *tokenProtector) open(b []byte, addr netip.AddrPort, now time.Time) (token, error) {
	var t token
	if len(b) < tokenNonceLen+1+p.aead.Overhead() {
		return t, errBadToken
	}
	// The kind is not in clear text: try both address bindings.
	var plain [maxRetryTokenPlainLen]byte
	var aad [1 + 16 + 2]byte
	var pb []byte
	var err error
	for _, kind := range []byte{tokenRetry, tokenNewToken} {
		pb, err = p.aead.Open(plain[:0], b[:tokenNonceLen], b[tokenNonceLen:], tokenAAD(aad[:0], kind, addr))
		if err == nil {
			break
		}
	}
	if err != nil || len(pb) < 9 {
		return t, errBadToken
	}
	t.kind = pb[0]
	t.issued = time.Unix(int64(binary.BigEndian.Uint64(pb[1:9])), 0)
	life := newTokenLifetime
	if t.kind == tokenRetry {
		life = retryTokenLifetime
		rest := pb[9:]
		if len(rest) < 1 || len(rest) < 1+int(rest[0]) {
			return t, errBadToken
		}
		t.odcid = append([]byte(nil), rest[1:1+rest[0]]...)
		rest = rest[1+rest[0]:]
		if len(rest) < 1 || len(rest) != 1+int(rest[0]) {
			return t, errBadToken
		}
		t.retrySCI = append([]byte(nil), rest[1:]...)
	}
	if now.Before(t.issued.Add(-maxTokenClockSkew)) || now.After(t.issued.Add(life)) {
		return t, errBadToken
	}
	return t, nil
}
