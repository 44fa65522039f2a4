package integration_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"testing"

	"github.com/tsumugi-quic/tsumugi/quic"
)

// Helpers of the socket-level attack tests (socket_attack_*_test.go): our
// server on a real UDP socket, serving the test protocol (protocol_test.go)
// to every connection; a bystander that fetches and checks a payload from it
// while the attack runs; attacker sockets on loopback addresses of their own
// (Linux routes all of 127.0.0.0/8 to lo, so each attacker has a source
// address of its own). docs/security.md describes the threat model.
//
// The files are not named attack_*: a test file that sorts before doc.go
// makes go/build read "package integration_test" as the external test
// package of a package "integration", and the directory stops building.

// attackServer starts our server with conf on 127.0.0.1 and serves every
// connection it accepts until the test ends.
func attackServer(t *testing.T, tc *tls.Config, conf *quic.Config) (*quic.Listener, netip.AddrPort) {
	t.Helper()
	ln, err := quic.Listen("udp", "127.0.0.1:0", tc, conf)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept(ctx)
			if err != nil {
				return
			}
			wg.Go(func() { serveConn(ctx, oursConn{c}) })
		}
	})
	t.Cleanup(func() {
		cancel()
		ln.Close()
		wg.Wait()
	})
	return ln, ln.Addr().(*net.UDPAddr).AddrPort()
}

// clientEndpoint returns an endpoint on a socket of its own to dial from.
// Unlike quic.Dial's, it is closed when the test ends, and closing it waits
// for its connections (without a closing period): goleak then finds no
// connection still lingering in its closing period. stc is a server
// configuration (a listener needs a certificate even if nobody dials it).
func clientEndpoint(t *testing.T, stc *tls.Config) *quic.Listener {
	t.Helper()
	ln, err := quic.Listen("udp", "127.0.0.1:0", stc, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// bystander fetches size bytes (seed) from the server at addr on a
// connection of its own and checks every byte; the error arrives on the
// returned channel.
func bystander(t *testing.T, ctx context.Context, addr netip.AddrPort, stc, ctc *tls.Config, size, seed uint64) <-chan error {
	t.Helper()
	from := clientEndpoint(t, stc)
	done := make(chan error, 1)
	go func() {
		c, err := from.Dial(ctx, addr.String(), ctc)
		if err != nil {
			done <- fmt.Errorf("bystander dial: %w", err)
			return
		}
		err = get(ctx, oursConn{c}, size, seed)
		c.Close()
		if err != nil {
			err = fmt.Errorf("bystander: %w", err)
		}
		done <- err
	}()
	return done
}

// waitBystander fails the test unless the bystander's fetch succeeded.
func waitBystander(t *testing.T, done <-chan error) {
	t.Helper()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// attacker is a UDP socket on a loopback address of its own that counts
// what it sends and what comes back to it.
type attacker struct {
	conn *net.UDPConn
	wg   sync.WaitGroup

	mu             sync.Mutex
	sent, received int
	answers        [][]byte // every datagram received, when keep is set
	keep           bool
}

// newAttacker binds 127.0.0.<host> and starts reading; the socket closes
// when the test ends.
func newAttacker(t *testing.T, host byte, keep bool) *attacker {
	t.Helper()
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, host}), 0)))
	if err != nil {
		// Linux routes all of 127.0.0.0/8 to lo; other systems may
		// have 127.0.0.1 only.
		t.Skipf("no loopback address 127.0.0.%d here: %v", host, err)
	}
	a := &attacker{conn: conn, keep: keep}
	a.wg.Go(func() {
		buf := make([]byte, 64<<10)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				continue
			}
			a.mu.Lock()
			a.received += n
			if a.keep {
				a.answers = append(a.answers, append([]byte(nil), buf[:n]...))
			}
			a.mu.Unlock()
		}
	})
	t.Cleanup(a.close)
	return a
}

// send sends b to addr and counts it.
func (a *attacker) send(b []byte, addr netip.AddrPort) {
	if _, err := a.conn.WriteToUDPAddrPort(b, addr); err == nil {
		a.mu.Lock()
		a.sent += len(b)
		a.mu.Unlock()
	}
}

// counts returns the bytes sent and received so far.
func (a *attacker) counts() (sent, received int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.sent, a.received
}

func (a *attacker) close() {
	a.conn.Close()
	a.wg.Wait()
}
