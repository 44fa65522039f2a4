package wire

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"sync"
)

// Retry packets and their integrity tag: RFC 9000 §17.2.5, RFC 9001 §5.8,
// RFC 9369 §3.3.3 for QUIC v2.

// retryTagLen is the length of the Retry Integrity Tag.
const retryTagLen = 16

// Retry Integrity Tag keys and nonces. They are derived from fixed secrets
// with "quic key"/"quic iv" (v1) and "quicv2 key"/"quicv2 iv" (v2); the tests
// check the derivation.
var (
	retryKeyV1   = [16]byte{0xbe, 0x0c, 0x69, 0x0b, 0x9f, 0x66, 0x57, 0x5a, 0x1d, 0x76, 0x6b, 0x54, 0xe3, 0x68, 0xc8, 0x4e}
	retryNonceV1 = [12]byte{0x46, 0x15, 0x99, 0xd3, 0x5d, 0x63, 0x2b, 0xf2, 0x23, 0x98, 0x25, 0xbb}
	retryKeyV2   = [16]byte{0x8f, 0xb4, 0xb0, 0x1b, 0x56, 0xac, 0x48, 0xe2, 0x60, 0xfb, 0xcb, 0xce, 0xad, 0x7c, 0xcc, 0x92}
	retryNonceV2 = [12]byte{0xd8, 0x69, 0x69, 0xbc, 0x2d, 0x7c, 0x6d, 0x99, 0x90, 0xef, 0xb0, 0x4a}
)

// retryAEADs holds the two AES-128-GCM instances. Go's GCM keeps no state
// between calls, so they are shared by all goroutines.
var retryAEADs = sync.OnceValues(func() (v1, v2 cipher.AEAD) {
	mk := func(key [16]byte) cipher.AEAD {
		block, err := aes.NewCipher(key[:])
		if err != nil {
			panic(err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			panic(err)
		}
		return aead
	}
	return mk(retryKeyV1), mk(retryKeyV2)
})

func retryAEAD(v Version) (cipher.AEAD, []byte) {
	v1, v2 := retryAEADs()
	if v == Version2 {
		return v2, retryNonceV2[:]
	}
	return v1, retryNonceV1[:]
}

var (
	errNotRetry          = &PacketError{"not a Retry packet", true}
	errRetryEmptyToken   = &PacketError{"Retry packet with an empty token", true}
	errRetrySameConnID   = &PacketError{"Retry Source Connection ID equals the original Destination Connection ID", true}
	errRetryIntegrityTag = &PacketError{"Retry integrity tag does not verify", true}
	errRetryOrigDCIDLen  = &PacketError{"original Destination Connection ID longer than 20 bytes", true}
)

// RetryLen returns the length of the Retry packet AppendRetry writes.
func RetryLen(dcid, scid, token []byte) int {
	return 1 + 4 + 1 + len(dcid) + 1 + len(scid) + len(token) + retryTagLen
}

// AppendRetry appends a Retry packet of version v1 or v2 (RFC 9000 §17.2.5):
// dcid is the client's Source Connection ID, scid the server's new
// connection ID, token the Retry Token, and origDCID the Destination
// Connection ID of the client's Initial, which the integrity tag covers
// (RFC 9001 §5.8). The four unused bits are set to 1. It uses the capacity
// of b as scratch for the Retry pseudo-packet, so it does not allocate when
// cap(b)-len(b) is at least 2*RetryLen(dcid, scid, token)+len(origDCID). An
// unsupported version or a connection ID over 20 bytes is a caller bug and
// panics.
func AppendRetry(b []byte, version Version, dcid, scid, token, origDCID []byte) []byte {
	bits, _ := longTypeBits(version, PacketRetry)
	if !IsSupportedVersion(version) {
		panic("wire: AppendRetry: unsupported version")
	}
	if len(dcid) > MaxConnIDLen || len(scid) > MaxConnIDLen || len(origDCID) > MaxConnIDLen {
		panic("wire: connection ID longer than 20 bytes")
	}
	start := len(b)
	b = append(b, headerFormBit|fixedBit|bits<<4|0x0f)
	b = binary.BigEndian.AppendUint32(b, version)
	b = append(b, byte(len(dcid)))
	b = append(b, dcid...)
	b = append(b, byte(len(scid)))
	b = append(b, scid...)
	b = append(b, token...)
	end := len(b)

	// The pseudo-packet goes after the packet, then the tag after it.
	b = append(b, byte(len(origDCID)))
	b = append(b, origDCID...)
	b = append(b, b[start:end]...)
	aead, nonce := retryAEAD(version)
	pseudoEnd := len(b)
	b = aead.Seal(b, nonce, nil, b[end:pseudoEnd])
	copy(b[end:], b[pseudoEnd:pseudoEnd+retryTagLen])
	return b[:end+retryTagLen]
}

// ValidateRetry parses the Retry packet pkt (a whole datagram: a Retry is
// never coalesced) and verifies its integrity tag against origDCID, the
// Destination Connection ID of the client's first Initial (RFC 9001 §5.8).
// It also applies the client's other discard rules of RFC 9000 §17.2.5.2: an
// empty Retry Token, or a Source Connection ID equal to origDCID. The header
// it returns aliases pkt; its Token is the Retry Token.
func ValidateRetry(pkt []byte, origDCID []byte) (LongHeader, error) {
	h, err := ParseLongHeader(pkt)
	if err != nil {
		return LongHeader{}, err
	}
	if h.Type != PacketRetry {
		return LongHeader{}, errNotRetry
	}
	if len(origDCID) > MaxConnIDLen {
		return LongHeader{}, errRetryOrigDCIDLen
	}
	if len(h.Token) == 0 {
		return LongHeader{}, errRetryEmptyToken
	}
	if bytes.Equal(h.SrcConnID, origDCID) {
		return LongHeader{}, errRetrySameConnID
	}
	tagStart := len(pkt) - retryTagLen
	pseudo := make([]byte, 0, 1+len(origDCID)+tagStart)
	pseudo = append(pseudo, byte(len(origDCID)))
	pseudo = append(pseudo, origDCID...)
	pseudo = append(pseudo, pkt[:tagStart]...)
	aead, nonce := retryAEAD(h.Version)
	// Opening the tag alone with an empty plaintext verifies it.
	if _, err := aead.Open(nil, nonce, pkt[tagStart:], pseudo); err != nil {
		return LongHeader{}, errRetryIntegrityTag
	}
	return h, nil
}
