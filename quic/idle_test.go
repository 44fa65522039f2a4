package quic

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tsumugi-quic/tsumugi/internal/memnet"
	"github.com/tsumugi-quic/tsumugi/internal/quictest"
	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

// Idle and handshake timeout scripts (RFC 9000 §10.1).

// doneWithin reports whether ctx ends within d (fake time).
func doneWithin(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return true
	case <-time.After(d):
		return false
	}
}

// TestIdleTimeout: with both sides silent, each connection ends with
// ErrIdleTimeout once the smaller of the two max_idle_timeouts has passed
// since its last activity, never before; a blocked Read wakes with it.
func TestIdleTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		_, cc, sc := tn.pair(&Config{MaxIdleTimeout: 5 * time.Second}, &Config{MaxIdleTimeout: 20 * time.Second})
		s, err := cc.OpenStream(testCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		s.Write([]byte("x"))
		readErr := make(chan error, 1)
		go func() {
			_, err := s.Read(make([]byte, 1))
			readErr <- err
		}()
		time.Sleep(time.Second) // every ACK has arrived
		synctest.Wait()
		last := time.Now()
		for _, c := range []*Conn{cc, sc} {
			if doneWithin(c.Context(), 4*time.Second-time.Since(last)-time.Millisecond) {
				t.Fatalf("closed after %v of silence, before the 5 s idle timeout: %v", time.Since(last), context.Cause(c.Context()))
			}
		}
		for _, c := range []*Conn{cc, sc} {
			if !doneWithin(c.Context(), 5*time.Second) {
				t.Fatalf("still open after %v of silence", time.Since(last))
			}
			if cause := context.Cause(c.Context()); !errors.Is(cause, ErrIdleTimeout) {
				t.Fatalf("cause %v, want ErrIdleTimeout", cause)
			}
		}
		if err := <-readErr; !errors.Is(err, ErrIdleTimeout) {
			t.Fatalf("blocked Read: %v", err)
		}
	})
}

// TestIdleTimeoutIsSilent: the server closes an idle connection without
// sending anything (RFC 9000 §10.1) at the peer's smaller idle timeout,
// and forgets it.
func TestIdleTimeoutIsSilent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		params := quictest.DefaultParams()
		params.MaxIdleTimeout = 3 * time.Second
		p, sc, ln := tn.peerPair(nil, params)
		quiesce(t, p) // two seconds of acknowledgments
		p.AutoAck = false
		if pkt, err := p.ReadPacket(shortCtx(t, 10*time.Second)); err == nil {
			t.Fatalf("the idle server sent %v", pkt)
		}
		<-sc.Context().Done()
		if cause := context.Cause(sc.Context()); !errors.Is(cause, ErrIdleTimeout) {
			t.Fatalf("cause %v", cause)
		}
		synctest.Wait()
		if n := tn.serverConns(ln); n != 0 {
			t.Fatalf("%d connections after the idle timeout", n)
		}
	})
}

// TestKeepAlive: a keep-alive period shorter than the idle timeout keeps a
// silent connection up, with PINGs.
func TestKeepAlive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		var clientPackets atomic.Int64
		ln, _ := tn.listen(&Config{MaxIdleTimeout: 5 * time.Second})
		cc, err := tn.dial(testCtx(t), &Config{KeepAlivePeriod: 2 * time.Second}, tn.clientTLS(testALPN), func(pc *memnet.Conn) {
			pc.SetSendFilter(memnet.Tap(func(*memnet.Datagram) { clientPackets.Add(1) }))
		})
		if err != nil {
			t.Fatal(err)
		}
		sc, err := ln.Accept(testCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		before := clientPackets.Load()
		time.Sleep(time.Minute)
		for _, c := range []*Conn{cc, sc} {
			if c.Context().Err() != nil {
				t.Fatalf("closed despite keep-alive: %v", context.Cause(c.Context()))
			}
		}
		if sent := clientPackets.Load() - before; sent < 20 {
			t.Fatalf("%d keep-alive datagrams in a minute with a 2 s period", sent)
		}
	})
}

// TestHandshakeTimeout: our client gives up with ErrHandshakeTimeout after
// Config.HandshakeTimeout when nobody answers; our server forgets a
// connection whose client went silent mid-handshake.
func TestHandshakeTimeout(t *testing.T) {
	t.Run("client", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			tn := newTestNet(t)
			start := time.Now()
			_, err := tn.dial(context.Background(), &Config{HandshakeTimeout: 4 * time.Second}, tn.clientTLS(testALPN), nil)
			if !errors.Is(err, ErrHandshakeTimeout) {
				t.Fatalf("dial into the void: %v", err)
			}
			if d := time.Since(start); d < 4*time.Second || d > 5*time.Second {
				t.Fatalf("gave up after %v with a 4 s handshake timeout", d)
			}
		})
	})
	t.Run("server", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			tn := newTestNet(t)
			ln, _ := tn.listen(&Config{HandshakeTimeout: 4 * time.Second})
			p, _ := tn.peer(quictest.DefaultParams())
			p.StartTLS(testCtx(t))
			p.Flush()
			start := time.Now()
			time.Sleep(3900 * time.Millisecond)
			synctest.Wait()
			if n := tn.serverConns(ln); n != 1 {
				t.Fatalf("%d connections before the handshake timeout", n)
			}
			time.Sleep(200 * time.Millisecond)
			synctest.Wait()
			if n := tn.serverConns(ln); n != 0 {
				t.Fatalf("%d connections %v after a silent client's Initial", n, time.Since(start))
			}
			// The client's late Finished (or anything) finds nobody.
			if err := p.Handshake(shortCtx(t, 3*time.Second)); err == nil {
				t.Fatal("the handshake completed after the server gave up")
			}
		})
	})
	t.Run("ctx", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			tn := newTestNet(t)
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			if _, err := tn.dial(ctx, nil, tn.clientTLS(testALPN), nil); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("dial with a 1 s context: %v", err)
			}
		})
	})
}

// TestNoProbesAfterClose: after the scripted peer's CONNECTION_CLOSE the
// server's timers stop: no PTO probe, no keep-alive.
func TestNoProbesAfterClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		p, sc, _ := tn.peerPair(&Config{KeepAlivePeriod: time.Second}, quictest.DefaultParams())
		s := serverStream(t, p, sc)
		s.Write([]byte("unacknowledged"))
		p.SendFrames(wire.Packet1RTT, &wire.ConnectionCloseFrame{App: true})
		<-sc.Context().Done()
		quiesce(t, p)
		if pkt, err := p.ReadPacket(shortCtx(t, time.Minute)); err == nil {
			t.Fatalf("sent after the peer closed: %v", pkt)
		}
	})
}
