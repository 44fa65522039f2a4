package integration_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	quicgo "github.com/quic-go/quic-go"

	"github.com/tsumugi-quic/tsumugi/quic"
)

// TestInteropActiveMigration: our client moves to a new UDP socket
// (quic.Conn.Migrate, RFC 9000 §9.2) in the middle of a 10 MB download
// from each server. The path is validated from the new socket, the server
// must follow the client there (the old socket closes a few PTOs after the
// move, so a server that kept sending to it would stall the download), and
// every byte arrives. x/net/quic does not support migration and says so
// with disable_active_migration (RFC 9000 §18.2): Migrate must refuse,
// and the connection stay on its first path, whole.
func TestInteropActiveMigration(t *testing.T) {
	for _, server := range []impl{ours, qgo, xnet} {
		t.Run("tsumugi-client/"+server.name+"-server", func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			pc := connect(t, ctx, pairing{ours, server}, peerOptions{}, peerOptions{})
			c := pc.(oursConn).c
			const size, seed = 10 << 20, 7
			s, err := c.OpenStream(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			s.Write(getRequest(size, seed))
			s.CloseWrite()
			h := sha256.New()
			if _, err := io.CopyN(h, s, 2<<20); err != nil {
				t.Fatalf("before the move: %v", err)
			}
			before := c.LocalAddr().String()
			err = c.Migrate(ctx, "127.0.0.1:0")
			after := c.LocalAddr().String()
			t.Logf("Migrate from %s: %v; now %s", before, err, after)
			switch {
			case server.name == xnet.name:
				if !errors.Is(err, quic.ErrMigrationDisabled) {
					t.Errorf("Migrate toward x/net/quic: %v, want ErrMigrationDisabled (it sends disable_active_migration)", err)
				}
				if after != before {
					t.Errorf("LocalAddr %s after a failed Migrate, want %s", after, before)
				}
			case err != nil:
				t.Fatalf("Migrate: %v", err)
			case after == before:
				t.Fatalf("LocalAddr still %s after Migrate", after)
			}
			n, err := io.Copy(h, s)
			if err != nil {
				t.Fatalf("after the move, %d bytes: %v", 2<<20+n, err)
			}
			if 2<<20+n != size || [32]byte(h.Sum(nil)) != payloadSum(size, seed) {
				t.Fatalf("got %d bytes, want %d, or different bytes", 2<<20+n, size)
			}
			// Long after the old socket closed: a new request both ways.
			time.Sleep(300 * time.Millisecond)
			if err := echo(ctx, pc, 1<<20, 8); err != nil {
				t.Fatalf("echo after the move: %v", err)
			}
			t.Logf("%d packets declared lost over loopback", c.Stats().PacketsLost)
		})
	}
}

// getRequest is the test protocol's request for size bytes from seed.
func getRequest(size, seed uint64) []byte {
	var req [17]byte
	req[0] = 'G'
	for i := range 8 {
		req[1+i] = byte(size >> (56 - 8*i))
		req[9+i] = byte(seed >> (56 - 8*i))
	}
	return req[:]
}

// TestInteropQuicGoClientMigrates: a quic-go client moves its connection
// to a new socket (Conn.AddPath, Path.Probe, Path.Switch: RFC 9000 §9.2)
// in the middle of a 10 MB download from our server. Our server answers
// the probe from the new address on that path, follows the client when
// its non-probing packets arrive there (validating the path itself), and
// every byte arrives.
func TestInteropQuicGoClientMigrates(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	stc, ctc := testTLS(t)
	ln, err := quic.Listen("udp", "127.0.0.1:0", stc, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	accepted := make(chan *quic.Conn, 1)
	go func() {
		c, err := ln.Accept(ctx)
		if err != nil {
			return
		}
		accepted <- c
		serveConn(ctx, oursConn{c})
	}()
	udp := func() *net.UDPConn {
		uc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { uc.Close() })
		return uc
	}
	tr1 := &quicgo.Transport{Conn: udp()}
	t.Cleanup(func() { tr1.Close() })
	c, err := tr1.Dial(ctx, ln.Addr(), ctc, &quicgo.Config{MaxIdleTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseWithError(0, "")
	sc := <-accepted

	const size, seed = 10 << 20, 9
	s, err := c.OpenStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.Write(getRequest(size, seed))
	s.Close() // quic-go: the send side
	h := sha256.New()
	if _, err := io.CopyN(h, s, 2<<20); err != nil {
		t.Fatalf("before the move: %v", err)
	}
	tr2 := &quicgo.Transport{Conn: udp()}
	t.Cleanup(func() { tr2.Close() })
	path, err := c.AddPath(tr2)
	if err != nil {
		t.Fatalf("AddPath: %v", err)
	}
	if err := path.Probe(ctx); err != nil {
		t.Fatalf("Probe: our server did not answer the PATH_CHALLENGE on the new path: %v", err)
	}
	if err := path.Switch(); err != nil {
		t.Fatalf("Switch: %v", err)
	}
	n, err := io.Copy(h, s)
	if err != nil {
		t.Fatalf("after the move, %d bytes: %v", 2<<20+n, err)
	}
	if 2<<20+n != size || [32]byte(h.Sum(nil)) != payloadSum(size, seed) {
		t.Fatalf("got %d bytes, want %d, or different bytes", 2<<20+n, size)
	}
	if got, want := sc.RemoteAddr().String(), tr2.Conn.LocalAddr().String(); got != want {
		t.Errorf("our server sends to %s, want the client's new address %s", got, want)
	}
}
