package wire

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"testing"
)

// RFC 9001 A.4, RFC 9369 A.4: the Retry packet, byte for byte.
func TestRFCRetry(t *testing.T) {
	for _, v := range rfcVectorSets {
		t.Run(v.name, func(t *testing.T) {
			odcid := unhex(t, vectorDCID)
			scid := unhex(t, vectorServerSCID)
			token := unhex(t, vectorRetryToken)
			got := AppendRetry(nil, v.version, nil, scid, token, odcid)
			checkHex(t, "retry", got, v.retry)
			if len(got) != RetryLen(nil, scid, token) {
				t.Errorf("RetryLen = %d, len = %d", RetryLen(nil, scid, token), len(got))
			}

			h, err := ValidateRetry(unhex(t, v.retry), odcid)
			if err != nil {
				t.Fatalf("ValidateRetry: %v", err)
			}
			if h.Type != PacketRetry || h.Version != v.version || len(h.DstConnID) != 0 ||
				!bytes.Equal(h.SrcConnID, scid) || !bytes.Equal(h.Token, token) {
				t.Errorf("ValidateRetry header = %+v", h)
			}
		})
	}
}

// The Retry keys and nonces are derived from the secrets of RFC 9001 §5.8
// and RFC 9369 §3.3.3.
func TestRetryKeyDerivation(t *testing.T) {
	tests := []struct {
		version Version
		secret  string
		key     []byte
		nonce   []byte
	}{
		{Version1, "d9c9943e6101fd200021506bcc02814c73030f25c79d71ce876eca876e6fca8e", retryKeyV1[:], retryNonceV1[:]},
		{Version2, "c4dd2484d681aefa4ff4d69c2c20299984a765a5d3c31982f38fc74162155e9f", retryKeyV2[:], retryNonceV2[:]},
	}
	for _, tt := range tests {
		l := versionLabels(tt.version)
		secret := unhex(t, tt.secret)
		if got := hkdfExpandLabel(sha256.New, secret, l.key, 16); !bytes.Equal(got, tt.key) {
			t.Errorf("%#x: key %x, want %x", tt.version, got, tt.key)
		}
		if got := hkdfExpandLabel(sha256.New, secret, l.iv, 12); !bytes.Equal(got, tt.nonce) {
			t.Errorf("%#x: nonce %x, want %x", tt.version, got, tt.nonce)
		}
	}
}

func TestRetryRoundTripAndRejects(t *testing.T) {
	odcid := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	scid := []byte{9, 9, 9, 9}
	dcid := []byte{7, 7}
	for _, version := range []Version{Version1, Version2} {
		good := AppendRetry(make([]byte, 3, 200), version, dcid, scid, []byte("a token"), odcid)[3:]
		if _, err := ValidateRetry(good, odcid); err != nil {
			t.Fatalf("%#x: valid Retry rejected: %v", version, err)
		}
		tests := []struct {
			name  string
			pkt   []byte
			odcid []byte
		}{
			{"other original DCID", good, []byte{1, 2, 3, 4, 5, 6, 7, 9}},
			{"flipped token bit", flip(good, len(good)-17), odcid},
			{"flipped tag bit", flip(good, len(good)-1), odcid},
			{"flipped version", flip(good, 4), odcid},
			{"empty token", AppendRetry(nil, version, dcid, scid, nil, odcid), odcid},
			{"SCID equal to original DCID", AppendRetry(nil, version, dcid, odcid, []byte("t"), odcid), odcid},
			{"original DCID too long", good, make([]byte, 21)},
			{"truncated", good[:len(good)-1-len("a token")], odcid},
			{"not a Retry", AppendVersionNegotiation(nil, dcid, scid, Version1), odcid},
		}
		for _, tt := range tests {
			if _, err := ValidateRetry(tt.pkt, tt.odcid); err == nil {
				t.Errorf("%#x: %s: accepted", version, tt.name)
			} else if !errors.Is(err, ErrMalformedPacket) && !errors.Is(err, ErrUnsupportedVersion) {
				t.Errorf("%#x: %s: error %v is not a packet error", version, tt.name, err)
			}
		}
	}
}

func TestAppendRetryNoAlloc(t *testing.T) {
	odcid := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	buf := make([]byte, 0, 256)
	allocs := testing.AllocsPerRun(100, func() {
		AppendRetry(buf, Version1, []byte{1}, []byte{2}, []byte("token"), odcid)
	})
	if allocs != 0 {
		t.Errorf("AppendRetry allocates %.0f times", allocs)
	}
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0x01
	return c
}
