package integration_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// mangler is an on-path attacker between one client and the server: it
// forwards every datagram in both directions, but first sends copies of it
// that are truncated at a random length, have random bits flipped, or
// both, from the same addresses as the real ones. Every copy is a real
// packet of the connection gone wrong: headers that still parse, lengths
// that lie, ciphertext that no longer authenticates.
type mangler struct {
	front  *net.UDPConn // the client sends here
	back   *net.UDPConn // connected to the server
	copies int

	client  atomic.Pointer[netip.AddrPort]
	mangled [2]atomic.Uint64 // copies sent toward the server, toward the client
	wg      sync.WaitGroup
}

func newMangler(t *testing.T, server netip.AddrPort, copies int) *mangler {
	t.Helper()
	front, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	back, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(server))
	if err != nil {
		t.Fatal(err)
	}
	m := &mangler{front: front, back: back, copies: copies}
	m.wg.Go(func() { m.run(true) })
	m.wg.Go(func() { m.run(false) })
	t.Cleanup(func() {
		front.Close()
		back.Close()
		m.wg.Wait()
	})
	return m
}

func (m *mangler) addr() netip.AddrPort { return m.front.LocalAddr().(*net.UDPAddr).AddrPort() }

// run forwards toward the server (toServer) or toward the client.
func (m *mangler) run(toServer bool) {
	seed := uint64(1)
	if !toServer {
		seed = 2
	}
	rng := rand.New(rand.NewPCG(seed, 77))
	buf := make([]byte, 64<<10)
	bad := make([]byte, 64<<10)
	for {
		var n int
		var err error
		if toServer {
			var from netip.AddrPort
			n, from, err = m.front.ReadFromUDPAddrPort(buf)
			if err == nil {
				m.client.Store(&from)
			}
		} else {
			n, err = m.back.Read(buf)
		}
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		send := func(b []byte) {
			if toServer {
				m.back.Write(b)
			} else if c := m.client.Load(); c != nil {
				m.front.WriteToUDPAddrPort(b, *c)
			}
		}
		for range m.copies * min(n, 1) {
			b := bad[:copy(bad, buf[:n])]
			switch rng.IntN(3) {
			case 0: // truncated
				b = b[:rng.IntN(len(b)+1)]
			case 1: // one to eight bits flipped
				for range 1 + rng.IntN(8) {
					bit := rng.IntN(8 * len(b))
					b[bit/8] ^= 1 << (bit % 8)
				}
			default: // both
				b = b[:1+rng.IntN(len(b))]
				bit := rng.IntN(8 * len(b))
				b[bit/8] ^= 1 << (bit % 8)
			}
			send(b)
			if toServer {
				m.mangled[0].Add(1)
			} else {
				m.mangled[1].Add(1)
			}
		}
		send(buf[:n])
	}
}

// TestAttackMangledPackets: two mangled copies of every datagram of a
// connection, in both directions, just ahead of the real one. Our server
// and our client each drop what fails to parse or to authenticate and keep
// going: the attacked connection fetches 2 MB and echoes 512 KiB intact,
// and a bystander's 2 MB arrive intact too.
func TestAttackMangledPackets(t *testing.T) {
	stc, ctc := testTLS(t)
	_, addr := attackServer(t, stc, nil)
	m := newMangler(t, addr, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	done := bystander(t, ctx, addr, stc, ctc, 2<<20, 1)
	c, err := clientEndpoint(t, stc).Dial(ctx, m.addr().String(), ctc)
	if err != nil {
		t.Fatalf("dial through the mangler: %v", err)
	}
	defer c.Close()
	errs := make(chan error, 2)
	go func() { errs <- get(ctx, oursConn{c}, 2<<20, 2) }()
	go func() { errs <- echo(ctx, oursConn{c}, 512<<10, 3) }()
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatalf("the attacked connection: %v", err)
		}
	}
	waitBystander(t, done)
	t.Logf("mangled copies: %d toward the server, %d toward the client", m.mangled[0].Load(), m.mangled[1].Load())
}
