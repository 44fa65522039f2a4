package metrics

import (
	"math"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

var t0 = time.Unix(1700000000, 0)

// simulate drives two connections, a client that closes and a server that
// stays open, through every hot-path method.
func simulate(c *Collector) (client, server *Conn) {
	client = c.NewConn(Client, t0)
	server = c.NewConn(Server, t0)

	client.PacketSent(wire.PacketInitial, 1200)
	client.PacketSent(wire.PacketHandshake, 100)
	client.PacketSent(wire.Packet1RTT, 1000)
	client.PacketReceived(wire.PacketInitial, 1200)
	client.PacketReceived(wire.Packet1RTT, 500)
	client.PacketLost(1000)
	client.Retransmitted(900)
	client.PacketDropped(DropDecrypt)
	client.DatagramSent(2, 1300, 1400)
	client.DatagramSent(1, 1000, 1400)
	client.SendCall()
	client.StreamOpened(0) // client bidi
	client.StreamOpened(2) // client uni
	client.StreamClosed(0)
	client.StreamReset()
	client.Blocked(false)
	client.RecoveryState(20*time.Millisecond, 10*time.Millisecond, 50000)
	client.HandshakeDone(30 * time.Millisecond)

	server.PacketSent(wire.Packet1RTT, 700)
	server.PacketReceived(wire.Packet1RTT, 1000)
	server.PacketDropped(DropUnknown)
	server.StreamOpened(0)
	server.StreamOpened(1) // server bidi
	server.StreamOpened(1)
	server.StreamClosed(1)
	server.Blocked(true)
	server.Blocked(true)
	server.RecoveryState(40*time.Millisecond, 5*time.Millisecond, 30000)
	server.HandshakeDone(10 * time.Millisecond)

	client.Closed(CloseApplication)
	return client, server
}

func TestCollectorValues(t *testing.T) {
	c := New()
	simulate(c)
	got := gather(t, c)
	want := map[string]float64{
		"tsumugi_connections_open{role=client}":                                  0,
		"tsumugi_connections_open{role=server}":                                  1,
		"tsumugi_connections_opened_total{role=client}":                          1,
		"tsumugi_connections_opened_total{role=server}":                          1,
		"tsumugi_connections_closed_total{reason=application,role=client}":       1,
		"tsumugi_connections_closed_total{reason=application,role=server}":       0,
		"tsumugi_connections_closed_total{reason=handshake_failure,role=client}": 0,
		"tsumugi_handshake_failures_total{role=client}":                          0,
		"tsumugi_handshake_duration_seconds_count{role=client}":                  1,
		"tsumugi_handshake_duration_seconds_sum{role=client}":                    0.03,
		"tsumugi_handshake_duration_seconds_count{role=server}":                  1,
		"tsumugi_packets_sent_total{packet_type=initial}":                        1,
		"tsumugi_packets_sent_total{packet_type=handshake}":                      1,
		"tsumugi_packets_sent_total{packet_type=1rtt}":                           2,
		"tsumugi_packets_sent_total{packet_type=0rtt}":                           0,
		"tsumugi_packets_received_total{packet_type=initial}":                    1,
		"tsumugi_packets_received_total{packet_type=1rtt}":                       2,
		"tsumugi_packets_lost_total":                                             1,
		"tsumugi_packets_dropped_total{reason=decrypt}":                          1,
		"tsumugi_packets_dropped_total{reason=unknown_connection}":               1,
		"tsumugi_packets_dropped_total{reason=header}":                           0,
		"tsumugi_sent_bytes_total":                                               3000,
		"tsumugi_received_bytes_total":                                           2700,
		"tsumugi_lost_bytes_total":                                               1000,
		"tsumugi_retransmitted_bytes_total":                                      900,
		"tsumugi_datagrams_sent_total":                                           2,
		"tsumugi_datagram_packets_total":                                         3,
		"tsumugi_datagram_payload_bytes_total":                                   2300,
		"tsumugi_datagram_capacity_bytes_total":                                  2800,
		"tsumugi_send_calls_total":                                               1,
		"tsumugi_streams_opened_total{type=client_bidi}":                         2,
		"tsumugi_streams_opened_total{type=server_bidi}":                         2,
		"tsumugi_streams_opened_total{type=client_uni}":                          1,
		"tsumugi_streams_closed_total{type=client_bidi}":                         1,
		"tsumugi_streams_closed_total{type=server_bidi}":                         1,
		"tsumugi_streams_open{type=client_bidi}":                                 1, // the server's; the client's are gone with it
		"tsumugi_streams_open{type=server_bidi}":                                 1,
		"tsumugi_streams_open{type=client_uni}":                                  0,
		"tsumugi_streams_reset_total":                                            1,
		"tsumugi_flow_control_blocked_total{direction=sent}":                     1,
		"tsumugi_flow_control_blocked_total{direction=received}":                 2,
		"tsumugi_rtt_smoothed_seconds_count":                                     1,
		"tsumugi_rtt_smoothed_seconds_sum":                                       0.02,
		"tsumugi_rtt_min_seconds_sum":                                            0.01,
		"tsumugi_congestion_window_bytes_sum":                                    50000,
		"tsumugi_rtt_smoothed_max_seconds":                                       0.04,
		"tsumugi_rtt_smoothed_mean_seconds":                                      0.04,
		"tsumugi_congestion_window_sum_bytes":                                    30000,
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("%s: missing", k)
			continue
		}
		if math.Abs(g-w) > 1e-9 {
			t.Errorf("%s = %v, want %v", k, g, w)
		}
	}
}

func TestCloseReasons(t *testing.T) {
	tests := []struct {
		role   Role
		reason CloseReason
		label  string
	}{
		{Client, CloseApplication, "application"},
		{Client, CloseApplicationErr, "application_error"},
		{Server, CloseTransportErr, "transport_error"},
		{Server, CloseIdle, "idle_timeout"},
		{Client, CloseHandshake, "handshake_failure"},
		{Server, CloseReset, "stateless_reset"},
		{Server, CloseEndpoint, "endpoint_closed"},
		{Client, CloseReason(200), "transport_error"}, // out of range: counted, never panics
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			c := New()
			m := c.NewConn(tt.role, t0)
			m.Closed(tt.reason)
			m.Closed(tt.reason) // a second Closed is ignored
			got := gather(t, c)
			key := "tsumugi_connections_closed_total{reason=" + tt.label + ",role=" + tt.role.String() + "}"
			if got[key] != 1 {
				t.Errorf("%s = %v, want 1", key, got[key])
			}
			if got["tsumugi_connections_open{role="+tt.role.String()+"}"] != 0 {
				t.Error("connection still counted open")
			}
			wantFail := 0.0
			if tt.reason == CloseHandshake {
				wantFail = 1
			}
			if f := got["tsumugi_handshake_failures_total{role="+tt.role.String()+"}"]; f != wantFail {
				t.Errorf("handshake failures = %v, want %v", f, wantFail)
			}
			// No RTT sample: nothing observed.
			if n := got["tsumugi_rtt_smoothed_seconds_count"]; n != 0 {
				t.Errorf("rtt observed %v times without a sample", n)
			}
		})
	}
}

func TestNilCollector(t *testing.T) {
	var c *Collector
	m := c.NewConn(Server, t0)
	m.PacketSent(wire.Packet1RTT, 10)
	m.HandshakeDone(time.Millisecond)
	m.Closed(CloseIdle)
	if m.BytesSent.Load() != 10 {
		t.Fatal("counter not updated")
	}
}

func TestPromlint(t *testing.T) {
	c := New()
	simulate(c)
	problems, err := testutil.CollectAndLint(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
}

func TestDescribeMatchesCollect(t *testing.T) {
	// A pedantic registry checks every collected metric against Describe.
	reg := prometheus.NewPedanticRegistry()
	c := New()
	if err := c.Register(reg); err != nil {
		t.Fatal(err)
	}
	simulate(c)
	if _, err := reg.Gather(); err != nil {
		t.Fatal(err)
	}
	if err := c.Register(reg); err == nil {
		t.Fatal("registering twice succeeded")
	}
}

// TestConcurrent updates, closes and scrapes at once (for -race), then
// checks that nothing was lost or counted twice.
func TestConcurrent(t *testing.T) {
	const conns, packets = 16, 500
	c := New()
	reg := prometheus.NewRegistry()
	if err := c.Register(reg); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var scraper sync.WaitGroup
	scraper.Go(func() {
		var last float64
		for {
			select {
			case <-stop:
				return
			default:
			}
			mfs, err := reg.Gather()
			if err != nil {
				t.Error(err)
				return
			}
			v := flatten(mfs)["tsumugi_packets_sent_total{packet_type=1rtt}"]
			if v < last {
				t.Errorf("counter went down: %v after %v", v, last)
				return
			}
			last = v
		}
	})
	var wg sync.WaitGroup
	for i := range conns {
		wg.Go(func() {
			m := c.NewConn(Role(i%2), t0)
			for range packets {
				m.PacketSent(wire.Packet1RTT, 100)
				m.StreamOpened(0)
				m.StreamClosed(0)
			}
			if i%4 != 0 {
				m.Closed(CloseApplication)
			}
		})
	}
	wg.Wait()
	close(stop)
	scraper.Wait()
	got := gather(t, c)
	if v := got["tsumugi_packets_sent_total{packet_type=1rtt}"]; v != conns*packets {
		t.Errorf("packets sent = %v, want %d", v, conns*packets)
	}
	if v := got["tsumugi_sent_bytes_total"]; v != conns*packets*100 {
		t.Errorf("bytes sent = %v, want %d", v, conns*packets*100)
	}
	open := got["tsumugi_connections_open{role=client}"] + got["tsumugi_connections_open{role=server}"]
	if open != conns/4 {
		t.Errorf("open connections = %v, want %d", open, conns/4)
	}
	if v := got["tsumugi_streams_open{type=client_bidi}"]; v != 0 {
		t.Errorf("open streams = %v, want 0", v)
	}
}

func TestSnapshot(t *testing.T) {
	c := New()
	simulate(c)
	s := c.Snapshot()
	if s.AllPacketsSent() != 4 || s.AllPacketsReceived() != 3 {
		t.Errorf("packets sent/received = %d/%d, want 4/3", s.AllPacketsSent(), s.AllPacketsReceived())
	}
	if s.Handshakes[Client] != 1 || s.Handshakes[Server] != 1 {
		t.Errorf("handshakes = %v", s.Handshakes)
	}
	if s.ConnectionsOpen[Server] != 1 || s.ConnectionsOpen[Client] != 0 {
		t.Errorf("open = %v", s.ConnectionsOpen)
	}
}
