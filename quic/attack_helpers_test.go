package quic

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/netip"
	"runtime"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tsumugi-quic/tsumugi/internal/memnet"
	"github.com/tsumugi-quic/tsumugi/internal/quictest"
	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

// Helpers of the attack scripts (attack_*_test.go): a well-behaved
// bystander connection that must keep full service while a hostile peer
// attacks the same server, flooding, per-address byte counting and heap
// measurement. The threat model and the bounds these scripts prove are in
// docs/security.md.

// bystanderRTT is the round trip of the bystander's path: long enough that
// its transfer spans many rounds of the attack in fake time.
const bystanderRTT = 10 * time.Millisecond

// bystander is a well-behaved client of the attacked server: our own client
// on a socket of its own, which sends size bytes on a stream and checks that
// the server echoes every one of them back.
type bystander struct {
	size int
	done chan error
	// conn is the client's connection, once dialled (read after done).
	conn *Conn
	took time.Duration // fake time from the dial to the last byte
}

// startBystander dials the server of ln from a new socket and starts the
// echo transfer. The next connection ln accepts must be the bystander's:
// call it once the attacker's own connection (if any) was accepted. conf
// is the bystander client's Config (nil: defaults).
func startBystander(t *testing.T, tn *testNet, ln *Listener, size int, conf *Config) *bystander {
	t.Helper()
	b := &bystander{size: size, done: make(chan error, 1)}
	ctx := testCtx(t)
	go func() {
		// The server's application: echo the stream back.
		c, err := ln.Accept(ctx)
		if err != nil {
			return
		}
		s, err := c.AcceptStream(ctx)
		if err != nil {
			return
		}
		io.Copy(s, s)
		s.Close()
	}()
	go func() { b.done <- b.run(ctx, tn, conf) }()
	return b
}

// attackPair starts our server, connects a scripted client to it and
// returns the client, its socket, our server's connection and the
// listener: peerPair with the peer's socket.
func attackPair(t *testing.T, tn *testNet, conf *Config, params wire.TransportParameters) (*quictest.Peer, *memnet.Conn, *Conn, *Listener) {
	t.Helper()
	ln, _ := tn.listen(conf)
	p, pc := tn.peer(params)
	ctx := testCtx(t)
	if err := p.Handshake(ctx); err != nil {
		t.Fatalf("scripted handshake: %v", err)
	}
	sc, err := ln.Accept(ctx)
	if err != nil {
		t.Fatalf("accept: %v", err)
	}
	return p, pc, sc, ln
}

// bystanderData is the bystander's payload: bytes that differ at every
// offset, so that a misplaced byte cannot go unnoticed.
func bystanderData(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8 + i>>16)
	}
	return b
}

func (b *bystander) run(ctx context.Context, tn *testNet, conf *Config) error {
	start := time.Now()
	c, err := tn.dial(ctx, conf, tn.clientTLS(testALPN), func(pc *memnet.Conn) {
		pc.SetSendFilter(memnet.Delay(bystanderRTT / 2))
		pc.SetRecvFilter(memnet.Delay(bystanderRTT / 2))
	})
	if err != nil {
		return fmt.Errorf("bystander dial: %w", err)
	}
	b.conn = c
	s, err := c.OpenStream(ctx)
	if err != nil {
		return fmt.Errorf("bystander open: %w", err)
	}
	msg := bystanderData(b.size)
	werr := make(chan error, 1)
	go func() {
		_, err := s.Write(msg)
		if err == nil {
			err = s.CloseWrite()
		}
		werr <- err
	}()
	got, err := io.ReadAll(s)
	if err != nil {
		return fmt.Errorf("bystander read after %d of %d bytes: %w", len(got), b.size, err)
	}
	if err := <-werr; err != nil {
		return fmt.Errorf("bystander write: %w", err)
	}
	if !bytes.Equal(got, msg) {
		return fmt.Errorf("bystander: %d bytes came back for %d sent, or different ones", len(got), len(msg))
	}
	b.took = time.Since(start)
	return nil
}

// wait fails the test unless the bystander's transfer completed whole.
func (b *bystander) wait(t *testing.T) {
	t.Helper()
	select {
	case err := <-b.done:
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("bystander: %d bytes echoed whole in %v (fake time)", b.size, b.took)
	case <-testCtx(t).Done():
		t.Fatal("bystander transfer did not complete")
	}
}

// floodPause is the fake time between two bursts of a flood: the bystander
// and the attacked server run in between, so the flood lasts as long as
// the bystander's transfer rather than one instant.
const floodPause = 2 * time.Millisecond

// flood sends n packets of type pt, packet i holding frames(i), in bursts
// of burst packets; after each burst the server drains its socket (so
// that the flood is processed rather than lost in a full socket queue) and
// floodPause passes.
func flood(t *testing.T, p *quictest.Peer, pt wire.PacketType, n, burst int, frames func(i int) []quictest.Frame) {
	t.Helper()
	for i := range n {
		if err := p.SendFrames(pt, frames(i)...); err != nil {
			t.Fatal(err)
		}
		if (i+1)%burst == 0 {
			synctest.Wait()
			time.Sleep(floodPause)
		}
	}
	synctest.Wait()
}

// drain reads and returns every packet the peer receives until nothing
// more arrives for quiet (fake time).
func drain(t *testing.T, p *quictest.Peer, quiet time.Duration) []*quictest.Packet {
	t.Helper()
	var out []*quictest.Packet
	for {
		pkt, err := p.ReadPacket(shortCtx(t, quiet))
		if err != nil {
			return out
		}
		out = append(out, pkt)
	}
}

// traffic counts the bytes and datagrams a server socket sends to each
// address and receives from each address, through memnet taps.
type traffic struct {
	mu                     sync.Mutex
	sentBytes, recvBytes   map[netip.AddrPort]int
	sentDgrams, recvDgrams map[netip.AddrPort]int
	// sentKinds holds the type of the first packet of each datagram
	// sent, by address: Retry and Version Negotiation stand out.
	sentKinds map[netip.AddrPort][]wire.PacketType
}

// countTraffic taps spc (a server socket) in both directions.
func countTraffic(spc *memnet.Conn) *traffic {
	tr := &traffic{
		sentBytes: map[netip.AddrPort]int{}, recvBytes: map[netip.AddrPort]int{},
		sentDgrams: map[netip.AddrPort]int{}, recvDgrams: map[netip.AddrPort]int{},
		sentKinds: map[netip.AddrPort][]wire.PacketType{},
	}
	spc.SetSendFilter(memnet.Tap(func(d *memnet.Datagram) {
		kind := wire.Packet1RTT
		if len(d.Data) > 0 && wire.IsLongHeader(d.Data[0]) {
			if h, err := wire.ParseLongHeader(d.Data); err == nil {
				kind = h.Type
			}
		}
		tr.mu.Lock()
		tr.sentBytes[d.To] += len(d.Data)
		tr.sentDgrams[d.To]++
		tr.sentKinds[d.To] = append(tr.sentKinds[d.To], kind)
		tr.mu.Unlock()
	}))
	spc.SetRecvFilter(memnet.Tap(func(d *memnet.Datagram) {
		tr.mu.Lock()
		tr.recvBytes[d.From] += len(d.Data)
		tr.recvDgrams[d.From]++
		tr.mu.Unlock()
	}))
	return tr
}

// to returns the bytes and datagrams sent to addr, and received from it.
func (tr *traffic) to(addr netip.AddrPort) (sent, sentDgrams, received int) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.sentBytes[addr], tr.sentDgrams[addr], tr.recvBytes[addr]
}

// kinds returns the packet types of the datagrams sent to addr (the first
// packet of each).
func (tr *traffic) kinds(addr netip.AddrPort) []wire.PacketType {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return append([]wire.PacketType(nil), tr.sentKinds[addr]...)
}

// liveHeap returns the bytes of live heap objects, after two collections
// (the second empties sync.Pool victim caches, so that pooled buffers
// nobody holds are not counted).
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// handshaking returns the endpoint's count of handshakes in progress.
func handshaking(ln *Listener) int {
	ln.ep.mu.Lock()
	defer ln.ep.mu.Unlock()
	return ln.ep.handshaking
}
