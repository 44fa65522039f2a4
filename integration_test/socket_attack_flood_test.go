package integration_test

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/tsumugi-quic/tsumugi/internal/certs"
	"github.com/tsumugi-quic/tsumugi/internal/quictest"
	"github.com/tsumugi-quic/tsumugi/quic"
	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

// Floods against a real UDP listener: spoofed-looking handshakes from many
// loopback addresses, and short-header datagrams that ask for stateless
// resets.

// flightRecorder is a quictest.PacketConn that keeps what is written to it and
// sends nothing: it captures a client's first flight for replay.
type flightRecorder struct{ sent [][]byte }

func (r *flightRecorder) ReadFromUDPAddrPort([]byte) (int, netip.AddrPort, error) {
	return 0, netip.AddrPort{}, os.ErrDeadlineExceeded
}

func (r *flightRecorder) WriteToUDPAddrPort(b []byte, _ netip.AddrPort) (int, error) {
	r.sent = append(r.sent, append([]byte(nil), b...))
	return len(b), nil
}

func (r *flightRecorder) SetReadDeadline(time.Time) error { return nil }
func (r *flightRecorder) LocalAddr() net.Addr             { return &net.UDPAddr{} }

// clientHello returns the Initial datagrams of a fresh ClientHello to addr.
func clientHello(t *testing.T, addr netip.AddrPort, tc *tls.Config) [][]byte {
	t.Helper()
	r := &flightRecorder{}
	p := quictest.NewClient(r, addr, tc, quictest.DefaultParams())
	defer p.Close()
	if err := p.StartTLS(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := p.Flush(); err != nil {
		t.Fatal(err)
	}
	return r.sent
}

// bigCertTLS returns TLS configurations around a certificate of about
// 10 KB, so that the server's first flight is far larger than three
// ClientHellos.
func bigCertTLS(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	hosts := []string{"localhost"}
	for i := range 200 {
		hosts = append(hosts, fmt.Sprintf("host-%03d.a-rather-long-domain-name.example", i))
	}
	cert, pool, err := certs.SelfSigned(hosts...)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{alpn}},
		&tls.Config{RootCAs: pool, NextProtos: []string{alpn}, ServerName: "localhost"}
}

// TestAttackInitialFlood: 128 loopback addresses each send a real
// ClientHello and never answer, as clients with forged addresses would;
// the server's certificate makes its first flight about 10 KB. No address
// gets back more than three times what it sent (RFC 9000 §8.1), the
// handshakes beyond RetryThreshold (64 by default) get a Retry instead of a
// connection, and a bystander connects and fetches 2 MB during the flood
// and again once the half-open connections timed out.
func TestAttackInitialFlood(t *testing.T) {
	stc, ctc := bigCertTLS(t)
	_, addr := attackServer(t, stc, &quic.Config{HandshakeTimeout: time.Second})
	const n = 128
	flights := make([][][]byte, n)
	for i := range flights {
		flights[i] = clientHello(t, addr, ctc)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	attackers := make([]*attacker, n)
	for i := range attackers {
		attackers[i] = newAttacker(t, byte(100+i), true)
	}
	for i, a := range attackers {
		for _, d := range flights[i] {
			a.send(d, addr)
		}
	}
	waitBystander(t, bystander(t, ctx, addr, stc, ctc, 2<<20, 1))
	time.Sleep(1500 * time.Millisecond) // retransmissions, then the handshake timeout
	retried, answered, worst := 0, 0, 0.0
	for i, a := range attackers {
		sent, back := a.counts()
		if back > 3*sent {
			t.Errorf("127.0.0.%d: %d bytes back for %d sent", 100+i, back, sent)
		}
		worst = max(worst, float64(back)/float64(sent))
		a.mu.Lock()
		if len(a.answers) > 0 {
			answered++
			if h, err := wire.ParseLongHeader(a.answers[0]); err == nil && h.Type == wire.PacketRetry {
				retried++
			}
		}
		a.mu.Unlock()
	}
	t.Logf("%d spoofed ClientHellos: %d answered (%d with a Retry), at most %.2f× the bytes sent came back", n, answered, retried, worst)
	if retried == 0 {
		t.Error("no Retry above RetryThreshold")
	}
	waitBystander(t, bystander(t, ctx, addr, stc, ctc, 2<<20, 2))
}

// TestAttackStatelessResetRate: three thousand short-header datagrams for
// unknown connections, as fast as the socket takes them. Each answer is a
// stateless reset smaller than its trigger and at most 40 bytes; there are
// no more of them than the endpoint's limiter allows (a burst of 100, then
// 100 per second), so the server cannot be turned into a reflector.
func TestAttackStatelessResetRate(t *testing.T) {
	stc, ctc := testTLS(t)
	_, addr := attackServer(t, stc, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	done := bystander(t, ctx, addr, stc, ctc, 2<<20, 1)
	a := newAttacker(t, 7, true)
	const n, size = 3000, 60
	start := time.Now()
	b := make([]byte, size)
	for i := range n {
		rand.Read(b)
		b[0] = 0x40 | b[0]&0x3f
		a.send(b, addr)
		if i%10 == 9 {
			time.Sleep(100 * time.Microsecond)
		}
	}
	time.Sleep(200 * time.Millisecond)
	elapsed := time.Since(start)
	waitBystander(t, done)
	a.mu.Lock()
	resets := len(a.answers)
	for _, r := range a.answers {
		if len(r) >= size || len(r) > 40 || len(r) < 21 || wire.IsLongHeader(r[0]) {
			t.Errorf("an answer of %d bytes (% x) to a %d-byte datagram", len(r), r[:min(len(r), 8)], size)
		}
	}
	a.mu.Unlock()
	allowed := 100 + int(100*elapsed.Seconds()) + 1
	t.Logf("%d datagrams for unknown connections in %v: %d stateless resets (limiter allows %d)", n, elapsed.Round(time.Millisecond), resets, allowed)
	if resets > allowed {
		t.Errorf("%d resets in %v, beyond the limiter's %d", resets, elapsed, allowed)
	}
	if resets == 0 {
		t.Error("no stateless reset at all")
	}
}
