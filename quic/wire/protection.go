package wire

import (
	"crypto/cipher"
	"encoding/binary"
	"slices"
)

// Packet protection, RFC 9001 §5: AEAD sealing and opening in place, with
// header protection.

// SampleLen is the length of the ciphertext sample header protection takes,
// 4 bytes after the start of the packet number (RFC 9001 §5.4.2), for every
// supported suite.
const SampleLen = 16

// tagLen is the AEAD expansion of every supported suite.
const tagLen = 16

// ErrDecryptFailed is returned by Open when the AEAD rejects a packet. The
// packet is dropped (RFC 9001 §5.5); it is not a connection error.
var ErrDecryptFailed = &PacketError{"packet decryption failed", false}

var errTooShortForSample = &PacketError{"packet too short for the header protection sample", true}

// Keys holds the packet protection keys of one direction and one key
// generation: the AEAD with its IV, the header protection cipher, and the
// secret, suite and version from which Next derives the next generation
// (RFC 9001 §6). A Keys keeps scratch space for nonces and masks so that
// sealing and opening do not allocate; it must be used by one goroutine at a
// time.
type Keys struct {
	aead    cipher.AEAD
	iv      [ivLen]byte
	nonce   [ivLen]byte
	hp      headerProtector
	secret  []byte
	suite   uint16
	version Version
}

// NewKeys derives packet protection keys from a TLS traffic secret of the
// given cipher suite (tls.TLS_AES_128_GCM_SHA256, tls.TLS_AES_256_GCM_SHA384
// or tls.TLS_CHACHA20_POLY1305_SHA256) for QUIC version v1 or v2: key, IV and
// header protection key with the version's labels (RFC 9001 §5.1, RFC 9369
// §3.3.2). The secret must be as long as the suite's hash.
func NewKeys(version Version, suite uint16, secret []byte) (*Keys, error) {
	if !IsSupportedVersion(version) {
		return nil, ErrUnsupportedVersion
	}
	s, ok := lookupSuite(suite)
	if !ok {
		return nil, errUnknownSuite
	}
	if len(secret) != s.hash().Size() {
		return nil, errSecretLength
	}
	l := versionLabels(version)
	e := newExpander(s.hash, secret)
	hp, err := newHeaderProtector(s, e.expand(l.hp, s.keyLen))
	if err != nil {
		return nil, err
	}
	return newKeysFrom(version, suite, s, slices.Clone(secret), e, hp)
}

// newKeysWithHP derives the AEAD key and IV from secret and pairs them with
// an existing header protector (shared across key updates, RFC 9001 §6).
func newKeysWithHP(version Version, suite uint16, s suiteParams, secret []byte, hp headerProtector) (*Keys, error) {
	return newKeysFrom(version, suite, s, secret, newExpander(s.hash, secret), hp)
}

// newKeysFrom is newKeysWithHP with an expander already keyed with secret.
func newKeysFrom(version Version, suite uint16, s suiteParams, secret []byte, e expander, hp headerProtector) (*Keys, error) {
	l := versionLabels(version)
	aead, err := newAEAD(s, e.expand(l.key, s.keyLen))
	if err != nil {
		return nil, err
	}
	k := &Keys{aead: aead, hp: hp, secret: secret, suite: suite, version: version}
	copy(k.iv[:], e.expand(l.iv, ivLen))
	return k, nil
}

// Suite returns the TLS cipher suite of k.
func (k *Keys) Suite() uint16 { return k.suite }

// Version returns the QUIC version whose labels derived k.
func (k *Keys) Version() Version { return k.version }

// Overhead returns the number of bytes Seal adds to the payload: the AEAD
// tag, 16 bytes for every supported suite.
func (k *Keys) Overhead() int { return k.aead.Overhead() }

// ConfidentialityLimit returns how many packets k may seal before a key
// update (RFC 9001 §6.6).
func (k *Keys) ConfidentialityLimit() uint64 {
	if k.hp.chacha {
		return chachaConfidentialityLimit
	}
	return aesGCMConfidentialityLimit
}

// IntegrityLimit returns how many packets that fail to open with k the
// connection may accept before closing with AEAD_LIMIT_REACHED
// (RFC 9001 §6.6).
func (k *Keys) IntegrityLimit() uint64 {
	if k.hp.chacha {
		return chachaIntegrityLimit
	}
	return aesGCMIntegrityLimit
}

// MinPayloadLen returns the least plaintext payload length a packet with a
// packet number of pnLen bytes needs so that header protection has a full
// sample: packet number and payload together at least 4 bytes
// (RFC 9001 §5.4.2). Pad shorter payloads with PADDING frames.
func MinPayloadLen(pnLen int) int { return 4 - pnLen }

// makeNonce sets k.nonce to the IV XORed with the packet number, left-padded
// to the IV length (RFC 9001 §5.3).
func (k *Keys) makeNonce(pn uint64) {
	k.nonce = k.iv
	var p [8]byte
	binary.BigEndian.PutUint64(p[:], pn)
	for i := range p {
		k.nonce[ivLen-8+i] ^= p[i]
	}
}

// Seal protects a packet in place. pkt holds the header, whose packet
// number of pnLen bytes starts at pnOffset, followed by the plaintext
// payload; the Length field of a long header must already count the tag.
// Seal encrypts the payload, appends the AEAD tag, applies header protection
// with the sample at pnOffset+4 (RFC 9001 §5.3, §5.4) and returns the
// packet. It does not allocate when cap(pkt) leaves room for Overhead()
// bytes. A payload shorter than MinPayloadLen(pnLen) is a caller bug and
// panics.
func (k *Keys) Seal(pkt []byte, pnOffset, pnLen int, pn uint64) []byte {
	hdrLen := pnOffset + pnLen
	if pnOffset < 1 || pnLen < 1 || pnLen > 4 || len(pkt)-hdrLen < MinPayloadLen(pnLen) {
		panic("wire: Seal: packet too short for header protection")
	}
	pkt = slices.Grow(pkt, tagLen)
	k.makeNonce(pn)
	ct := k.aead.Seal(pkt[hdrLen:hdrLen], k.nonce[:], pkt[hdrLen:], pkt[:hdrLen])
	pkt = pkt[:hdrLen+len(ct)]
	mask := k.hp.mask(pkt[pnOffset+4 : pnOffset+4+SampleLen])
	if IsLongHeader(pkt[0]) {
		pkt[0] ^= mask[0] & 0x0f
	} else {
		pkt[0] ^= mask[0] & 0x1f
	}
	for i := range pnLen {
		pkt[pnOffset+i] ^= mask[1+i]
	}
	return pkt
}

// RemoveHeaderProtection removes header protection in place from the packet
// pkt, whose packet number starts at pnOffset (RFC 9001 §5.4.1): it unmasks
// the low bits of the first byte (4 for a long header, 5 for a short one,
// including the key phase) and the packet number, and returns the packet
// number's length and its truncated value. pkt must end where the packet
// ends (for a long header, at PacketLen) so that the sample is taken from
// this packet. A packet too short for the sample is an error and is left
// unchanged.
func (k *Keys) RemoveHeaderProtection(pkt []byte, pnOffset int) (pnLen int, truncatedPN uint64, err error) {
	if pnOffset < 1 || len(pkt)-pnOffset < 4+SampleLen {
		return 0, 0, errTooShortForSample
	}
	mask := k.hp.mask(pkt[pnOffset+4 : pnOffset+4+SampleLen])
	if IsLongHeader(pkt[0]) {
		pkt[0] ^= mask[0] & 0x0f
	} else {
		pkt[0] ^= mask[0] & 0x1f
	}
	pnLen = int(pkt[0]&pnLenMask) + 1
	for i := range pnLen {
		pkt[pnOffset+i] ^= mask[1+i]
		truncatedPN = truncatedPN<<8 | uint64(pkt[pnOffset+i])
	}
	return pnLen, truncatedPN, nil
}

// Open decrypts in place the payload of a packet whose header protection
// was removed: pkt[:hdrLen] is the header up to the end of the packet number
// (the associated data) and pkt[hdrLen:] the ciphertext with its tag; pn is
// the full packet number (DecodePacketNumber). The returned payload aliases
// pkt. On failure it returns ErrDecryptFailed and the ciphertext bytes are
// no longer meaningful (the AEAD may clear them), so each packet gets one
// attempt.
func (k *Keys) Open(pkt []byte, hdrLen int, pn uint64) (payload []byte, err error) {
	if hdrLen < 1 || len(pkt)-hdrLen < tagLen {
		return nil, ErrDecryptFailed
	}
	k.makeNonce(pn)
	payload, err = k.aead.Open(pkt[hdrLen:hdrLen], k.nonce[:], pkt[hdrLen:], pkt[:hdrLen])
	if err != nil {
		return nil, ErrDecryptFailed
	}
	return payload, nil
}
