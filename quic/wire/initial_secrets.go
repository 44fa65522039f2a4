package wire

import (
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/tls"
)

// Initial packet protection, RFC 9001 §5.2 (v1) and RFC 9369 §3.3.1 (v2).

var (
	// RFC 9001 §5.2.
	initialSaltV1 = []byte{
		0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
		0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a,
	}
	// RFC 9369 §3.3.1.
	initialSaltV2 = []byte{
		0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
		0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9,
	}
)

// initialSecrets returns the client and server Initial secrets for the
// Destination Connection ID of the client's first Initial packet (or the
// Source Connection ID of a Retry):
//
//	initial_secret = HKDF-Extract(initial_salt, client_dst_connection_id)
//	client_initial_secret = HKDF-Expand-Label(initial_secret, "client in", "", 32)
//	server_initial_secret = HKDF-Expand-Label(initial_secret, "server in", "", 32)
func initialSecrets(version Version, dcid []byte) (client, server []byte) {
	salt := initialSaltV1
	if version == Version2 {
		salt = initialSaltV2
	}
	prk, err := hkdf.Extract(sha256.New, dcid, salt)
	if err != nil {
		panic("wire: HKDF-Extract: " + err.Error()) // cannot fail for SHA-256
	}
	e := newExpander(sha256.New, prk)
	client = e.expand("client in", sha256.Size)
	server = e.expand("server in", sha256.Size)
	return client, server
}

// NewInitialKeys returns the Initial packet protection keys (AES-128-GCM)
// for version v1 or v2 and the client's original Destination Connection ID
// dcid: seal protects what this side sends, open what it receives. For a
// version other than Version1 and Version2 it returns nil keys; check
// IsSupportedVersion first.
func NewInitialKeys(version Version, dcid []byte, isClient bool) (seal, open *Keys) {
	if !IsSupportedVersion(version) {
		return nil, nil
	}
	client, server := initialSecrets(version, dcid)
	c, err := NewKeys(version, tls.TLS_AES_128_GCM_SHA256, client)
	if err != nil {
		panic("wire: initial keys: " + err.Error()) // fixed suite and secret length
	}
	s, err := NewKeys(version, tls.TLS_AES_128_GCM_SHA256, server)
	if err != nil {
		panic("wire: initial keys: " + err.Error())
	}
	if isClient {
		return c, s
	}
	return s, c
}
