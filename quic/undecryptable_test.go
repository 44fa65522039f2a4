package quic

import (
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tsumugi-quic/tsumugi/internal/memnet"
	"github.com/tsumugi-quic/tsumugi/internal/quictest"
	"github.com/tsumugi-quic/tsumugi/quic/wire"
	"github.com/tsumugi-quic/tsumugi/sched"
)

// splitCoalesced returns the long-header packets at the start of a
// datagram and the 1-RTT packet after them (either may be empty).
func splitCoalesced(b []byte) (long, short []byte) {
	n := 0
	for n < len(b) && wire.IsLongHeader(b[n]) {
		hdr, err := wire.ParseLongHeader(b[n:])
		if err != nil || hdr.PacketLen <= 0 || n+hdr.PacketLen > len(b) {
			return b, nil
		}
		n += hdr.PacketLen
	}
	return b[:n], b[n:]
}

// hasHandshake reports whether long-header packets include a Handshake one.
func hasHandshake(b []byte) bool {
	for len(b) > 0 {
		hdr, err := wire.ParseLongHeader(b)
		if err != nil || hdr.PacketLen <= 0 || hdr.PacketLen > len(b) {
			return false
		}
		if hdr.Type == wire.PacketHandshake {
			return true
		}
		b = b[hdr.PacketLen:]
	}
	return false
}

// TestEarly1RTTPacketKept: the client's Finished is lost and its 1-RTT
// packets, the request among them, reach the server first, before the
// server has 1-RTT keys. The server keeps them (RFC 9001 §5.7) and
// processes them once the retransmitted Finished brings the keys: every
// 1-RTT packet of the client sent after that is dropped here, so the
// request arrives only if it was kept. (A quic-go client whose Finished was
// lost probes the Handshake space, not its 1-RTT data: a server that
// dropped the request waited for it until the idle timeout.)
func TestEarly1RTTPacketKept(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		ln, _ := tn.listen(nil)
		ctx := testCtx(t)
		// The client's datagrams, which may coalesce long-header and
		// 1-RTT packets: first, its Handshake packets (the Finished) are
		// dropped and its 1-RTT packets go through; once the request is
		// out, the other way round.
		var mu sync.Mutex
		requestSent, early1RTT := false, 0
		filter := func(d *memnet.Datagram, deliver func([]byte, time.Duration)) {
			mu.Lock()
			defer mu.Unlock()
			long, short := splitCoalesced(d.Data)
			if !requestSent {
				if len(long) > 0 && !hasHandshake(long) {
					deliver(long, 0)
				}
				if len(short) > 0 {
					early1RTT++
					deliver(short, 0)
				}
				return
			}
			if len(long) > 0 {
				deliver(long, 0)
			}
		}
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
		s, err := cc.OpenStream(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Write([]byte("ping")); err != nil {
			t.Fatal(err)
		}
		synctest.Wait() // the request is out
		mu.Lock()
		requestSent = true
		mu.Unlock()
		s.SetReadDeadline(time.Now().Add(time.Minute))
		var echo [4]byte
		if _, err := io.ReadFull(s, echo[:]); err != nil || string(echo[:]) != "ping" {
			t.Fatalf("echo: %q, %v", echo, err)
		}
		mu.Lock()
		defer mu.Unlock()
		t.Logf("%d 1-RTT packets reached the server before the Finished", early1RTT)
		if early1RTT == 0 || early1RTT > maxUndecryptable {
			t.Errorf("%d 1-RTT packets went to the server before the Finished, want 1 to %d", early1RTT, maxUndecryptable)
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

// TestKeptPacketError: a kept 1-RTT packet that breaks the rules (a STREAM
// frame on the server's unopened send-only stream) closes the connection
// with the RFC's error once its keys come, as it would have on arrival.
func TestKeptPacketError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		tn.listen(nil)
		p, pc := tn.peer(quictest.DefaultParams())
		var blockFinished atomic.Bool
		blockFinished.Store(true)
		pc.SetSendFilter(memnet.Drop(func(d *memnet.Datagram) bool {
			long, _ := splitCoalesced(d.Data)
			return blockFinished.Load() && hasHandshake(long)
		}))
		ctx := testCtx(t)
		if err := p.StartTLS(ctx); err != nil {
			t.Fatal(err)
		}
		for !p.HandshakeComplete() {
			if err := p.Flush(); err != nil {
				t.Fatal(err)
			}
			if _, err := p.ReadPacket(ctx); err != nil {
				t.Fatalf("before the client's Finished: %v", err)
			}
		}
		p.Flush() // the Finished, dropped
		if err := p.SendFrames(wire.Packet1RTT, streamF(7, 0, "x", false)); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		blockFinished.Store(false)
		err := p.Handshake(ctx) // resends the Finished
		var ce *quictest.CloseError
		if !errors.As(err, &ce) || ce.Frame.Code != uint64(wire.StreamStateError) {
			t.Fatalf("handshake: %v, want a CONNECTION_CLOSE with STREAM_STATE_ERROR", err)
		}
	})
}
