package metrics

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

// BenchmarkHotPath is what the connection goroutine pays per sent and
// received packet: a packet sent, a datagram and send call, a packet
// received, and the recovery state after an ACK.
func BenchmarkHotPath(b *testing.B) {
	c := New()
	m := c.NewConn(Server, time.Now())
	defer m.Closed(CloseApplication)
	b.ReportAllocs()
	for b.Loop() {
		m.PacketSent(wire.Packet1RTT, 1252)
		m.DatagramSent(1, 1252, 1252)
		m.SendCall()
		m.PacketReceived(wire.Packet1RTT, 60)
		m.RecoveryState(time.Millisecond, time.Millisecond, 1<<20)
	}
}

// BenchmarkPacketSent is the single most frequent call.
func BenchmarkPacketSent(b *testing.B) {
	m := New().NewConn(Client, time.Now())
	b.ReportAllocs()
	for b.Loop() {
		m.PacketSent(wire.Packet1RTT, 1252)
	}
}

// BenchmarkNewConnClosed is the per-connection cost of tracking.
func BenchmarkNewConnClosed(b *testing.B) {
	c := New()
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		m := c.NewConn(Client, now)
		m.Closed(CloseApplication)
	}
}

// BenchmarkGather1000Conns is one scrape with 1,000 live connections.
func BenchmarkGather1000Conns(b *testing.B) {
	c := New()
	for i := range 1000 {
		m := c.NewConn(Role(i%2), time.Now())
		m.PacketSent(wire.Packet1RTT, 1000)
		m.RecoveryState(time.Millisecond, time.Millisecond, 1<<16)
	}
	reg := prometheus.NewRegistry()
	if err := c.Register(reg); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := reg.Gather(); err != nil {
			b.Fatal(err)
		}
	}
}
