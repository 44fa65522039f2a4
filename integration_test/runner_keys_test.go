package integration_test

import (
	"bufio"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"strings"
	"sync"

	"golang.org/x/crypto/chacha20"
	"golang.org/x/crypto/chacha20poly1305"
)

// An independent reader of QUIC packet protection (RFC 9001 §5, RFC 9369
// §3.3), written for the tests from the RFCs alone and sharing no code with
// the implementation under test: it opens what the proxy recorded the way
// the interop runner's tshark does, with Initial keys derived from the
// client's connection ID and the other keys from an SSLKEYLOGFILE-format
// key log.

// Initial salts: RFC 9001 §5.2 and RFC 9369 §3.3.1.
var (
	saltV1 = mustHex("38762cf7f55934b34d179ae6a4c80cadccbb7f0a")
	saltV2 = mustHex("0dede3def700a6db819381be6e269dcbf9bd2ed9")
)

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// expandLabel is TLS 1.3's HKDF-Expand-Label with an empty context (RFC
// 8446 §7.1), as RFC 9001 §5.1 uses it.
func expandLabel(h func() hash.Hash, secret []byte, label string, n int) []byte {
	info := make([]byte, 0, 4+6+len(label))
	info = binary.BigEndian.AppendUint16(info, uint16(n))
	info = append(info, byte(6+len(label)))
	info = append(info, "tls13 "...)
	info = append(info, label...)
	info = append(info, 0)
	out, err := hkdf.Expand(h, secret, string(info), n)
	if err != nil {
		panic(err) // n is far below HKDF's limit
	}
	return out
}

// suite is a TLS 1.3 cipher suite as QUIC packet protection uses it.
type suite struct {
	name   string
	hash   func() hash.Hash
	keyLen int
	aead   func(key []byte) (cipher.AEAD, error)
	hp     func(key []byte) (func(sample []byte) [5]byte, error)
}

var (
	suiteAES128 = suite{"TLS_AES_128_GCM_SHA256", sha256.New, 16, newGCM, aesHP}
	suiteAES256 = suite{"TLS_AES_256_GCM_SHA384", sha512.New384, 32, newGCM, aesHP}
	suiteChaCha = suite{"TLS_CHACHA20_POLY1305_SHA256", sha256.New, 32, chacha20poly1305.New, chachaHP}
)

func newGCM(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// aesHP: the mask is the AES encryption of the sample (RFC 9001 §5.4.3).
func aesHP(key []byte) (func([]byte) [5]byte, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return func(sample []byte) [5]byte {
		var out [16]byte
		b.Encrypt(out[:], sample[:16])
		return [5]byte(out[:5])
	}, nil
}

// chachaHP: the mask is ChaCha20 keystream with the sample's first 4 bytes
// as the block counter and the other 12 as the nonce (RFC 9001 §5.4.4).
func chachaHP(key []byte) (func([]byte) [5]byte, error) {
	k := append([]byte(nil), key...)
	return func(sample []byte) [5]byte {
		var mask [5]byte
		c, err := chacha20.NewUnauthenticatedCipher(k, sample[4:16])
		if err != nil {
			return mask
		}
		c.SetCounter(binary.LittleEndian.Uint32(sample[:4]))
		c.XORKeyStream(mask[:], mask[:])
		return mask
	}, nil
}

// keys protect the packets of one direction at one encryption level.
type keys struct {
	suite  suite
	secret []byte // for the next key phase (1-RTT)
	aead   cipher.AEAD
	iv     []byte
	hp     func(sample []byte) [5]byte
	v2     bool
}

// labels are RFC 9001 §5.1's, or RFC 9369 §3.3.2's for v2.
func labels(v2 bool) (key, iv, hp, ku string) {
	if v2 {
		return "quicv2 key", "quicv2 iv", "quicv2 hp", "quicv2 ku"
	}
	return "quic key", "quic iv", "quic hp", "quic ku"
}

// newKeys derives packet protection keys from a traffic secret.
func newKeys(s suite, secret []byte, v2 bool) (*keys, error) {
	kl, ivl, hpl, _ := labels(v2)
	aead, err := s.aead(expandLabel(s.hash, secret, kl, s.keyLen))
	if err != nil {
		return nil, err
	}
	hp, err := s.hp(expandLabel(s.hash, secret, hpl, s.keyLen))
	if err != nil {
		return nil, err
	}
	return &keys{suite: s, secret: secret, aead: aead, iv: expandLabel(s.hash, secret, ivl, 12), hp: hp, v2: v2}, nil
}

// next derives the keys of the next key phase (RFC 9001 §6.1); the header
// protection key stays.
func (k *keys) next() *keys {
	_, _, _, ku := labels(k.v2)
	secret := expandLabel(k.suite.hash, k.secret, ku, len(k.secret))
	n, err := newKeys(k.suite, secret, k.v2)
	if err != nil {
		return nil
	}
	n.hp = k.hp
	return n
}

// initialKeys are the Initial keys of one direction for a connection whose
// client first sent to dcid (RFC 9001 §5.2).
func initialKeys(version uint32, dcid []byte, client bool) *keys {
	salt, v2 := saltV1, false
	if version == versionV2 {
		salt, v2 = saltV2, true
	}
	initial, err := hkdf.Extract(sha256.New, dcid, salt)
	if err != nil {
		return nil
	}
	label := "server in"
	if client {
		label = "client in"
	}
	k, err := newKeys(suiteAES128, expandLabel(sha256.New, initial, label, 32), v2)
	if err != nil {
		return nil
	}
	return k
}

// opened is a packet whose protection was removed.
type opened struct {
	pn       uint64
	keyPhase bool
	payload  []byte
}

// errOpen: the packet does not open with these keys.
var errOpen = errors.New("packet does not open")

// open removes header and packet protection from the packet p (a copy is
// made), whose packet number starts at pnOff; largest is the largest
// packet number received so far in its space (-1 for none).
func (k *keys) open(p []byte, pnOff int, largest int64) (opened, error) {
	if len(p) < pnOff+4+16 {
		return opened{}, errOpen
	}
	p = append([]byte(nil), p...)
	mask := k.hp(p[pnOff+4 : pnOff+20]) // RFC 9001 §5.4.2: sample after 4 bytes
	if p[0]&0x80 != 0 {
		p[0] ^= mask[0] & 0x0f
	} else {
		p[0] ^= mask[0] & 0x1f
	}
	pnLen := int(p[0]&3) + 1
	var truncated uint64
	for i := range pnLen {
		p[pnOff+i] ^= mask[1+i]
		truncated = truncated<<8 | uint64(p[pnOff+i])
	}
	pn := decodePacketNumber(largest, truncated, pnLen*8)
	nonce := append([]byte(nil), k.iv...)
	for i := range 8 {
		nonce[len(nonce)-1-i] ^= byte(pn >> (8 * i))
	}
	hdr := p[:pnOff+pnLen]
	payload, err := k.aead.Open(nil, nonce, p[pnOff+pnLen:], hdr)
	if err != nil {
		return opened{}, errOpen
	}
	return opened{pn: pn, keyPhase: p[0]&0x04 != 0, payload: payload}, nil
}

// decodePacketNumber is RFC 9000 §A.3.
func decodePacketNumber(largest int64, truncated uint64, bits int) uint64 {
	expected := uint64(largest + 1)
	win := uint64(1) << bits
	hwin, mask := win/2, win-1
	candidate := (expected &^ mask) | truncated
	switch {
	case candidate+hwin <= expected && candidate < (1<<62)-win:
		return candidate + win
	case candidate > expected+hwin && candidate >= win:
		return candidate - win
	}
	return candidate
}

// keyLog collects the secrets crypto/tls writes to a tls.Config's
// KeyLogWriter (the SSLKEYLOGFILE format), by client random.
type keyLog struct {
	mu      sync.Mutex
	pending []byte
	secrets map[string]map[string][]byte // client random → label → secret
	order   []string                     // client randoms in order
}

// Write takes whole or partial lines.
func (l *keyLog) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pending = append(l.pending, b...)
	for {
		i := strings.IndexByte(string(l.pending), '\n')
		if i < 0 {
			return len(b), nil
		}
		l.addLine(string(l.pending[:i]))
		l.pending = l.pending[i+1:]
	}
}

func (l *keyLog) addLine(line string) {
	f := strings.Fields(line)
	if len(f) != 3 || strings.HasPrefix(line, "#") {
		return
	}
	secret, err := hex.DecodeString(f[2])
	if err != nil {
		return
	}
	if l.secrets == nil {
		l.secrets = make(map[string]map[string][]byte)
	}
	m := l.secrets[f[1]]
	if m == nil {
		m = make(map[string][]byte)
		l.secrets[f[1]] = m
		l.order = append(l.order, f[1])
	}
	m[f[0]] = secret
}

// read adds the lines of a key log file.
func (l *keyLog) read(r io.Reader) error {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		l.mu.Lock()
		l.addLine(sc.Text())
		l.mu.Unlock()
	}
	return sc.Err()
}

// keyLogSession is the secrets of one TLS session, by label.
type keyLogSession struct {
	random  string // the client random, in hex as logged
	secrets map[string][]byte
}

// sessions returns the sessions logged so far, in order.
func (l *keyLog) sessions() []keyLogSession {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []keyLogSession
	for _, cr := range l.order {
		out = append(out, keyLogSession{random: cr, secrets: l.secrets[cr]})
	}
	return out
}

// suitesFor are the suites a secret of this length may belong to.
func suitesFor(secret []byte) []suite {
	if len(secret) == 48 {
		return []suite{suiteAES256}
	}
	return []suite{suiteAES128, suiteChaCha}
}
