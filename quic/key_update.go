package quic

import (
	"time"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

// appKeys holds the 1-RTT keys through key updates (RFC 9001 §6).
//
// The send and receive key phases move separately: when we start an update
// we switch our sending keys at once and expect the peer to follow; when the
// peer starts one, the first packet in the new phase that opens with the
// next receive keys makes us switch both.
type appKeys struct {
	seal, open *wire.Keys
	zeroSeal   *wire.Keys // client: 0-RTT keys, until 1-RTT keys exist
	zeroOpen   *wire.Keys // server: 0-RTT keys, until the handshake is confirmed
	// nextOpen is the next generation's receive keys (§6.3): derived when
	// the handshake is confirmed (deriveNext), and ahead of each later
	// update; before that only on demand (a peer may not update keys
	// before it confirms the handshake, §6.1), which keeps the derivation
	// off the path of a client's handshake.
	nextOpen  *wire.Keys
	prevOpen  *wire.Keys // the previous generation's, for late packets (§6.5)
	prevUntil time.Time

	sendPhase, recvPhase bool
	generation           uint64 // key updates so far (sending keys)
	sentInPhase          uint64 // packets sent under the current sending keys
	firstSentInPhase     uint64 // packet number of the first of them
	ackedInPhase         bool   // one of them was acknowledged (§6.1)
	firstRecvInPhase     uint64 // the lowest packet number opened under the current receive keys
	recvInPhaseKnown     bool
}

func (k *appKeys) installRead(keys *wire.Keys) { k.open = keys }

// deriveNext derives the next generation's receive keys if they are not
// there yet.
func (k *appKeys) deriveNext() {
	if k.nextOpen == nil && k.open != nil {
		k.nextOpen = k.open.Next()
	}
}

func (k *appKeys) installWrite(keys *wire.Keys) { k.seal = keys }

// ready reports whether 1-RTT packets can be sent.
func (k *appKeys) ready() bool { return k.seal != nil }

// onSent counts a 1-RTT packet sent under the current keys.
func (k *appKeys) onSent(pn uint64) {
	if k.sentInPhase == 0 {
		k.firstSentInPhase = pn
	}
	k.sentInPhase++
}

// onAcked notes the acknowledgment of 1-RTT packet pn.
func (k *appKeys) onAcked(pn uint64) {
	if k.sentInPhase > 0 && pn >= k.firstSentInPhase {
		k.ackedInPhase = true
	}
}

// maybeInitiate starts a key update after interval packets, once the
// handshake is confirmed, the peer has followed the last update, and a
// packet under the current keys was acknowledged (§6.1).
func (k *appKeys) maybeInitiate(interval uint64, confirmed bool) {
	if !confirmed || k.sentInPhase < interval || !k.ackedInPhase || k.sendPhase != k.recvPhase {
		return
	}
	k.seal = k.seal.Next()
	k.sendPhase = !k.sendPhase
	k.generation++
	k.sentInPhase, k.ackedInPhase = 0, false
}

// openKeys picks the keys for a received 1-RTT packet with key phase bit
// phase and packet number pn. next reports that they are the next
// generation's: if the packet opens, call rotate.
func (k *appKeys) openKeys(phase bool, pn uint64, now time.Time) (keys *wire.Keys, next bool) {
	if phase == k.recvPhase {
		return k.open, false
	}
	if k.recvInPhaseKnown && pn < k.firstRecvInPhase {
		if k.prevOpen != nil && now.Before(k.prevUntil) {
			return k.prevOpen, false
		}
		return nil, false
	}
	// RFC 9001 §6.3: an endpoint MAY generate the keys as part of packet
	// processing; this happens only before the handshake is confirmed.
	k.deriveNext()
	return k.nextOpen, true
}

// opened notes a packet opened under the current receive keys.
func (k *appKeys) opened(pn uint64) {
	if !k.recvInPhaseKnown || pn < k.firstRecvInPhase {
		k.firstRecvInPhase = pn
		k.recvInPhaseKnown = true
	}
}

// rotate moves the receive side to the next generation after a packet
// opened with it (§6.2); if the peer started the update, our sending keys
// follow. keepOld is how long to keep the old keys (three PTOs, §6.5).
func (k *appKeys) rotate(pn uint64, now time.Time, keepOld time.Duration) {
	k.prevOpen = k.open
	k.prevUntil = now.Add(keepOld)
	k.open = k.nextOpen
	k.nextOpen = k.open.Next()
	k.recvPhase = !k.recvPhase
	k.firstRecvInPhase, k.recvInPhaseKnown = pn, true
	if k.sendPhase != k.recvPhase {
		k.seal = k.seal.Next()
		k.sendPhase = k.recvPhase
		k.generation++
		k.sentInPhase, k.ackedInPhase = 0, false
	}
}
