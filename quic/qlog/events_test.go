package qlog

import (
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

// TestEvents checks the exact data of single events.
func TestEvents(t *testing.T) {
	now := testStart.Add(2 * time.Millisecond)
	tests := []struct {
		name  string
		log   func(tr *Trace)
		event string // "" when nothing is logged
		data  string
	}{
		{
			name: "connection_started v4-mapped",
			log: func(tr *Trace) {
				tr.ConnectionStarted(now, netip.MustParseAddrPort("[::ffff:10.0.0.1]:1234"), netip.AddrPort{}, []byte{0xab}, nil)
			},
			event: "connection_started",
			data:  `{"local":{"ip_v4":"10.0.0.1","port_v4":1234,"connection_ids":["ab"]},"remote":{}}`,
		},
		{
			name:  "state without old",
			log:   func(tr *Trace) { tr.ConnectionStateUpdated(now, "", StateHandshakeConfirmed) },
			event: "connection_state_updated",
			data:  `{"new":"handshake_confirmed"}`,
		},
		{
			name: "closed: reason with quotes, controls, invalid UTF-8",
			log: func(tr *Trace) {
				tr.ConnectionClosed(now, Close{Initiator: Remote, HasCode: true, Code: uint64(wire.FlowControlError),
					Reason: "say \"no\"\\\t\x01\x7f\xc3\x28é\u2028", Trigger: CloseError})
			},
			event: "connection_closed",
			data: `{"initiator":"remote","connection_error":"flow_control_error",` +
				`"reason":"say \"no\"\\\t\u0001\u007f\ufffd(é\u2028","trigger":"error"}`,
		},
		{
			name:  "closed: unknown transport code",
			log:   func(tr *Trace) { tr.ConnectionClosed(now, Close{HasCode: true, Code: 0x3f}) },
			event: "connection_closed",
			data:  `{"connection_error":"unknown","error_code":63}`,
		},
		{
			name: "closed: stateless reset",
			log: func(tr *Trace) {
				tr.ConnectionClosed(now, Close{Initiator: Remote, Trigger: CloseStatelessReset})
			},
			event: "connection_closed",
			data:  `{"initiator":"remote","trigger":"stateless_reset"}`,
		},
		{
			name:  "mtu not done",
			log:   func(tr *Trace) { tr.MTUUpdated(now, 0, 1200, false) },
			event: "mtu_updated",
			data:  `{"new":1200}`,
		},
		{
			name: "version_information: no overlap",
			log: func(tr *Trace) {
				tr.VersionInformation(now, []wire.Version{wire.Version1}, []wire.Version{0xff00001d}, 0)
			},
			event: "version_information",
			data:  `{"server_versions":["00000001"],"client_versions":["ff00001d"]}`,
		},
		{
			name:  "alpn chosen only",
			log:   func(tr *Trace) { tr.ALPNInformation(now, nil, nil, "h3") },
			event: "alpn_information",
			data:  `{"chosen_alpn":{"string_value":"h3"}}`,
		},
		{
			name: "parameters_set defaults",
			log: func(tr *Trace) {
				p := wire.DefaultTransportParameters()
				tr.ParametersSet(now, Local, &p)
			},
			event: "parameters_set",
			data: `{"initiator":"local","disable_active_migration":false,"max_idle_timeout":0,"max_udp_payload_size":65527,
				"active_connection_id_limit":2,"initial_max_data":0,"initial_max_stream_data_bidi_local":0,
				"initial_max_stream_data_bidi_remote":0,"initial_max_stream_data_uni":0,"initial_max_streams_bidi":0,
				"initial_max_streams_uni":0,"ack_delay_exponent":3,"max_ack_delay":25}`,
		},
		{
			name: "packet_lost without key phase",
			log: func(tr *Trace) {
				tr.PacketLost(now, PacketHeader{Type: wire.Packet1RTT, PacketNumber: 3, KeyPhase: 1}, LossReorderingThreshold)
			},
			event: "packet_lost",
			data:  `{"header":{"packet_type":"1RTT","packet_number":3},"trigger":"reordering_threshold"}`,
		},
		{
			name:  "packets_acked empty",
			log:   func(tr *Trace) { tr.PacketsAcked(now, SpaceInitial, nil) },
			event: "",
		},
		{
			name:  "packets_acked handshake",
			log:   func(tr *Trace) { tr.PacketsAcked(now, SpaceHandshake, []uint64{0}) },
			event: "packets_acked",
			data:  `{"packet_number_space":"handshake","packet_numbers":[0]}`,
		},
		{
			name:  "udp empty",
			log:   func(tr *Trace) { tr.UDPDatagramsSent(now, nil, ECT0) },
			event: "",
		},
		{
			name:  "udp with CE",
			log:   func(tr *Trace) { tr.UDPDatagramsReceived(now, []int{100}, CE) },
			event: "udp_datagrams_received",
			data:  `{"count":1,"raw":[{"length":100}],"ecn":["CE"]}`,
		},
		{
			name: "metrics: only given fields",
			log: func(tr *Trace) {
				tr.RecoveryMetricsUpdated(now, RecoveryMetrics{SmoothedRTT: 333 * time.Microsecond, BytesInFlight: 0, Fields: MetricSmoothedRTT | MetricBytesInFlight})
			},
			event: "recovery_metrics_updated",
			data:  `{"smoothed_rtt":0.333,"bytes_in_flight":0}`,
		},
		{
			name:  "metrics: none given",
			log:   func(tr *Trace) { tr.RecoveryMetricsUpdated(now, RecoveryMetrics{MinRTT: time.Second}) },
			event: "",
		},
		{
			name:  "congestion without old",
			log:   func(tr *Trace) { tr.CongestionStateUpdated(now, "", "slow_start", "") },
			event: "congestion_state_updated",
			data:  `{"new":"slow_start"}`,
		},
		{
			name:  "key_discarded old 1-RTT keys",
			log:   func(tr *Trace) { tr.KeyDiscarded(now, KeyServer1RTT, 2, KeyRemoteUpdate) },
			event: "key_discarded",
			data:  `{"key_type":"server_1rtt_secret","key_phase":2,"trigger":"remote_update"}`,
		},
		{
			name:  "stateless reset sent without token",
			log:   func(tr *Trace) { tr.StatelessReset(now, true, nil, 21) },
			event: "packet_sent",
			data:  `{"header":{"packet_type":"stateless_reset"},"raw":{"length":21}}`,
		},
		{
			name:  "connection_id_updated local new only",
			log:   func(tr *Trace) { tr.ConnectionIDUpdated(now, Local, nil, []byte{1}) },
			event: "connection_id_updated",
			data:  `{"initiator":"local","new":"01"}`,
		},
		{
			name:  "ecn without old",
			log:   func(tr *Trace) { tr.ECNStateUpdated(now, "", ECNTesting) },
			event: "ecn_state_updated",
			data:  `{"new":"testing"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, buf := newTestTrace()
			tt.log(tr)
			evs := events(t, output(t, tr, buf))
			if tt.event == "" {
				if len(evs) != 0 {
					t.Fatalf("logged %v, want nothing", evs)
				}
				return
			}
			if len(evs) != 1 {
				t.Fatalf("%d events, want 1", len(evs))
			}
			ev := evs[0]
			for _, e := range checkEvent(ev) {
				t.Error(e)
			}
			if ev["name"] != "quic:"+tt.event {
				t.Errorf("name = %v, want quic:%s", ev["name"], tt.event)
			}
			if got, want := ev["data"], decode(t, []byte(tt.data)); !reflect.DeepEqual(got, want) {
				t.Errorf("data:\n got %v\nwant %v", got, want)
			}
		})
	}
}

// TestRecoveryMetricsOnlyChanges checks that unchanged metrics are not
// logged again (quic events §7.2).
func TestRecoveryMetricsOnlyChanges(t *testing.T) {
	tr, buf := newTestTrace()
	m := RecoveryMetrics{SmoothedRTT: 10 * time.Millisecond, CongestionWindow: 12000, BytesInFlight: 1200,
		Fields: MetricSmoothedRTT | MetricCongestionWindow | MetricBytesInFlight}
	tr.RecoveryMetricsUpdated(testStart, m)
	tr.RecoveryMetricsUpdated(testStart, m) // nothing changed
	m.BytesInFlight = 0
	tr.RecoveryMetricsUpdated(testStart, m)
	m.Fields |= MetricPTOCount // first time given, even if 0
	tr.RecoveryMetricsUpdated(testStart, m)
	evs := events(t, output(t, tr, buf))
	want := []string{
		`{"smoothed_rtt":10.000,"congestion_window":12000,"bytes_in_flight":1200}`,
		`{"bytes_in_flight":0}`,
		`{"pto_count":0}`,
	}
	if len(evs) != len(want) {
		t.Fatalf("%d events, want %d: %v", len(evs), len(want), evs)
	}
	for i, w := range want {
		if got, want := evs[i]["data"], decode(t, []byte(w)); !reflect.DeepEqual(got, want) {
			t.Errorf("event %d:\n got %v\nwant %v", i, got, want)
		}
	}
}
