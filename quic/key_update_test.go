package quic

import (
	"bytes"
	"crypto/tls"
	"io"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tsumugi-quic/tsumugi/internal/quictest"
	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

// Key update scripts (RFC 9001 §6).

// forgeShortWith builds a 1-RTT PING packet numbered pn with the given
// keys and key phase, for packets of an older phase.
func forgeShortWith(p *quictest.Peer, pn uint64, keys *wire.Keys, phase bool) []byte {
	b := wire.AppendShortHeader(nil, p.DstConnID(), 2, phase, false)
	pnOff := len(b)
	b = wire.AppendPacketNumber(b, pn, 2)
	b = append(b, byte(wire.FrameTypePing), 0, 0)
	return keys.Seal(b, pnOff, 2, pn)
}

// TestKeyUpdateFollowed: our server follows key updates the peer starts:
// it opens the peer's packets with the next keys and answers in the new
// phase; a packet of the old phase that was delayed (a lower packet number
// than the first of the new phase) is still accepted (§6.5).
func TestKeyUpdateFollowed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		p, sc, _ := tn.peerPair(nil, quictest.DefaultParams())
		quiesce(t, p)
		p.AutoAck = false
		s := serverStream(t, p, sc)
		quiesce(t, p)
		p.AutoAck = false
		for i, phase := range []bool{true, false, true} {
			old := p.SealKeys(wire.Packet1RTT)
			late := p.NextPacketNumber(wire.Packet1RTT) // sent after the update
			p.UpdateKeys()
			p.SendFrames(wire.Packet1RTT, &wire.PingFrame{})
			pn := p.LastPacketNumber(wire.Packet1RTT)
			_, pkt, err := quictest.ExpectFrame(testCtx(t), p, func(a wire.AckFrame) bool { return a.LargestAcked() >= pn })
			if err != nil {
				t.Fatalf("update %d: the packet in the new phase was not acknowledged: %v", i, err)
			}
			if pkt.KeyPhase != phase {
				t.Fatalf("update %d: server answered in phase %v, want %v", i, pkt.KeyPhase, phase)
			}
			// The packet of the old phase, late: still opened.
			p.SendRaw(forgeShortWith(p, late, old, !phase))
			if _, _, err := quictest.ExpectFrame(testCtx(t), p, func(a wire.AckFrame) bool {
				for _, r := range a.Ranges {
					if r.Smallest <= late && late <= r.Largest {
						return true
					}
				}
				return false
			}); err != nil {
				t.Fatalf("update %d: a late packet of the old phase was dropped: %v", i, err)
			}
			// Data still flows, in the new phase.
			s.Write([]byte("after update"))
			f, pkt, err := quictest.ExpectFrame[wire.StreamFrame](testCtx(t), p, nil)
			if err != nil || !bytes.Equal(f.Data, []byte("after update")) || pkt.KeyPhase != phase {
				t.Fatalf("update %d: %v in phase %v, %v", i, quictest.FrameName(f), pkt.KeyPhase, err)
			}
			p.AckAll()
			quiesce(t, p)
			p.AutoAck = false
		}
	})
}

// TestKeyUpdateInitiated: our server starts a key update after
// Config.KeyUpdateInterval packets, once the peer has followed the last
// one and acknowledged a packet of the current phase (§6.1).
func TestKeyUpdateInitiated(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		p, sc, _ := tn.peerPair(&Config{KeyUpdateInterval: 10}, quictest.DefaultParams())
		s := serverStream(t, p, sc)
		msg := bytes.Repeat([]byte("k"), 100000)
		go func() { s.Write(msg); s.CloseWrite() }()
		got, packets, err := p.ReadStream(testCtx(t), 0)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("read %d bytes: %v", len(got), err)
		}
		// The first phase began before these packets: count from the
		// first change.
		var flips []uint64
		phase := false
		inPhase := 0
		for _, pkt := range packets {
			if pkt.Type != wire.Packet1RTT {
				continue
			}
			if pkt.KeyPhase != phase {
				if len(flips) > 0 && inPhase < 10 {
					t.Errorf("key update after %d packets in the phase, interval 10", inPhase)
				}
				flips = append(flips, pkt.Number)
				phase, inPhase = pkt.KeyPhase, 0
			}
			inPhase++
		}
		t.Logf("%d packets, key phase changed at packets %v", len(packets), flips)
		if len(flips) < 3 {
			t.Fatalf("%d key updates over %d packets with an interval of 10", len(flips), len(packets))
		}
	})
}

// TestKeyUpdatesOursToOurs: both sides start updates every 20 packets
// during a transfer; every byte arrives.
func TestKeyUpdatesOursToOurs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		conf := &Config{KeyUpdateInterval: 20}
		_, cc, sc := tn.pair(conf, conf)
		go func() {
			s, err := sc.AcceptStream(testCtx(t))
			if err != nil {
				return
			}
			io.Copy(s, s)
			s.CloseWrite()
		}()
		s, err := cc.OpenStream(testCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		msg := bytes.Repeat([]byte("update me "), 100000)
		go func() { s.Write(msg); s.CloseWrite() }()
		got, err := io.ReadAll(s)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("echo: %d bytes, %v", len(got), err)
		}
	})
}

// The next generation's receive keys are not derived with the current
// ones (that would put a derivation on the path of a client's handshake)
// but at confirmation, or on demand for a packet in the other key phase
// before it (RFC 9001 §6.3 allows either); they are the keys the peer
// updates to.
func TestNextReceiveKeysOnDemand(t *testing.T) {
	secret := bytes.Repeat([]byte{7}, 32)
	peer, err := wire.NewKeys(wire.Version1, tls.TLS_AES_128_GCM_SHA256, secret)
	if err != nil {
		t.Fatal(err)
	}
	ours, _ := wire.NewKeys(wire.Version1, tls.TLS_AES_128_GCM_SHA256, secret)
	var k appKeys
	k.installRead(ours)
	if k.nextOpen != nil {
		t.Fatal("next keys derived at install")
	}
	keys, next := k.openKeys(true, 5, time.Time{})
	if !next || keys == nil {
		t.Fatalf("openKeys for the other phase = %v, %v", keys, next)
	}
	// A packet the peer sealed after updating opens with them.
	pkt := append([]byte{0x41, 0, 5, byte(wire.FrameTypePing)}, make([]byte, 20)...) // short header, 2-byte packet number 5, PING and PADDING
	pkt = peer.Next().Seal(pkt, 1, 2, 5)
	pnLen, _, err := keys.RemoveHeaderProtection(pkt, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := keys.Open(pkt, 1+pnLen, 5); err != nil {
		t.Fatalf("the peer's next-phase packet does not open with the derived keys: %v", err)
	}
	k.deriveNext()
	if k.nextOpen != keys {
		t.Fatal("deriveNext derived again")
	}
}
