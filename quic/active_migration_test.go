package quic

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tsumugi-quic/tsumugi/internal/memnet"
	"github.com/tsumugi-quic/tsumugi/internal/quictest"
	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

// serveEcho answers every stream of c with its own bytes until c ends.
func serveEcho(c *Conn) {
	go func() {
		for {
			s, err := c.AcceptStream(context.Background())
			if err != nil {
				return
			}
			go func() {
				b := make([]byte, 1024)
				for {
					n, err := s.Read(b)
					s.Write(b[:n])
					if err != nil {
						break
					}
				}
				s.Close()
			}()
		}
	}()
}

// migrationPair is a client and server over the in-memory network, the
// server echoing; old is the client's first socket.
func migrationPair(t *testing.T, serverConf *Config) (cc, sc *Conn, old *memnet.Conn, tn *testNet) {
	t.Helper()
	tn = newTestNet(t)
	ln, _ := tn.listen(serverConf)
	ctx := testCtx(t)
	cc, err := tn.dial(ctx, nil, tn.clientTLS(testALPN), func(pc *memnet.Conn) { old = pc })
	if err != nil {
		t.Fatal(err)
	}
	sc, err = ln.Accept(ctx)
	if err != nil {
		t.Fatal(err)
	}
	serveEcho(sc)
	request2(t, ctx, cc)
	return cc, sc, old, tn
}

// TestMigrate: a client moves to a new socket (RFC 9000 §9.2): the path is
// probed from there with a connection ID never used before (§9.5), the
// connection moves once the PATH_RESPONSE arrives there, the server
// follows, and the old socket carries nothing more and closes.
func TestMigrate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cc, sc, old, tn := migrationPair(t, nil)
		ctx := testCtx(t)
		oldAddr := cc.LocalAddr().String()
		var mu sync.Mutex // the taps run on the connection goroutine
		usedDCIDs := map[string]bool{}
		old.SetSendFilter(memnet.Tap(func(d *memnet.Datagram) {
			mu.Lock()
			defer mu.Unlock()
			if !wire.IsLongHeader(d.Data[0]) && len(d.Data) > 1+8 {
				usedDCIDs[string(d.Data[1:1+8])] = true
			}
		}))
		// Let every NEW_CONNECTION_ID arrive, and mark the DCID in use.
		request2(t, ctx, cc)
		synctest.Wait()

		next := tn.clientConn()
		var probes, probeDCIDReused int
		next.SetSendFilter(memnet.Tap(func(d *memnet.Datagram) {
			mu.Lock()
			defer mu.Unlock()
			if wire.IsLongHeader(d.Data[0]) {
				return
			}
			if probes == 0 && usedDCIDs[string(d.Data[1:1+8])] {
				probeDCIDReused++
			}
			probes++
		}))
		if err := cc.migrateOn(ctx, next); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
		if got, want := cc.LocalAddr().String(), next.LocalAddr().String(); got != want {
			t.Errorf("LocalAddr after Migrate = %s, want %s (was %s)", got, want, oldAddr)
		}
		mu.Lock()
		if probes == 0 || probeDCIDReused > 0 {
			t.Errorf("%d datagrams from the new socket before it was used, the first with a connection ID used on the old path: %v", probes, probeDCIDReused > 0)
		}
		mu.Unlock()
		before := old.Stats().DatagramsSent
		request2(t, ctx, cc)
		request2(t, ctx, cc)
		if got, want := sc.RemoteAddr().String(), next.LocalAddr().String(); got != want {
			t.Errorf("the server sends to %s, want the client's new address %s", got, want)
		}
		if n := old.Stats().DatagramsSent - before; n != 0 {
			t.Errorf("%d datagrams left the old socket after the move", n)
		}
		// The old socket closes a few PTOs later.
		time.Sleep(5 * time.Second)
		if _, err := old.WriteToUDPAddrPort([]byte{0}, serverAddr); !errors.Is(err, net.ErrClosed) {
			t.Errorf("the old socket is still open: write: %v", err)
		}
		if s := cc.Stats(); s.PacketsLost > 4 {
			t.Errorf("%d packets lost over a clean network", s.PacketsLost)
		}
	})
}

// TestMigrateErrors: every way Migrate fails leaves the connection on its
// path, working.
func TestMigrateErrors(t *testing.T) {
	for _, tc := range []struct {
		name     string
		server   *Config
		setup    func(next *memnet.Conn)
		ctxAfter time.Duration // cancel Migrate's context after this long (0: never)
		want     error
	}{
		{name: "blackholed path", setup: func(n *memnet.Conn) {
			n.SetSendFilter(memnet.Drop(func(*memnet.Datagram) bool { return true }))
		}, want: ErrPathValidation},
		{name: "no answer arrives", setup: func(n *memnet.Conn) {
			n.SetRecvFilter(memnet.Drop(func(*memnet.Datagram) bool { return true }))
		}, want: ErrPathValidation},
		{name: "cancelled", setup: func(n *memnet.Conn) {
			n.SetSendFilter(memnet.Drop(func(*memnet.Datagram) bool { return true }))
		}, ctxAfter: 300 * time.Millisecond, want: context.DeadlineExceeded},
		{name: "server disables it", server: &Config{DisableActiveMigration: true}, want: ErrMigrationDisabled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				cc, sc, _, tn := migrationPair(t, tc.server)
				ctx := testCtx(t)
				before := cc.LocalAddr().String()
				next := tn.clientConn()
				if tc.setup != nil {
					tc.setup(next)
				}
				mctx := ctx
				if tc.ctxAfter > 0 {
					var cancel context.CancelFunc
					mctx, cancel = context.WithTimeout(ctx, tc.ctxAfter)
					defer cancel()
				}
				start := time.Now()
				err := cc.migrateOn(mctx, next)
				if !errors.Is(err, tc.want) {
					t.Fatalf("Migrate: %v, want %v", err, tc.want)
				}
				t.Logf("Migrate failed after %v: %v", time.Since(start), err)
				if got := cc.LocalAddr().String(); got != before {
					t.Errorf("LocalAddr = %s after a failed Migrate, want %s", got, before)
				}
				request2(t, ctx, cc)
				if got := sc.RemoteAddr().String(); got != before {
					t.Errorf("the server sends to %s, want %s", got, before)
				}
				synctest.Wait()
				if _, err := next.WriteToUDPAddrPort([]byte{0}, serverAddr); !errors.Is(err, net.ErrClosed) {
					t.Errorf("the failed path's socket is still open: write: %v", err)
				}
			})
		})
	}
}

// TestMigrateRefused: only an open client connection migrates, one
// migration at a time.
func TestMigrateRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cc, sc, _, tn := migrationPair(t, nil)
		ctx := testCtx(t)
		if err := sc.Migrate(ctx, "127.0.0.1:0"); err == nil {
			t.Error("a server connection migrated")
		}

		blackholed := tn.clientConn()
		blackholed.SetSendFilter(memnet.Drop(func(*memnet.Datagram) bool { return true }))
		first := make(chan error, 1)
		go func() { first <- cc.migrateOn(ctx, blackholed) }()
		synctest.Wait()
		if err := cc.migrateOn(ctx, tn.clientConn()); err == nil {
			t.Error("a second Migrate ran while the first was in progress")
		}
		if err := <-first; !errors.Is(err, ErrPathValidation) {
			t.Errorf("first Migrate: %v", err)
		}

		cc.Close()
		<-cc.exited
		if err := cc.migrateOn(ctx, tn.clientConn()); err == nil {
			t.Error("a closed connection migrated")
		}
	})
}

// TestMigrateEndsWithConnection: a Migrate in progress returns the
// connection's error when the connection ends.
func TestMigrateEndsWithConnection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cc, sc, _, tn := migrationPair(t, nil)
		ctx := testCtx(t)
		blackholed := tn.clientConn()
		blackholed.SetSendFilter(memnet.Drop(func(*memnet.Datagram) bool { return true }))
		done := make(chan error, 1)
		go func() { done <- cc.migrateOn(ctx, blackholed) }()
		synctest.Wait()
		sc.CloseWithError(7, "bye")
		err := <-done
		var ae *ApplicationError
		if !errors.As(err, &ae) || ae.Code != 7 {
			t.Errorf("Migrate: %v, want the peer's application error 7", err)
		}
	})
}

// TestMigrateLoopback moves a real connection to a new UDP socket.
func TestMigrateLoopback(t *testing.T) {
	_, cc, sc := newTestPair(t, nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	serveEcho(sc)
	request2(t, ctx, cc)
	before := cc.LocalAddr().(*net.UDPAddr).AddrPort()
	if err := cc.Migrate(ctx, "127.0.0.1:0"); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	after := cc.LocalAddr().(*net.UDPAddr).AddrPort()
	if after == before || after.Port() == 0 {
		t.Fatalf("LocalAddr %v after Migrate from %v", after, before)
	}
	request2(t, ctx, cc)
	if got := sc.RemoteAddr().(*net.UDPAddr).AddrPort(); got != netip.AddrPortFrom(after.Addr(), after.Port()) {
		t.Errorf("the server sends to %v, want %v", got, after)
	}
}

// TestPathResponseUsesUnusedConnectionID: a PATH_RESPONSE to a challenge
// from a new address goes to a connection ID the peer gave us and that
// was not used on the first path (RFC 9000 §9.5: a connection ID is not
// used toward more than one address).
func TestPathResponseUsesUnusedConnectionID(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		p, _, _ := tn.peerPair(nil, quictest.DefaultParams())
		used := p.SrcConnID()
		spare := []byte{0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab, 0xab}[:len(used)]
		if err := p.SendFrames(wire.Packet1RTT, &wire.NewConnectionIDFrame{Seq: 1, ConnID: spare, ResetToken: [16]byte{1}}); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		other := tn.n.Listen(netip.AddrPortFrom(netip.MustParseAddr("10.0.0.77"), 0))
		defer other.Close()
		d, err := p.AppendPacket(nil, wire.Packet1RTT, 1200, &wire.PathChallengeFrame{Data: [8]byte{7}})
		if err != nil {
			t.Fatal(err)
		}
		other.WriteToUDPAddrPort(d, serverAddr)
		synctest.Wait()
		buf := make([]byte, 2048)
		n, _, err := other.ReadFromUDPAddrPort(buf)
		if err != nil {
			t.Fatalf("no answer on the new path: %v", err)
		}
		if wire.IsLongHeader(buf[0]) || n < 1+len(used) {
			t.Fatalf("the answer is not a 1-RTT packet: %x", buf[:n])
		}
		if dcid := buf[1 : 1+len(used)]; !bytes.Equal(dcid, spare) {
			t.Errorf("the PATH_RESPONSE goes to connection ID %x, want the unused %x (not %x, used on the first path)", dcid, spare, used)
		}
	})
}

// TestMigrateTwice: a second move right after the first closes the first
// socket left behind as well as the second, a few PTOs later.
func TestMigrateTwice(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cc, _, first, tn := migrationPair(t, nil)
		ctx := testCtx(t)
		second, third := tn.clientConn(), tn.clientConn()
		if err := cc.migrateOn(ctx, second); err != nil {
			t.Fatalf("first Migrate: %v", err)
		}
		request2(t, ctx, cc)
		if err := cc.migrateOn(ctx, third); err != nil {
			t.Fatalf("second Migrate: %v", err)
		}
		request2(t, ctx, cc)
		time.Sleep(5 * time.Second)
		for i, pc := range []*memnet.Conn{first, second} {
			if _, err := pc.WriteToUDPAddrPort([]byte{0}, serverAddr); !errors.Is(err, net.ErrClosed) {
				t.Errorf("socket %d left behind is still open: write: %v", i+1, err)
			}
		}
		if got, want := cc.LocalAddr().String(), third.LocalAddr().String(); got != want {
			t.Errorf("LocalAddr = %s, want %s", got, want)
		}
		request2(t, ctx, cc)
	})
}
