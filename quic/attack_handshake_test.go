package quic

import (
	"crypto/rand"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tsumugi-quic/tsumugi/internal/memnet"
	"github.com/tsumugi-quic/tsumugi/internal/quictest"
	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

// Handshake floods from spoofed addresses (RFC 9000 §8.1, §21.1.1): each
// spoofed client sends its Initial (a real ClientHello) from an address of
// its own and never answers, as a client whose address was forged would.
// Our server may send at most three times what it received from each
// address; above RetryThreshold handshakes in progress it answers with a
// Retry and keeps no state; above MaxHandshakes it drops Initials; and a
// half-open connection is forgotten after HandshakeTimeout. A bystander
// client connects and transfers all the while.

// spoofedAddr is the address of the i-th spoofed client.
func spoofedAddr(i int) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 66, byte(i >> 8), byte(i)}), 4433)
}

// spoofedInitials builds the first flight (the Initial datagrams of a
// ClientHello) of n clients, without sending anything: packets to replay
// from spoofed addresses.
func spoofedInitials(t *testing.T, tn *testNet, n int) [][][]byte {
	t.Helper()
	flights := make([][][]byte, n)
	for i := range flights {
		pc := tn.n.Listen(netip.AddrPortFrom(netip.MustParseAddr("10.65.0.1"), 0))
		var flight [][]byte
		pc.SetSendFilter(func(d *memnet.Datagram, _ func([]byte, time.Duration)) {
			flight = append(flight, append([]byte(nil), d.Data...))
		})
		p := quictest.NewClient(pc, serverAddr, tn.clientTLS(testALPN), quictest.DefaultParams())
		if err := p.StartTLS(testCtx(t)); err != nil {
			t.Fatal(err)
		}
		if err := p.Flush(); err != nil {
			t.Fatal(err)
		}
		p.Close()
		pc.Close()
		flights[i] = flight
	}
	return flights
}

// sendSpoofed sends flight i from spoofedAddr(i), from a socket that then
// closes: what the server answers goes nowhere, as it would to a forged
// address. Flights are sent in bursts of 16 with floodPause between.
func sendSpoofed(tn *testNet, flights [][][]byte) {
	for i, flight := range flights {
		pc := tn.n.Listen(spoofedAddr(i))
		for _, d := range flight {
			pc.WriteToUDPAddrPort(d, serverAddr)
		}
		pc.Close()
		if i%16 == 15 {
			synctest.Wait()
			time.Sleep(floodPause)
		}
	}
	synctest.Wait()
}

// TestAttackHandshakeFloodAmplification: with a 10 KB certificate the
// server's first flight is far more than three times a ClientHello, yet no
// spoofed address receives more than three times what came from it, over
// every retransmission, until the handshake timeout forgets each
// half-open connection (RFC 9000 §8.1).
func TestAttackHandshakeFloodAmplification(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		tn.bigCertificate()
		const n = 64
		flights := spoofedInitials(t, tn, n)
		ln, spc := tn.listen(&Config{RetryThreshold: -1, HandshakeTimeout: 3 * time.Second})
		tr := countTraffic(spc)
		by := startBystander(t, tn, ln, 256<<10, nil)
		sendSpoofed(tn, flights)
		if got := handshaking(ln); got < n {
			t.Fatalf("%d handshakes in progress after %d spoofed Initials", got, n)
		}
		time.Sleep(5 * time.Second) // PTOs, then the handshake timeout
		synctest.Wait()
		worst := 0.0
		for i := range n {
			out, _, in := tr.to(spoofedAddr(i))
			if out > 3*in {
				t.Errorf("%v: sent %d bytes for %d received", spoofedAddr(i), out, in)
			}
			if out == 0 {
				t.Errorf("%v: no answer at all", spoofedAddr(i))
			}
			worst = max(worst, float64(out)/float64(in))
		}
		t.Logf("%d spoofed ClientHellos: at most %.2f× the bytes received sent back to an address", n, worst)
		if got := handshaking(ln); got != 0 {
			t.Errorf("%d handshakes in progress after the handshake timeout", got)
		}
		by.wait(t)
		if got := tn.serverConns(ln); got != 1 {
			t.Errorf("%d server connections left, want the bystander's only", got)
		}
	})
}

// TestAttackHandshakeFloodRetry: beyond RetryThreshold handshakes in
// progress, every Initial without a token gets a Retry (RFC 9000 §8.1.2)
// and creates no state; a Retry is smaller than the Initial that caused
// it. The bystander, arriving during the flood, goes through the Retry and
// is served.
func TestAttackHandshakeFloodRetry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		const n, threshold = 40, 8
		flights := spoofedInitials(t, tn, n)
		ln, spc := tn.listen(&Config{RetryThreshold: threshold, HandshakeTimeout: 3 * time.Second})
		tr := countTraffic(spc)
		sendSpoofed(tn, flights)
		if got := handshaking(ln); got != threshold {
			t.Fatalf("%d handshakes in progress, want RetryThreshold %d", got, threshold)
		}
		by := startBystander(t, tn, ln, 256<<10, nil)
		retried := 0
		for i := range n {
			kinds := tr.kinds(spoofedAddr(i))
			if len(kinds) == 0 {
				t.Errorf("%v: no answer", spoofedAddr(i))
				continue
			}
			if kinds[0] != wire.PacketRetry {
				continue
			}
			retried++
			out, dgrams, in := tr.to(spoofedAddr(i))
			if out*len(flights[i]) >= in*dgrams {
				t.Errorf("%v: Retry of %d bytes for Initials of %d", spoofedAddr(i), out/dgrams, in/len(flights[i]))
			}
		}
		t.Logf("%d spoofed Initials: %d answered with a Retry, %d handshakes kept", n, retried, handshaking(ln))
		if retried != n-threshold {
			t.Errorf("%d Retries, want %d", retried, n-threshold)
		}
		by.wait(t)
		if !by.conn.retried.Load() {
			t.Error("the bystander was not sent a Retry during the flood")
		}
	})
}

// TestAttackHandshakeFloodCap: at MaxHandshakes, Initials are dropped
// without an answer; the handshake timeout frees the slots, and a client
// that kept retrying meanwhile gets in.
func TestAttackHandshakeFloodCap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		const n, limit = 40, 16
		flights := spoofedInitials(t, tn, n)
		ln, spc := tn.listen(&Config{RetryThreshold: -1, MaxHandshakes: limit, HandshakeTimeout: 3 * time.Second})
		tr := countTraffic(spc)
		sendSpoofed(tn, flights)
		if got := handshaking(ln); got != limit {
			t.Fatalf("%d handshakes in progress, want MaxHandshakes %d", got, limit)
		}
		unanswered := 0
		for i := range n {
			if out, _, _ := tr.to(spoofedAddr(i)); out == 0 {
				unanswered++
			}
		}
		if unanswered != n-limit {
			t.Errorf("%d spoofed Initials unanswered, want %d", unanswered, n-limit)
		}
		start := time.Now()
		by := startBystander(t, tn, ln, 256<<10, nil)
		by.wait(t)
		t.Logf("%d spoofed Initials: %d half-open, %d dropped; the bystander got in after %v", n, limit, unanswered, time.Since(start))
		if got := handshaking(ln); got != 0 {
			t.Errorf("%d handshakes in progress after the timeout", got)
		}
	})
}

// TestAttackHalfOpenMemory measures the heap a half-open server connection
// holds (its TLS state after the ClientHello, its first flight waiting for
// acknowledgment, loss recovery and stream bookkeeping), and checks that
// the handshake timeout gives it all back. docs/security.md quotes the
// figure.
func TestAttackHalfOpenMemory(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		const n = 200
		flights := spoofedInitials(t, tn, n)
		ln, _ := tn.listen(&Config{RetryThreshold: -1, HandshakeTimeout: 10 * time.Second})
		synctest.Wait()
		before := liveHeap()
		sendSpoofed(tn, flights)
		if got := handshaking(ln); got != n {
			t.Fatalf("%d handshakes in progress, want %d", got, n)
		}
		during := liveHeap()
		per := (int64(during) - int64(before)) / n
		t.Logf("%d half-open connections: %d bytes of heap each", n, per)
		if per > 128<<10 {
			t.Errorf("a half-open connection holds %d bytes", per)
		}
		time.Sleep(11 * time.Second)
		synctest.Wait()
		if got := handshaking(ln); got != 0 {
			t.Fatalf("%d handshakes in progress after the timeout", got)
		}
		after := liveHeap()
		if left := int64(after) - int64(before); left > 32*per+(256<<10) {
			t.Errorf("%d bytes still held after every half-open connection timed out", left)
		}
		t.Logf("after the handshake timeout: %+d bytes of heap against the start", int64(after)-int64(before))
	})
}

// TestAttackUndecryptableInitials: datagrams that look like Initials (long
// header, version 1, an 8-byte Destination Connection ID, 1200 bytes) but
// whose payload is random cannot be opened with the Initial keys their
// DCID implies. Nothing about them deserves state: a server that opens an
// Initial before it creates a connection keeps none (see ANCHORS: "a whole
// connection allocated for every spoofed Initial before decryption").
func TestAttackUndecryptableInitials(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		ln, spc := tn.listen(&Config{HandshakeTimeout: 3 * time.Second})
		tr := countTraffic(spc)
		const n = 200
		for i := range n {
			h := wire.LongHeader{Type: wire.PacketInitial, Version: wire.Version1, DstConnID: make([]byte, 8), SrcConnID: make([]byte, 8)}
			rand.Read(h.DstConnID)
			d, lengthOff := wire.AppendLongHeader(nil, &h, 4)
			payload := make([]byte, 1200-len(d))
			rand.Read(payload)
			d = append(d, payload...)
			wire.PatchLength(d, lengthOff, 4, len(d)-lengthOff-2-4)
			pc := tn.n.Listen(spoofedAddr(i))
			pc.WriteToUDPAddrPort(d, serverAddr)
			pc.Close()
		}
		synctest.Wait()
		conns, hs := tn.serverConns(ln), handshaking(ln)
		retries := 0
		for i := range n {
			for _, k := range tr.kinds(spoofedAddr(i)) {
				if k == wire.PacketRetry {
					retries++
				}
			}
		}
		t.Logf("%d undecryptable Initials: %d connections created, %d handshakes counted, %d Retries sent", n, conns, hs, retries)
		time.Sleep(4 * time.Second)
		synctest.Wait()
		if got := tn.serverConns(ln); got != 0 {
			t.Fatalf("%d connections left after the handshake timeout", got)
		}
		if conns > 0 || hs > 0 || retries > 0 {
			t.Errorf("%d undecryptable Initials created %d connections, %d handshake slots and %d Retries: the endpoint must open a client's first Initial before it keeps any state for it", n, conns, hs, retries)
		}
	})
}
