package quic

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/netip"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tsumugi-quic/tsumugi/internal/memnet"
	"github.com/tsumugi-quic/tsumugi/internal/quictest"
	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

// Spoofed packets: Version Negotiation and Retry packets forged against
// our client (RFC 9000 §6.2, §17.2.5.2; RFC 9001 §5.8), and stateless
// resets (RFC 9000 §10.3): we answer unknown connections with resets
// smaller than what triggered them and at a bounded rate, and never answer
// a reset.

// injection forges packets around the first datagram our client receives
// from the server: before it, or after it. The forger sees the client's
// first Initial: its connection IDs (what an on-path attacker sees).
type injection func(odcid, clientSCID []byte) (before, after [][]byte)

// dialInjected dials our server through a client socket whose receive
// filter delivers inject's forgeries around the server's first datagram,
// as if they came from the server's address. If the dial succeeds, it
// checks that the connection carries an echo.
func dialInjected(t *testing.T, tn *testNet, ln *Listener, inject injection) (*Conn, error) {
	t.Helper()
	var mu sync.Mutex
	var odcid, scid []byte
	injected := false
	c, err := tn.dial(testCtx(t), &Config{HandshakeTimeout: 5 * time.Second}, tn.clientTLS(testALPN), func(pc *memnet.Conn) {
		pc.SetSendFilter(memnet.Tap(func(d *memnet.Datagram) {
			mu.Lock()
			defer mu.Unlock()
			if odcid == nil && hasInitial(d.Data) {
				h, _ := wire.ParseLongHeader(d.Data)
				odcid, scid = bytes.Clone(h.DstConnID), bytes.Clone(h.SrcConnID)
			}
		}))
		pc.SetRecvFilter(func(d *memnet.Datagram, deliver func([]byte, time.Duration)) {
			mu.Lock()
			first := !injected
			injected = true
			o, s := odcid, scid
			mu.Unlock()
			if !first {
				deliver(d.Data, 0)
				return
			}
			before, after := inject(o, s)
			for _, f := range before {
				deliver(f, 0)
			}
			deliver(d.Data, 0)
			for _, f := range after {
				deliver(f, time.Millisecond)
			}
		})
	})
	if err != nil {
		return nil, err
	}
	go func() {
		sc, err := ln.Accept(testCtx(t))
		if err != nil {
			return
		}
		s, err := sc.AcceptStream(testCtx(t))
		if err != nil {
			return
		}
		io.Copy(s, s)
		s.Close()
	}()
	s, err := c.OpenStream(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	s.Write([]byte("still here"))
	s.CloseWrite()
	if got, err := io.ReadAll(s); err != nil || string(got) != "still here" {
		t.Fatalf("echo after the forgeries: %q, %v", got, err)
	}
	return c, nil
}

// TestAttackSpoofedVersionNegotiation: a client ignores a Version
// Negotiation packet that lists the version it chose, or that arrives after
// it processed a packet from the server, or whose connection IDs are not
// its own (RFC 9000 §6.2): none of them ends the connection.
func TestAttackSpoofedVersionNegotiation(t *testing.T) {
	tests := []struct {
		name   string
		inject injection
		fails  bool // a control: the forgery is one a client must obey
	}{
		{"lists-our-version", func(odcid, scid []byte) ([][]byte, [][]byte) {
			return [][]byte{wire.AppendVersionNegotiation(nil, scid, odcid, 0x1a2a3a4a, wire.Version1)}, nil
		}, false},
		{"after-a-valid-packet", func(odcid, scid []byte) ([][]byte, [][]byte) {
			return nil, [][]byte{wire.AppendVersionNegotiation(nil, scid, odcid, 0x1a2a3a4a)}
		}, false},
		{"wrong-connection-ids", func(odcid, scid []byte) ([][]byte, [][]byte) {
			return [][]byte{wire.AppendVersionNegotiation(nil, odcid, scid, 0x1a2a3a4a)}, nil
		}, false},
		// Control: the same packet with the right connection IDs, first,
		// ends the attempt (what an on-path attacker can always do).
		{"control-valid-first", func(odcid, scid []byte) ([][]byte, [][]byte) {
			return [][]byte{wire.AppendVersionNegotiation(nil, scid, odcid, 0x1a2a3a4a)}, nil
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tn := newTestNet(t)
				ln, _ := tn.listen(nil)
				_, err := dialInjected(t, tn, ln, tt.inject)
				var vn *VersionNegotiationError
				if tt.fails != errors.As(err, &vn) {
					t.Fatalf("dial: %v", err)
				}
			})
		})
	}
}

// TestAttackSpoofedRetry: a Retry whose integrity tag does not verify
// against our original Destination Connection ID is discarded (RFC 9001
// §5.8), as is a valid one after the server's first Initial (RFC 9000
// §17.2.5.2): neither redirects the handshake.
func TestAttackSpoofedRetry(t *testing.T) {
	retry := func(odcid, scid []byte, breakTag bool) []byte {
		r := wire.AppendRetry(nil, wire.Version1, scid, []byte("attacker"), []byte("forged token"), odcid)
		if breakTag {
			r[len(r)-1] ^= 1
		}
		return r
	}
	tests := []struct {
		name   string
		inject injection
		fails  bool // a control: the forgery is one a client must obey
	}{
		{"bad-integrity-tag", func(odcid, scid []byte) ([][]byte, [][]byte) {
			return [][]byte{retry(odcid, scid, true)}, nil
		}, false},
		{"tag-for-another-connection", func(odcid, scid []byte) ([][]byte, [][]byte) {
			return [][]byte{retry([]byte("someone else"), scid, false)}, nil
		}, false},
		{"after-the-server-initial", func(odcid, scid []byte) ([][]byte, [][]byte) {
			return nil, [][]byte{retry(odcid, scid, false)}
		}, false},
		// Control: a valid Retry first is followed, and since the server
		// never sent it, the handshake fails its transport parameter
		// check (RFC 9000 §7.3): the injection does reach the client.
		{"control-valid-first", func(odcid, scid []byte) ([][]byte, [][]byte) {
			return [][]byte{retry(odcid, scid, false)}, nil
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tn := newTestNet(t)
				ln, _ := tn.listen(nil)
				c, err := dialInjected(t, tn, ln, tt.inject)
				if tt.fails {
					if err == nil {
						t.Fatal("the control's valid Retry went unnoticed")
					}
					return
				}
				if err != nil {
					t.Fatalf("dial: %v", err)
				}
				if c.retried.Load() {
					t.Fatal("the client followed the forged Retry")
				}
			})
		})
	}
}

// shortGarbage returns a datagram of size bytes that looks like a
// short-header packet for a random connection ID.
func shortGarbage(size int) []byte {
	b := make([]byte, size)
	rand.Read(b)
	if size > 0 {
		b[0] = 0x40 | b[0]&0x3f
	}
	return b
}

// TestAttackStatelessResetOracle: short-header datagrams for connections
// the server does not know get a stateless reset (RFC 9000 §10.3) that is
// smaller than the datagram (so that two endpoints cannot keep a reset
// loop going, §10.3.3), never for 21 bytes or less (a reset needs at least
// that, and a smaller one could answer a reset), and at most
// Endpoint.resetLimiter's burst at once (100, refilled at 100 per second):
// a flood cannot make the server a reflector. Feeding the server its own
// resets ends within a few rounds.
func TestAttackStatelessResetOracle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		ln, _ := tn.listen(nil)
		by := startBystander(t, tn, ln, 256<<10, nil)
		atk := tn.n.Listen(netip.AddrPortFrom(netip.MustParseAddr("10.0.0.99"), 0))
		defer atk.Close()
		answers := func() (sizes []int) {
			buf := make([]byte, 2048)
			for {
				atk.SetReadDeadline(time.Now().Add(time.Microsecond))
				n, _, err := atk.ReadFromUDPAddrPort(buf)
				if err != nil {
					return sizes
				}
				sizes = append(sizes, n)
			}
		}
		// Too short to answer.
		for size := 0; size <= 21; size++ {
			atk.WriteToUDPAddrPort(shortGarbage(size), serverAddr)
		}
		synctest.Wait()
		if got := answers(); len(got) != 0 {
			t.Fatalf("answers to datagrams of 21 bytes or less: %v", got)
		}
		// A flood of 1000 at one instant: at most the burst is answered,
		// each answer smaller than its trigger and at most 40 bytes.
		const flood = 1000
		triggers := make([]int, 0, flood)
		var got []int
		for i := range flood {
			size := 22 + i%1479
			triggers = append(triggers, size)
			atk.WriteToUDPAddrPort(shortGarbage(size), serverAddr)
			if i%100 == 99 {
				synctest.Wait()
				got = append(got, answers()...)
			}
		}
		for _, n := range got {
			if n > 40 || n < 21 {
				t.Errorf("a stateless reset of %d bytes", n)
			}
		}
		t.Logf("%d short-header datagrams for unknown connections at one instant: %d resets", flood, len(got))
		if len(got) > 100 {
			t.Errorf("%d resets at once, beyond the limiter's burst of 100", len(got))
		}
		if len(got) == 0 {
			t.Error("no stateless reset at all")
		}
		// The bucket refills: a second later, more are answered, and
		// feeding the server its own reset back gets ever smaller ones
		// until they are too small to answer.
		time.Sleep(time.Second)
		atk.WriteToUDPAddrPort(shortGarbage(41), serverAddr)
		synctest.Wait()
		prev := 41
		rounds := 0
		buf := make([]byte, 2048)
		for {
			atk.SetReadDeadline(time.Now().Add(time.Millisecond))
			n, _, err := atk.ReadFromUDPAddrPort(buf)
			if err != nil {
				break
			}
			if n >= prev {
				t.Fatalf("a reset of %d bytes answered a datagram of %d", n, prev)
			}
			prev = n
			rounds++
			atk.WriteToUDPAddrPort(buf[:n], serverAddr)
			synctest.Wait()
		}
		t.Logf("the server's resets fed back to it: %d rounds, ending at %d bytes", rounds, prev)
		if rounds == 0 || prev > 22 {
			t.Errorf("reset loop: %d rounds, last answer %d bytes", rounds, prev)
		}
		by.wait(t)
	})
}

// TestAttackStatelessResetIsNotAnswered: a stateless reset from the peer
// (the token of one of its connection IDs, RFC 9000 §10.3.1) ends our
// server's connection silently: no CONNECTION_CLOSE, no reset in return,
// nothing at all; the bystander is not affected.
func TestAttackStatelessResetIsNotAnswered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		p, pc, sc, ln := attackPair(t, tn, nil, quictest.DefaultParams())
		by := startBystander(t, tn, ln, 256<<10, nil)
		token := [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
		p.SendFrames(wire.Packet1RTT, &wire.NewConnectionIDFrame{Seq: 1, ConnID: []byte{9, 9, 9, 9, 9, 9, 9, 9}, ResetToken: token})
		quiet(t, p)
		before := pc.Stats().DatagramsQueued
		reset := shortGarbage(43)
		copy(reset[len(reset)-16:], token[:])
		p.SendRaw(reset)
		<-sc.Context().Done()
		if cause := context.Cause(sc.Context()); !errors.Is(cause, ErrStatelessReset) {
			t.Fatalf("cause %v, want ErrStatelessReset", cause)
		}
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if got := pc.Stats().DatagramsQueued - before; got != 0 {
			t.Errorf("%d datagrams sent to a peer that reset the connection", got)
		}
		by.wait(t)
	})
}
