package integration_test

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"runtime"
	"testing"
	"time"
)

// secondLoopback is a loopback address other than 127.0.0.1 that a socket
// can bind to (Linux routes all of 127/8 to lo), or the zero Addr where
// there is none (most other systems configure only 127.0.0.1).
func secondLoopback() netip.Addr {
	a := netip.AddrFrom4([4]byte{127, 0, 0, 2})
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(a, 0)))
	if err != nil {
		return netip.Addr{}
	}
	c.Close()
	return a
}

// TestProxyRebind: after rebind the server sees the client's datagrams from
// a new address (a new port, or a new IP address too), its answers to that
// address reach the client, and the old mapping is gone.
func TestProxyRebind(t *testing.T) {
	for _, tc := range []struct {
		name  string
		local netip.Addr
	}{
		{"port", netip.Addr{}},
		{"address", secondLoopback()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "address" && !tc.local.IsValid() {
				t.Skip("no second loopback address to bind to")
			}
			b := newProxyBench(t, proxyConfig{})
			b.send(toServer, 0, 1, 100)
			b.recv(toServer, 1)
			old := b.back
			if n, err := b.p.rebind(tc.local); n != 1 || err != nil {
				t.Fatalf("rebind: %d flows, %v", n, err)
			}
			b.send(toServer, 1, 2, 100)
			if got := indexes(b.recv(toServer, 1)); got[0] != 1 {
				t.Fatalf("got datagram %v", got)
			}
			if b.back.String() == old.String() {
				t.Fatalf("still from %v after the rebinding", old)
			}
			if tc.local.IsValid() && b.back.AddrPort().Addr() != tc.local {
				t.Fatalf("from %v, want address %v", b.back, tc.local)
			}
			b.send(toClient, 2, 3, 100)
			if got := indexes(b.recv(toClient, 1)); got[0] != 2 {
				t.Fatalf("got datagram %v", got)
			}
			// The old mapping is closed: nothing sent to it arrives.
			if _, err := b.server.WriteToUDP(datagram(3, 100), old); err != nil {
				t.Fatal(err)
			}
			b.expectNothing(toClient)
		})
	}
}

// TestProxyECN: with ECN on, a datagram's ECN codepoint crosses the proxy
// in both directions and is counted.
func TestProxyECN(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the proxy carries ECN only on Linux")
	}
	b := newProxyBench(t, proxyConfig{ECN: true})
	for _, c := range []*net.UDPConn{b.server, b.client} {
		if err := enableECN(c); err != nil {
			t.Fatal(err)
		}
	}
	front := b.p.front.LocalAddr().(*net.UDPAddr).AddrPort()
	buf, oob := make([]byte, 100), make([]byte, 128)
	for i, ecn := range []byte{2, 1, 3, 0} { // ECT(0), ECT(1), CE, Not-ECT
		if _, _, err := b.client.WriteMsgUDPAddrPort(datagram(i, 100), appendECN(nil, ecn, true), front); err != nil {
			t.Fatal(err)
		}
		b.server.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, oobn, _, from, err := b.server.ReadMsgUDPAddrPort(buf, oob)
		if err != nil {
			t.Fatal(err)
		}
		if got := parseECN(oob[:oobn]); got != ecn {
			t.Errorf("to server: sent codepoint %d, got %d", ecn, got)
		}
		if _, _, err := b.server.WriteMsgUDPAddrPort(datagram(i, 100), appendECN(nil, ecn, true), from); err != nil {
			t.Fatal(err)
		}
		b.client.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, oobn, _, _, err = b.client.ReadMsgUDPAddrPort(buf, oob); err != nil {
			t.Fatal(err)
		}
		if got := parseECN(oob[:oobn]); got != ecn {
			t.Errorf("to client: sent codepoint %d, got %d", ecn, got)
		}
	}
	for _, d := range []direction{toServer, toClient} {
		if s := b.p.stats(d); s.ECN != [4]uint64{1, 1, 1, 1} {
			t.Errorf("%v: counted %v", d, s.ECN)
		}
	}
}

// TestProxyMaxRun: with MaxRun, no more than that many datagrams in a row
// are lost, or corrupted, even at a high rate.
func TestProxyMaxRun(t *testing.T) {
	for _, tc := range []struct {
		name string
		imp  impairment
	}{
		{"loss", impairment{Loss: 0.9, MaxRun: 3}},
		{"corruption", impairment{Corrupt: 0.9, MaxRun: 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const n = 400
			b := newProxyBench(t, proxyConfig{Seed: 5, ToServer: tc.imp})
			b.send(toServer, 0, n, 100)
			s := b.p.stats(toServer)
			got := b.recv(toServer, int(s.Forwarded))
			run, prev := 0, -1
			for _, d := range got {
				i := int(binary.BigEndian.Uint32(d))
				if tc.imp.Loss > 0 {
					if gap := i - prev - 1; gap > 3 {
						t.Fatalf("%d datagrams lost in a row before %d", gap, i)
					}
					prev = i
					continue
				}
				if !bytes.Equal(d, datagram(i, 100)) {
					run++
				} else {
					run = 0
				}
				if run > 3 {
					t.Fatalf("more than 3 datagrams corrupted in a row at %d", i)
				}
			}
			if s.Lost+s.Corrupted < n/2 {
				t.Errorf("only %d lost and %d corrupted of %d", s.Lost, s.Corrupted, n)
			}
		})
	}
}
