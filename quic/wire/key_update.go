package wire

// Key update, RFC 9001 §6.

// Next returns the keys of the next key generation: the secret is updated
// with HKDF-Expand-Label(secret, "quic ku", "", Hash.length) ("quicv2 ku" for
// QUIC v2, RFC 9369 §3.3.2), from which a new AEAD key and IV are derived.
// The header protection key does not change (RFC 9001 §6.1). k stays usable;
// the caller keeps it to open delayed packets of the old phase.
func (k *Keys) Next() *Keys {
	s, ok := lookupSuite(k.suite)
	if !ok {
		// Keys are only built for known suites.
		panic("wire: Keys with an unknown suite")
	}
	secret := hkdfExpandLabel(s.hash, k.secret, versionLabels(k.version).ku, len(k.secret))
	hp := k.hp
	hp.out = [16]byte{}
	nk, err := newKeysWithHP(k.version, k.suite, s, secret, hp)
	if err != nil {
		// The key has the same length as the one that already worked.
		panic("wire: key update: " + err.Error())
	}
	return nk
}
