package quic

import (
	"bytes"
	"io"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tsumugi-quic/tsumugi/internal/memnet"
	"github.com/tsumugi-quic/tsumugi/internal/quictest"
	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

// PTO and handshake-loss scripts (RFC 9002 §6.2, RFC 9001 §4.1.2).

// hasShortHeader reports whether a datagram holds a 1-RTT packet, alone or
// after coalesced long-header packets.
func hasShortHeader(d []byte) bool {
	for len(d) > 0 {
		if !wire.IsLongHeader(d[0]) {
			return true
		}
		h, err := wire.ParseLongHeader(d)
		if err != nil || h.PacketLen <= 0 {
			return false
		}
		d = d[h.PacketLen:]
	}
	return false
}

// dropFirst drops the first n datagrams for which match is true.
func dropFirst(n int64, match func([]byte) bool) memnet.Filter {
	var dropped atomic.Int64
	return memnet.Drop(func(d *memnet.Datagram) bool {
		return match(d.Data) && dropped.Add(1) <= n
	})
}

// TestHandshakeDoneAndConnectionIDsLost: the server's first 1-RTT
// datagram (HANDSHAKE_DONE, NEW_CONNECTION_ID, the session ticket) is lost;
// all of it comes again and the handshake is confirmed.
func TestHandshakeDoneAndConnectionIDsLost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		ln, spc := tn.listen(nil)
		spc.SetSendFilter(dropFirst(1, hasShortHeader))
		p, _ := tn.peer(quictest.DefaultParams())
		if err := p.Handshake(testCtx(t)); err != nil {
			t.Fatal(err)
		}
		if !p.HandshakeConfirmed() {
			t.Fatal("HANDSHAKE_DONE never arrived")
		}
		if _, err := ln.Accept(testCtx(t)); err != nil {
			t.Fatal(err)
		}
		p.AutoAck = true
		for len(p.PeerConnIDs()) < activeConnectionIDLimit-1 {
			if _, err := p.ReadPacket(testCtx(t)); err != nil {
				t.Fatalf("%d NEW_CONNECTION_ID frames after the loss: %v", len(p.PeerConnIDs()), err)
			}
		}
	})
}

// TestHandshakeLoss: our client and server finish the handshake and carry
// data whichever of their handshake datagrams are lost.
func TestHandshakeLoss(t *testing.T) {
	tests := []struct {
		name           string
		client, server memnet.Filter // on the sockets' sending side
	}{
		{"server-initial", nil, memnet.DropIndexes(0)},
		{"server-first-flight", nil, memnet.DropIndexes(0, 1, 2)},
		{"server-second-try", nil, memnet.DropIndexes(0, 1, 2, 3, 4, 5)},
		{"client-hello", memnet.DropIndexes(0), nil},
		{"client-hello-both", memnet.DropIndexes(0, 1), nil},
		{"client-second-flight", memnet.DropIndexes(2, 3), nil},
		{"server-1rtt", nil, dropFirst(2, hasShortHeader)},
		{"client-1rtt", dropFirst(2, hasShortHeader), nil},
		// Random loss: which datagrams are lost depends on goroutine
		// order within an instant, so the rate stays where the idle
		// timeout cannot plausibly strike (at 50% both ways, a run of
		// failed probes backs the PTO off past 30 s now and then).
		{"both-20%", memnet.Loss(0.2, 1), memnet.Loss(0.2, 2)},
		{"burst-both", memnet.DropIndexes(3, 4, 5, 6, 7, 8), memnet.DropIndexes(4, 5, 6, 7, 8, 9, 10)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tn := newTestNet(t)
				ln, spc := tn.listen(nil)
				spc.SetSendFilter(tt.server)
				start := time.Now()
				cc, err := tn.dial(testCtx(t), nil, tn.clientTLS(testALPN), func(pc *memnet.Conn) { pc.SetSendFilter(tt.client) })
				if err != nil {
					t.Fatalf("dial: %v", err)
				}
				sc, err := ln.Accept(testCtx(t))
				if err != nil {
					t.Fatalf("accept: %v", err)
				}
				t.Logf("handshake took %v", time.Since(start))
				go func() {
					s, err := sc.AcceptStream(testCtx(t))
					if err != nil {
						return
					}
					io.Copy(s, s)
					s.Close()
				}()
				s, err := cc.OpenStream(testCtx(t))
				if err != nil {
					t.Fatal(err)
				}
				msg := bytes.Repeat([]byte("lossy "), 2000)
				go func() { s.Write(msg); s.CloseWrite() }()
				got, err := io.ReadAll(s)
				if err != nil || !bytes.Equal(got, msg) {
					t.Fatalf("echo: %d bytes, %v", len(got), err)
				}
			})
		})
	}
}

// TestPTOProbes: when the peer falls silent, the server sends ack-eliciting
// probes at PTO intervals that double each time (RFC 9002 §6.2.1), and
// stops once the peer acknowledges.
func TestPTOProbes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		p, sc, _ := tn.peerPair(&Config{MaxIdleTimeout: time.Hour}, quictest.DefaultParams())
		s := serverStream(t, p, sc)
		quiesce(t, p)
		p.AutoAck = false
		s.Write([]byte("are you there?"))
		// Bursts: the times at which packets went out, and how many.
		var times []time.Duration
		var counts []int
		start := time.Now()
		for len(times) < 5 {
			pkt, err := p.ReadPacket(testCtx(t))
			if err != nil {
				t.Fatalf("after %d bursts: %v", len(times), err)
			}
			if !pkt.AckEliciting() {
				t.Fatalf("a probe that elicits no ACK: %v", pkt)
			}
			if d := time.Since(start); len(times) == 0 || times[len(times)-1] != d {
				times, counts = append(times, d), append(counts, 0)
			}
			counts[len(counts)-1]++
		}
		t.Logf("bursts at %v of %v packets", times, counts)
		for i := 1; i < len(counts); i++ {
			if counts[i] > 2 {
				t.Errorf("a PTO sent %d packets (RFC 9002 §6.2.4: up to two)", counts[i])
			}
		}
		for i := 2; i < len(times); i++ {
			prev, gap := times[i-1]-times[i-2], times[i]-times[i-1]
			if gap < 2*prev*9/10 || gap > 2*prev*11/10 {
				t.Errorf("probe intervals %v then %v: not doubling", prev, gap)
			}
		}
		// The peer answers: the probes stop.
		p.AutoAck = true
		p.AckAll()
		quiesce(t, p)
		p.AutoAck = false
		if pkt, err := p.ReadPacket(shortCtx(t, time.Minute)); err == nil && pkt.AckEliciting() {
			t.Fatalf("still probing after the ACK: %v", pkt)
		}
	})
}

// TestHandshakePTO: a client that sends its Initial and falls silent gets
// the server's CRYPTO data again at PTO intervals.
func TestHandshakePTO(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		tn.listen(nil)
		p, _ := tn.peer(quictest.DefaultParams())
		ctx := testCtx(t)
		p.StartTLS(ctx)
		p.Flush()
		seen := map[wire.PacketType]int{}
		for end := time.Now().Add(5 * time.Second); time.Now().Before(end); {
			pkt, err := p.ReadPacket(shortCtx(t, time.Until(end)))
			if err != nil {
				break
			}
			for _, f := range quictest.FramesOf[wire.CryptoFrame](pkt) {
				if f.Offset == 0 {
					seen[pkt.Type]++
				}
			}
		}
		if seen[wire.PacketInitial] < 2 || seen[wire.PacketHandshake] < 2 {
			t.Fatalf("CRYPTO at offset 0 sent %v times in 5 s without an answer", seen)
		}
	})
}

// TestPTOProbesCarryData: when the peer acknowledges nothing, the server's
// PTO probes carry the data still unacknowledged (RFC 9002 §6.2.4), not
// bare PINGs: a peer whose ACKs are all lost still gets the answer from
// the first probe that reaches it.
func TestPTOProbesCarryData(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		p, sc, _ := tn.peerPair(&Config{MaxIdleTimeout: time.Hour}, quictest.DefaultParams())
		s := serverStream(t, p, sc)
		quiesce(t, p)
		p.AutoAck = false
		answer := []byte("the answer, sent once and never acknowledged")
		s.Write(answer)
		// next skips path MTU probes (a PING padded beyond 1200 bytes).
		next := func() *quictest.Packet {
			for {
				pkt, err := p.ReadPacket(testCtx(t))
				if err != nil {
					t.Fatal(err)
				}
				if pkt.Size <= 1200 || len(quictest.FramesOf[wire.PingFrame](pkt)) == 0 {
					return pkt
				}
			}
		}
		first := next()
		sent := time.Now()
		if len(quictest.FramesOf[wire.StreamFrame](first)) == 0 {
			t.Fatalf("the first packet after Write has no STREAM frame: %v", first)
		}
		// The peer "loses" it and acknowledges nothing: the next packets
		// are PTO probes; the first must carry the data again.
		probe := next()
		t.Logf("probe %v after %v", probe, time.Since(sent))
		var again []byte
		for _, f := range quictest.FramesOf[wire.StreamFrame](probe) {
			again = append(again, f.Data...)
		}
		if !bytes.Contains(again, answer) {
			t.Errorf("the PTO probe carries %q, want the unacknowledged %q", again, answer)
		}
	})
}
