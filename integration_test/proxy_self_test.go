package integration_test

import (
	"bytes"
	"encoding/binary"
	"net"
	"slices"
	"testing"
	"time"
)

// Tests of the proxy itself, with plain UDP sockets on both sides. Each
// datagram carries its index in its first 4 bytes.

// proxyBench is a server socket, a proxy in front of it and a client socket.
type proxyBench struct {
	t      *testing.T
	p      *proxy
	server *net.UDPConn
	client *net.UDPConn
	back   *net.UDPAddr // the proxy's server-facing address for the client
	sent   [2]uint64    // datagrams sent per direction
}

func newProxyBench(t *testing.T, cfg proxyConfig) *proxyBench {
	t.Helper()
	server := listenUDP(t)
	b := &proxyBench{t: t, server: server, client: listenUDP(t)}
	b.p = newProxy(t, server.LocalAddr().String(), cfg)
	return b
}

func listenUDP(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadBuffer(4 << 20)
	t.Cleanup(func() { c.Close() })
	return c
}

// datagram returns datagram i of size n: the index, then bytes derived from it.
func datagram(i, n int) []byte {
	b := make([]byte, n)
	binary.BigEndian.PutUint32(b, uint32(i))
	for j := 4; j < n; j++ {
		b[j] = byte(i*31 + j*7)
	}
	return b
}

// send sends datagrams [from, to) in direction dir and waits until the proxy
// has taken them all in.
func (b *proxyBench) send(dir direction, from, to, size int) {
	b.t.Helper()
	if dir == toClient && b.back == nil {
		b.t.Fatal("no flow yet: send to the server first")
	}
	for i := from; i < to; i++ {
		var err error
		if dir == toServer {
			_, err = b.client.WriteToUDP(datagram(i, size), b.p.front.LocalAddr().(*net.UDPAddr))
		} else {
			_, err = b.server.WriteToUDP(datagram(i, size), b.back)
		}
		if err != nil {
			b.t.Fatal(err)
		}
		b.sent[dir]++
		if i%64 == 63 {
			b.settle(dir) // stay far below the sockets' buffers
		}
	}
	b.settle(dir)
}

// settle waits until the proxy has received every datagram sent in dir.
func (b *proxyBench) settle(dir direction) {
	b.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for b.p.stats(dir).Received < b.sent[dir] {
		if time.Now().After(deadline) {
			b.t.Fatalf("%v: the proxy received %d of %d datagrams", dir, b.p.stats(dir).Received, b.sent[dir])
		}
		time.Sleep(time.Millisecond)
	}
}

// recv reads n datagrams that went in direction dir.
func (b *proxyBench) recv(dir direction, n int) [][]byte {
	b.t.Helper()
	c := b.server
	if dir == toClient {
		c = b.client
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second)) // a hang guard, not a timing check
	var out [][]byte
	buf := make([]byte, maxDatagram)
	for range n {
		m, from, err := c.ReadFromUDP(buf)
		if err != nil {
			b.t.Fatalf("%v: after %d of %d datagrams: %v", dir, len(out), n, err)
		}
		if dir == toServer {
			b.back = from
		}
		out = append(out, slices.Clone(buf[:m]))
	}
	return out
}

// expectNothing checks that no datagram is waiting in direction dir.
func (b *proxyBench) expectNothing(dir direction) {
	b.t.Helper()
	c := b.server
	if dir == toClient {
		c = b.client
	}
	c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	buf := make([]byte, maxDatagram)
	if n, _, err := c.ReadFromUDP(buf); err == nil {
		b.t.Fatalf("%v: unexpected datagram of %d bytes", dir, n)
	}
}

func indexes(ds [][]byte) []int {
	var out []int
	for _, d := range ds {
		out = append(out, int(binary.BigEndian.Uint32(d)))
	}
	return out
}

// checkAccounting: every datagram received by a link was dropped, forwarded
// or (duplicated) forwarded twice.
func checkAccounting(t *testing.T, s linkStats) {
	t.Helper()
	if s.Received+s.Duplicated != s.dropped()+s.Forwarded+s.Discarded+s.SendErrors {
		t.Errorf("accounting: %+v", s)
	}
}

func TestProxyForwardsBothWays(t *testing.T) {
	b := newProxyBench(t, proxyConfig{})
	b.send(toServer, 0, 100, 1200)
	got := b.recv(toServer, 100)
	if want := seq(0, 100); !slices.Equal(indexes(got), want) {
		t.Fatalf("to server: got %v", indexes(got))
	}
	for i, d := range got {
		if !bytes.Equal(d, datagram(i, 1200)) {
			t.Fatalf("datagram %d changed", i)
		}
	}
	b.send(toClient, 0, 100, 1200)
	if got := indexes(b.recv(toClient, 100)); !slices.Equal(got, seq(0, 100)) {
		t.Fatalf("to client: got %v", got)
	}
	for _, d := range []direction{toServer, toClient} {
		s := b.p.stats(d)
		if s.Received != 100 || s.Forwarded != 100 || s.dropped() != 0 {
			t.Errorf("%v: %+v", d, s)
		}
		checkAccounting(t, s)
	}
}

// TestProxyFlows: each client address gets its own server-facing socket,
// and answers go back to the right client.
func TestProxyFlows(t *testing.T) {
	b := newProxyBench(t, proxyConfig{})
	other := listenUDP(t)
	front := b.p.front.LocalAddr().(*net.UDPAddr)
	buf := make([]byte, 100)
	b.server.SetReadDeadline(time.Now().Add(10 * time.Second))
	var backs []*net.UDPAddr
	for i, c := range []*net.UDPConn{b.client, other} {
		if _, err := c.WriteToUDP([]byte{byte(i)}, front); err != nil {
			t.Fatal(err)
		}
		_, from, err := b.server.ReadFromUDP(buf)
		if err != nil {
			t.Fatal(err)
		}
		backs = append(backs, from)
	}
	if backs[0].String() == backs[1].String() {
		t.Fatalf("two clients share the server-facing address %v", backs[0])
	}
	for i, c := range []*net.UDPConn{b.client, other} {
		if _, err := b.server.WriteToUDP([]byte{10 + byte(i)}, backs[i]); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, _, err := c.ReadFromUDP(buf)
		if err != nil || n != 1 || buf[0] != 10+byte(i) {
			t.Fatalf("client %d: got %v %v", i, buf[:n], err)
		}
	}
}

func seq(from, to int) []int {
	var out []int
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

// lossPattern sends n datagrams through a proxy with cfg and returns the
// indexes that arrived.
func lossPattern(t *testing.T, cfg proxyConfig, n int) ([]int, linkStats) {
	t.Helper()
	b := newProxyBench(t, cfg)
	b.send(toServer, 0, n, 100)
	s := b.p.stats(toServer)
	got := indexes(b.recv(toServer, int(s.Forwarded)))
	b.expectNothing(toServer)
	checkAccounting(t, s)
	return got, s
}

func TestProxyRandomLoss(t *testing.T) {
	const n = 2000
	cfg := proxyConfig{Seed: 1, ToServer: impairment{Loss: 0.1}}
	got, s := lossPattern(t, cfg, n)
	// Binomial(2000, 0.1): mean 200, standard deviation 13.4.
	if s.Lost < 130 || s.Lost > 270 {
		t.Errorf("lost %d of %d at rate 0.1", s.Lost, n)
	}
	if !slices.IsSorted(got) {
		t.Error("loss reordered datagrams")
	}
	again, _ := lossPattern(t, cfg, n)
	if !slices.Equal(got, again) {
		t.Error("the same seed lost different datagrams")
	}
	cfg.Seed = 2
	other, _ := lossPattern(t, cfg, n)
	if slices.Equal(got, other) {
		t.Error("another seed lost the same datagrams")
	}
}

func TestProxyBurstLoss(t *testing.T) {
	const n = 4000
	// Bad 1/6 of the time, mean burst 4 datagrams.
	got, s := lossPattern(t, proxyConfig{Seed: 3, ToServer: impairment{Burst: gilbertElliott{P: 0.05, R: 0.25}}}, n)
	if s.BurstLost < n/12 || s.BurstLost > n/3 {
		t.Errorf("burst-lost %d of %d, want about %d", s.BurstLost, n, n/6)
	}
	// Mean length of the runs of lost datagrams.
	runs, lost, prev := 0, 0, -1
	for _, i := range append(got, n) {
		if gap := i - prev - 1; gap > 0 {
			runs++
			lost += gap
		}
		prev = i
	}
	if mean := float64(lost) / float64(runs); mean < 2.5 {
		t.Errorf("mean burst %.2f datagrams, want about 4", mean)
	}

	// The same with bad periods capped at 3 datagrams.
	got, _ = lossPattern(t, proxyConfig{Seed: 3, ToServer: impairment{Burst: gilbertElliott{P: 0.05, R: 0.25, MaxBurst: 3}}}, n)
	longest, prev := 0, -1
	for _, i := range append(got, n) {
		longest = max(longest, i-prev-1)
		prev = i
	}
	if longest != 3 {
		t.Errorf("longest burst %d datagrams, want 3", longest)
	}
}

func TestProxyCorruption(t *testing.T) {
	b := newProxyBench(t, proxyConfig{Seed: 4, ToClient: impairment{Corrupt: 1, CorruptBits: 3}})
	b.send(toServer, 0, 1, 1200)
	b.recv(toServer, 1)
	b.send(toClient, 0, 200, 1200)
	got := b.recv(toClient, 200)
	for _, d := range got {
		// The index may itself be corrupted: find the original by the
		// smallest difference.
		best := -1
		for i := range 200 {
			if bitDiff(d, datagram(i, 1200)) <= 3 {
				best = bitDiff(d, datagram(i, 1200))
				break
			}
		}
		if best < 1 {
			t.Fatalf("a datagram is not a corrupted copy (diff %d)", best)
		}
	}
	if s := b.p.stats(toClient); s.Corrupted != 200 {
		t.Errorf("corrupted %d of 200", s.Corrupted)
	}
	if s := b.p.stats(toServer); s.Corrupted != 0 {
		t.Errorf("the other direction corrupted %d", s.Corrupted)
	}
}

func bitDiff(a, b []byte) int {
	if len(a) != len(b) {
		return 1 << 30
	}
	n := 0
	for i := range a {
		for x := a[i] ^ b[i]; x != 0; x &= x - 1 {
			n++
		}
	}
	return n
}

func TestProxyDuplication(t *testing.T) {
	b := newProxyBench(t, proxyConfig{Seed: 5, ToServer: impairment{Duplicate: 0.2}})
	b.send(toServer, 0, 500, 200)
	s := b.p.stats(toServer)
	got := indexes(b.recv(toServer, int(s.Forwarded)))
	b.expectNothing(toServer)
	if s.Duplicated < 50 || s.Duplicated > 150 || s.Forwarded != 500+s.Duplicated {
		t.Errorf("%+v", s)
	}
	counts := map[int]int{}
	for _, i := range got {
		counts[i]++
	}
	dups := 0
	for i := range 500 {
		switch counts[i] {
		case 1:
		case 2:
			dups++
		default:
			t.Fatalf("datagram %d arrived %d times", i, counts[i])
		}
	}
	if uint64(dups) != s.Duplicated {
		t.Errorf("%d arrived twice, %d duplicated", dups, s.Duplicated)
	}
	checkAccounting(t, s)
}

func TestProxyReorder(t *testing.T) {
	for _, tc := range []struct {
		name  string
		imp   impairment
		extra int // datagrams sent after the 500 to push held ones out
	}{
		{"by packets", impairment{Reorder: 0.1, ReorderPackets: 3, ReorderDelay: time.Hour}, 20},
		{"by delay", impairment{Reorder: 0.1, ReorderDelay: 50 * time.Millisecond}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newProxyBench(t, proxyConfig{Seed: 6, ToServer: tc.imp})
			b.send(toServer, 0, 500+tc.extra, 200)
			// Read until all of the first 500 are in.
			var got []int
			for seen := 0; seen < 500; {
				i := indexes(b.recv(toServer, 1))[0]
				if i < 500 {
					got = append(got, i)
					seen++
				}
			}
			s := b.p.stats(toServer)
			if s.Reordered < 20 || s.dropped() != 0 || s.Duplicated != 0 {
				t.Errorf("%+v", s)
			}
			// Only a held datagram can arrive after a later one.
			displaced := 0
			for pos, i := range got {
				for _, j := range got[:pos] {
					if j > i {
						displaced++
						break
					}
				}
			}
			if displaced == 0 || uint64(displaced) > s.Reordered {
				t.Errorf("%d datagrams arrived after later ones; %d were held", displaced, s.Reordered)
			}
			slices.Sort(got)
			if !slices.Equal(got, seq(0, 500)) {
				t.Error("datagrams were lost or duplicated")
			}
		})
	}
}

func TestProxyDelay(t *testing.T) {
	for _, tc := range []struct {
		name      string
		imp       impairment
		wantOrder bool
	}{
		{"fixed", impairment{Delay: 20 * time.Millisecond}, true},
		{"jitter FIFO", impairment{Delay: 5 * time.Millisecond, Jitter: 20 * time.Millisecond}, true},
		{"jitter reorders", impairment{Delay: 5 * time.Millisecond, Jitter: 20 * time.Millisecond, JitterReorders: true}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newProxyBench(t, proxyConfig{Seed: 7, ToServer: tc.imp})
			start := time.Now()
			b.send(toServer, 0, 200, 200)
			got := b.recv(toServer, 200)
			// A lower bound only: no datagram may arrive before the
			// one-way delay (timers never fire early).
			if el := time.Since(start); el < tc.imp.Delay {
				t.Errorf("200 datagrams crossed in %v, less than the delay %v", el, tc.imp.Delay)
			}
			if sorted := slices.IsSorted(indexes(got)); sorted != tc.wantOrder {
				t.Errorf("in order: %v, want %v", sorted, tc.wantOrder)
			}
			if s := b.p.stats(toServer); s.Delayed != 200 || s.Forwarded != 200 {
				t.Errorf("%+v", s)
			}
		})
	}
}

func TestBlackholeCycle(t *testing.T) {
	c := blackholeCycle{On: 5 * time.Second, Off: 2 * time.Second, Repeat: 2}
	for _, tc := range []struct {
		at   time.Duration
		want bool
	}{
		{0, false},
		{4999 * time.Millisecond, false},
		{5 * time.Second, true},
		{6999 * time.Millisecond, true},
		{7 * time.Second, false},
		{12 * time.Second, true},
		{13999 * time.Millisecond, true},
		{14 * time.Second, false},
		{time.Hour, false},
		{-time.Second, false},
	} {
		if got := c.dropping(tc.at); got != tc.want {
			t.Errorf("at %v: dropping %v, want %v", tc.at, got, tc.want)
		}
	}
	if (blackholeCycle{On: time.Second}).dropping(2 * time.Second) {
		t.Error("a cycle without Off drops")
	}
	if !(blackholeCycle{Off: time.Second}).dropping(0) {
		t.Error("a cycle with Off and no On does not drop at once")
	}
}

func TestProxyBlackhole(t *testing.T) {
	b := newProxyBench(t, proxyConfig{})
	b.send(toServer, 0, 1, 100)
	b.recv(toServer, 1)
	b.p.blackhole(time.Hour, toClient)
	b.send(toClient, 0, 20, 100)
	b.send(toServer, 1, 21, 100)
	b.recv(toServer, 20)
	b.expectNothing(toClient)
	if s := b.p.stats(toClient); s.Blackholed != 20 || s.Forwarded != 0 {
		t.Errorf("%+v", s)
	}
}

// TestProxyCycleFromFirstDatagram: a cycle that is off from the start drops
// everything.
func TestProxyCycleFromFirstDatagram(t *testing.T) {
	b := newProxyBench(t, proxyConfig{ToServer: impairment{Blackhole: blackholeCycle{Off: time.Hour}}})
	b.send(toServer, 0, 10, 100)
	b.expectNothing(toServer)
	if s := b.p.stats(toServer); s.Blackholed != 10 {
		t.Errorf("%+v", s)
	}
}

func TestProxyHook(t *testing.T) {
	hs := longPacket(versionV1, 2, 40)     // Handshake
	init := longPacket(versionV1, 0, 1200) // Initial
	short := []byte{0x40, 1, 2, 3, 4, 5}
	var delayed []uint64
	drop := dropFirst(toServer, kindHandshake, 2)
	b := newProxyBench(t, proxyConfig{Hook: func(d *datagramInfo) verdict {
		if d.Kinds.has(kindOneRTT) {
			delayed = append(delayed, d.Seq)
			return verdict{Delay: time.Millisecond}
		}
		return drop(d)
	}})
	front := b.p.front.LocalAddr().(*net.UDPAddr)
	for _, d := range [][]byte{init, cat(longPacket(versionV1, 0, 1160), hs), hs, hs, short} {
		if _, err := b.client.WriteToUDP(d, front); err != nil {
			t.Fatal(err)
		}
	}
	b.sent[toServer] = 5
	b.settle(toServer)
	got := b.recv(toServer, 3)
	b.expectNothing(toServer)
	if !bytes.Equal(got[0], init) || !bytes.Equal(got[1], hs) || !bytes.Equal(got[2], short) {
		t.Errorf("forwarded the wrong datagrams")
	}
	if !slices.Equal(delayed, []uint64{4}) {
		t.Errorf("hook saw 1-RTT at %v", delayed)
	}
	s := b.p.stats(toServer)
	if s.HookDropped != 2 || s.Delayed != 1 {
		t.Errorf("%+v", s)
	}
	if s.Packets[kindInitial] != 2 || s.Packets[kindHandshake] != 3 || s.Packets[kindOneRTT] != 1 {
		t.Errorf("packets seen: %v", s.Packets)
	}
}

// TestProxyCloseDiscards: close returns with datagrams still queued, and
// leaves no goroutine behind (TestMain checks).
func TestProxyCloseDiscards(t *testing.T) {
	b := newProxyBench(t, proxyConfig{ToServer: impairment{Delay: time.Hour}})
	b.send(toServer, 0, 10, 100)
	b.p.close()
	b.p.close()
	if s := b.p.stats(toServer); s.Discarded != 10 || s.Forwarded != 0 {
		t.Errorf("%+v", s)
	}
	checkAccounting(t, b.p.stats(toServer))
}
