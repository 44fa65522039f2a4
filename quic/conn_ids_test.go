package quic

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"net"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tsumugi-quic/tsumugi/internal/memnet"
	"github.com/tsumugi-quic/tsumugi/internal/quictest"
	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

// Connection ID scripts (RFC 9000 §5.1, §10.3, §19.15, §19.16).

// TestServerIssuesConnectionIDs: after the handshake our server issues
// connection IDs up to the peer's active_connection_id_limit (bounded by
// ours), each with its stateless reset token.
func TestServerIssuesConnectionIDs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		params := quictest.DefaultParams()
		params.ActiveConnectionIDLimit = 3
		p, _, _ := tn.peerPair(nil, params)
		// The handshake may already have brought them.
		for len(p.PeerConnIDs()) < 2 {
			if _, err := p.ReadPacket(testCtx(t)); err != nil {
				t.Fatalf("%d NEW_CONNECTION_ID frames: %v", len(p.PeerConnIDs()), err)
			}
		}
		ids := p.PeerConnIDs()
		seqs := []uint64{}
		for _, f := range ids {
			seqs = append(seqs, f.Seq)
			if len(f.ConnID) != defaultConnectionIDLength || bytes.Equal(f.ConnID, p.DstConnID()) {
				t.Errorf("NEW_CONNECTION_ID %+v", f)
			}
		}
		slices.Sort(seqs)
		if !slices.Equal(seqs, []uint64{1, 2}) {
			t.Fatalf("sequence numbers %v, want [1 2] (limit 3 with the handshake's ID)", seqs)
		}
		// No more than the limit, even later.
		for {
			pkt, err := p.ReadPacket(shortCtx(t, 2*time.Second))
			if err != nil {
				break
			}
			if fs := quictest.FramesOf[wire.NewConnectionIDFrame](pkt); len(fs) > 0 {
				t.Fatalf("NEW_CONNECTION_ID beyond the limit: %+v", fs)
			}
		}
		// Each issued ID reaches the connection.
		for _, f := range ids {
			p.SetDstConnID(f.ConnID)
			p.SendFrames(wire.Packet1RTT, &wire.PingFrame{})
			pn := p.LastPacketNumber(wire.Packet1RTT)
			if _, _, err := quictest.ExpectFrame(testCtx(t), p, func(a wire.AckFrame) bool { return a.LargestAcked() == pn }); err != nil {
				t.Fatalf("PING to connection ID %d: %v", f.Seq, err)
			}
		}
	})
}

// TestNewConnectionIDFrame: the server uses a connection ID the peer
// issued once the peer retires the old one with Retire Prior To, and says
// so with RETIRE_CONNECTION_ID.
func TestNewConnectionIDFrame(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		p, _, _ := tn.peerPair(nil, quictest.DefaultParams())
		newID := []byte{0xc1, 0xd2, 0xe3, 0xf4, 0x05, 0x16, 0x27, 0x38}
		p.SendFrames(wire.Packet1RTT, &wire.NewConnectionIDFrame{Seq: 1, RetirePriorTo: 1, ConnID: newID, ResetToken: [16]byte{1}})
		rc, pkt, err := quictest.ExpectFrame[wire.RetireConnectionIDFrame](testCtx(t), p, nil)
		if err != nil {
			t.Fatal(err)
		}
		if rc.Seq != 0 {
			t.Errorf("RETIRE_CONNECTION_ID %d, want 0", rc.Seq)
		}
		if !bytes.Equal(pkt.DstID, newID) {
			t.Errorf("the packet retiring ID 0 went to %x, want %x", pkt.DstID, newID)
		}
		// And every later packet.
		p.SendFrames(wire.Packet1RTT, &wire.PingFrame{})
		_, pkt, err = quictest.ExpectFrame[wire.AckFrame](testCtx(t), p, nil)
		if err != nil || !bytes.Equal(pkt.DstID, newID) {
			t.Fatalf("ACK to %x, %v", pkt.DstID, err)
		}
	})
}

// TestRetireConnectionIDFrame: when the peer retires one of our IDs, the
// server stops routing it and issues a replacement.
func TestRetireConnectionIDFrame(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		p, _, _ := tn.peerPair(nil, quictest.DefaultParams())
		for len(p.PeerConnIDs()) == 0 {
			if _, err := p.ReadPacket(testCtx(t)); err != nil {
				t.Fatal(err)
			}
		}
		retired := p.PeerConnIDs()[0]
		before := len(p.PeerConnIDs())
		p.SendFrames(wire.Packet1RTT, &wire.RetireConnectionIDFrame{Seq: retired.Seq})
		nc, _, err := quictest.ExpectFrame(testCtx(t), p, func(f wire.NewConnectionIDFrame) bool { return f.Seq > retired.Seq })
		if err != nil {
			t.Fatalf("no replacement after %d IDs: %v", before, err)
		}
		for _, f := range p.PeerConnIDs()[:before] {
			if f.Seq == nc.Seq || bytes.Equal(f.ConnID, nc.ConnID) {
				t.Fatalf("replacement %+v reuses %+v", nc, f)
			}
		}
		// The retired ID no longer reaches the connection: a packet
		// to it gets a stateless reset with its token (RFC 9000 §10.3).
		p.SetDstConnID(retired.ConnID)
		d, err := p.AppendPacket(nil, wire.Packet1RTT, 100, &wire.PingFrame{})
		if err != nil {
			t.Fatal(err)
		}
		p.SendRaw(d)
		reset, _, err := p.ReadDatagram(testCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		if wire.IsLongHeader(reset[0]) || len(reset) >= len(d) || !bytes.Equal(reset[len(reset)-16:], retired.ResetToken[:]) {
			t.Fatalf("answer %x is not a stateless reset with token %x", reset, retired.ResetToken)
		}
	})
}

// TestStatelessResetClosesOurClient: a stateless reset with the token the
// server gave ends our client's connection with ErrStatelessReset
// (RFC 9000 §10.3.1). A real reset starts with unpredictable bytes where a
// connection ID would be, so the endpoint cannot route it by connection
// ID: it must compare the last 16 bytes of any datagram it cannot route
// with the tokens of its connections (§10.3.1). The "routable" case puts
// our client's own connection ID there instead.
func TestStatelessResetClosesOurClient(t *testing.T) {
	for _, routable := range []bool{true, false} {
		name := map[bool]string{true: "routable", false: "random"}[routable]
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tn := newTestNet(t)
				ln, _ := tn.listen(nil)
				var mu sync.Mutex
				var peerCID, ownCID []byte // from our client's 1-RTT packets, and to them
				cc, err := tn.dial(testCtx(t), nil, tn.clientTLS(testALPN), func(pc *memnet.Conn) {
					pc.SetSendFilter(memnet.Tap(func(d *memnet.Datagram) {
						if !wire.IsLongHeader(d.Data[0]) && len(d.Data) > 9 {
							mu.Lock()
							peerCID = bytes.Clone(d.Data[1:9])
							mu.Unlock()
						}
					}))
					pc.SetRecvFilter(memnet.Tap(func(d *memnet.Datagram) {
						if !wire.IsLongHeader(d.Data[0]) && len(d.Data) > 9 {
							mu.Lock()
							ownCID = bytes.Clone(d.Data[1:9])
							mu.Unlock()
						}
					}))
				})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := ln.Accept(testCtx(t)); err != nil {
					t.Fatal(err)
				}
				s, _ := cc.OpenStream(testCtx(t))
				s.Write([]byte("x"))
				time.Sleep(time.Second)
				mu.Lock()
				tok := ln.ep.statelessResetToken(peerCID)
				// What a server that lost its state sends: a short
				// header, unpredictable bytes, the token.
				pkt := make([]byte, 40)
				rand.Read(pkt)
				pkt[0] = 0x40 | pkt[0]&0x3f
				if routable {
					copy(pkt[1:], ownCID)
				}
				mu.Unlock()
				copy(pkt[len(pkt)-16:], tok[:])
				ln.ep.pc.WriteToUDPAddrPort(pkt, cc.LocalAddr().(*net.UDPAddr).AddrPort())
				<-cc.Context().Done()
				if cause := context.Cause(cc.Context()); !errors.Is(cause, ErrStatelessReset) {
					t.Fatalf("cause %v", cause)
				}
			})
		})
	}
}

// TestStatelessResetTokenPooled: tokens from the endpoint's pooled HMACs
// are the HMAC-SHA256 of the connection ID under the static key (RFC 9000
// §10.3.2), the same on every call, whichever pooled HMAC computes them.
func TestStatelessResetTokenPooled(t *testing.T) {
	e := &Endpoint{}
	copy(e.resetKey[:], "0123456789abcdef0123456789abcdef")
	cids := [][]byte{{1, 2, 3, 4, 5, 6, 7, 8}, {9}, bytes.Repeat([]byte{0xee}, 20)}
	for round := range 3 {
		for _, cid := range cids {
			m := hmac.New(sha256.New, e.resetKey[:])
			m.Write(cid)
			var want [16]byte
			copy(want[:], m.Sum(nil))
			if got := e.statelessResetToken(cid); got != want {
				t.Fatalf("round %d, CID %x: token %x, want %x", round, cid, got, want)
			}
		}
	}
}
