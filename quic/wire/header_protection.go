package wire

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"

	"golang.org/x/crypto/chacha20"
)

// Header protection masks, RFC 9001 §5.4.3 (AES) and §5.4.4 (ChaCha20).

// headerProtector computes header protection masks. It is a value inside
// Keys: the AES block cipher (stateless, safe to share) is shared by the key
// generations of one direction, while the scratch output is per Keys.
type headerProtector struct {
	block  cipher.Block // AES suites
	chacha bool
	key    [32]byte // ChaCha20 key
	out    [16]byte // scratch for the mask
}

func newHeaderProtector(s suiteParams, hpKey []byte) (headerProtector, error) {
	var h headerProtector
	if s.chacha {
		h.chacha = true
		copy(h.key[:], hpKey)
		return h, nil
	}
	block, err := aes.NewCipher(hpKey)
	if err != nil {
		return h, err
	}
	h.block = block
	return h, nil
}

// mask returns the header protection mask for a SampleLen-byte sample; only
// its first 5 bytes are used. The result is valid until the next call.
func (h *headerProtector) mask(sample []byte) []byte {
	if !h.chacha {
		// RFC 9001 §5.4.3: mask = AES-ECB(hp_key, sample).
		h.block.Encrypt(h.out[:], sample[:SampleLen])
		return h.out[:5]
	}
	// RFC 9001 §5.4.4: the first 4 sample bytes are the little-endian
	// block counter, the other 12 the nonce; the mask is ChaCha20 applied
	// to 5 zero bytes. Any counter value is safe: 5 bytes fit in one block.
	c, err := chacha20.NewUnauthenticatedCipher(h.key[:], sample[4:SampleLen])
	if err != nil {
		panic("wire: chacha20 header protection: " + err.Error()) // fixed key and nonce sizes
	}
	c.SetCounter(binary.LittleEndian.Uint32(sample[:4]))
	h.out = [16]byte{}
	c.XORKeyStream(h.out[:5], h.out[:5])
	return h.out[:5]
}
