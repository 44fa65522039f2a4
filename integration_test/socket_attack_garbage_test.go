package integration_test

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"testing"
	"time"
)

// garbageShapes build a datagram of a given size whose first bytes look
// like one kind of packet (or nothing) and whose rest is random: each one
// takes the server's receive path somewhere else.
var garbageShapes = []struct {
	name string
	fill func(b []byte, rng *rand.Rand)
}{
	{"random", func(b []byte, rng *rand.Rand) {}},
	// Short header for an unknown connection: stateless reset path.
	{"short-header", func(b []byte, rng *rand.Rand) {
		if len(b) > 0 {
			b[0] = 0x40 | b[0]&0x3f
		}
	}},
	// Long header of an unknown version: Version Negotiation path.
	{"unknown-version", func(b []byte, rng *rand.Rand) {
		if len(b) >= 5 {
			b[0] |= 0xc0
			binary.BigEndian.PutUint32(b[1:], 0x0a0a0a0a|rng.Uint32()&0xf0f0f0f0)
		}
	}},
	// A version 1 Initial header with 8-byte connection IDs and a Length
	// that fits the datagram, then random bytes: the new-connection path
	// (handshakes, Retry) and Initial decryption.
	{"initial-v1", func(b []byte, rng *rand.Rand) {
		if len(b) < 24 {
			return
		}
		b[0] = 0xc0 | b[0]&0x03
		binary.BigEndian.PutUint32(b[1:], 1)
		b[5] = 8
		b[14] = 8
		b[23] = 0 // no token
		if len(b) >= 26 {
			binary.BigEndian.PutUint16(b[24:], 0x4000|uint16(min(len(b)-26, 0x3fff)))
		}
	}},
	// A version 1 Handshake header: routed by DCID, dropped for want of
	// a connection or keys.
	{"handshake-v1", func(b []byte, rng *rand.Rand) {
		if len(b) >= 6 {
			b[0] = 0xe0 | b[0]&0x0f
			binary.BigEndian.PutUint32(b[1:], 1)
			b[5] = byte(rng.IntN(21))
		}
	}},
}

// TestAttackGarbageDatagrams: datagrams of every size from 0 to 1500 bytes,
// in each garbage shape, from 32 loopback addresses, while a bystander
// fetches 4 MB. Nothing panics, the bystander's bytes all arrive, no
// attacker address gets back more than three times what it sent (answers
// are Version Negotiation, stateless resets, Retry packets and the first
// flights of half-open handshakes, all bounded), and afterwards a new
// connection is served.
func TestAttackGarbageDatagrams(t *testing.T) {
	stc, ctc := testTLS(t)
	_, addr := attackServer(t, stc, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	done := bystander(t, ctx, addr, stc, ctc, 4<<20, 1)
	attackers := make([]*attacker, 32)
	for i := range attackers {
		attackers[i] = newAttacker(t, byte(10+i), false)
	}
	rng := rand.New(rand.NewPCG(9, 9))
	buf := make([]byte, 1500)
	n := 0
	for size := 0; size <= 1500; size++ {
		for _, shape := range garbageShapes {
			b := buf[:size]
			for i := range b {
				b[i] = byte(rng.Uint32())
			}
			shape.fill(b, rng)
			attackers[n%len(attackers)].send(b, addr)
			n++
			if n%200 == 0 {
				time.Sleep(time.Millisecond) // a flood, not a socket overflow
			}
		}
	}
	waitBystander(t, done)
	time.Sleep(500 * time.Millisecond) // answers still on their way
	totalSent, totalBack := 0, 0
	for i, a := range attackers {
		sent, back := a.counts()
		totalSent += sent
		totalBack += back
		if back > 3*sent {
			t.Errorf("attacker 127.0.0.%d: %d bytes back for %d sent", 10+i, back, sent)
		}
	}
	t.Logf("%d garbage datagrams (%d bytes) from %d addresses: %d bytes answered", n, totalSent, len(attackers), totalBack)
	waitBystander(t, bystander(t, ctx, addr, stc, ctc, 1<<20, 2))
}
