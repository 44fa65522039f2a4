package quic

import (
	"sync"
	"testing"
	"testing/synctest"

	"github.com/tsumugi-quic/tsumugi/internal/memnet"
	"github.com/tsumugi-quic/tsumugi/quic/wire"
	"github.com/tsumugi-quic/tsumugi/sched"
)

// hasHandshakePacket reports whether a datagram holds a Handshake packet
// among its coalesced long-header packets.
func hasHandshakePacket(b []byte) bool {
	for len(b) > 0 && wire.IsLongHeader(b[0]) {
		hdr, err := wire.ParseLongHeader(b)
		if err != nil {
			return false
		}
		if hdr.Type == wire.PacketHandshake {
			return true
		}
		if hdr.PacketLen <= 0 || hdr.PacketLen > len(b) {
			return false
		}
		b = b[hdr.PacketLen:]
	}
	return false
}

// TestEarly1RTTPacketKept: the client's Finished is lost and its first
// 1-RTT packet, with the request, reaches the server first, before the
// server has 1-RTT keys. The server keeps it (RFC 9001 §5.7) and processes
// it once the retransmitted Finished brings the keys: every later 1-RTT
// packet of the client is dropped here, so the request arrives only if the
// first one was kept. (A quic-go client whose Finished was lost probes
// the Handshake space, not its 1-RTT data: a server that dropped the
// request waited for it until the idle timeout.)
func TestEarly1RTTPacketKept(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		ln, _ := tn.listen(nil)
		ctx := testCtx(t)
		var mu sync.Mutex
		phase := 0 // 0: drop Handshake packets; 1: a 1-RTT datagram went through, drop 1-RTT ones
		passed1RTT := 0
		filter := memnet.Drop(func(d *memnet.Datagram) bool {
			mu.Lock()
			defer mu.Unlock()
			short := !wire.IsLongHeader(d.Data[0])
			switch {
			case phase == 0 && short:
				phase = 1
				passed1RTT++
				return false
			case phase == 0:
				return hasHandshakePacket(d.Data)
			default:
				return short
			}
		})
		cc, err := tn.dial(ctx, nil, tn.clientTLS(testALPN), func(pc *memnet.Conn) { pc.SetSendFilter(filter) })
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			sc, err := ln.Accept(ctx)
			if err == nil {
				serveEcho(sc)
			}
		}()
		request2(t, ctx, cc)
		mu.Lock()
		defer mu.Unlock()
		if passed1RTT != 1 {
			t.Errorf("%d 1-RTT datagrams of the client reached the server, want exactly 1", passed1RTT)
		}
	})
}

// TestUndecryptableBounded: at most maxUndecryptable packets are kept, none
// larger than a packet buffer, and none once the handshake is confirmed.
func TestUndecryptableBounded(t *testing.T) {
	c := &Conn{}
	c.st.c = c
	for range 3 * maxUndecryptable {
		c.keepUndecryptable(make([]byte, 1200), sched.AppData)
	}
	if n := len(c.st.pending.list); n != maxUndecryptable {
		t.Errorf("%d packets kept, want %d", n, maxUndecryptable)
	}
	c.st.pending = nil
	if c.keepUndecryptable(make([]byte, maxPacketBufferSize+1), sched.Handshake) {
		t.Error("an oversized packet kept")
	}
	c.st.handshakeConfirm = true
	if c.keepUndecryptable(make([]byte, 100), sched.AppData) || c.st.pending != nil {
		t.Error("a packet kept after the handshake was confirmed")
	}
}
