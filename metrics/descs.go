package metrics

import "github.com/prometheus/client_golang/prometheus"

// namespace prefixes every metric name.
const namespace = "tsumugi"

func newDesc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(namespace+"_"+name, help, labels, nil)
}

// The descriptors of the metrics Collect builds from a Totals. The
// histograms are prometheus.Histograms owned by the Collector.
var (
	descConnsOpen   = newDesc("connections_open", "Connections currently open.", "role")
	descConnsOpened = newDesc("connections_opened_total", "Connections created (dialed or accepted).", "role")
	descConnsClosed = newDesc("connections_closed_total", "Connections closed, by why they closed.", "role", "reason")
	descHSFailures  = newDesc("handshake_failures_total", "Connections whose handshake failed or timed out.", "role")

	descStreamsOpen   = newDesc("streams_open", "Streams currently open (opened minus closed) on live connections.", "type")
	descStreamsOpened = newDesc("streams_opened_total", "Streams opened, locally or by the peer.", "type")
	descStreamsClosed = newDesc("streams_closed_total", "Streams whose both directions reached a terminal state.", "type")
	descStreamsReset  = newDesc("streams_reset_total", "RESET_STREAM frames received (the peer abandoned sending).")

	descPacketsSent     = newDesc("packets_sent_total", "QUIC packets sent.", "packet_type")
	descPacketsReceived = newDesc("packets_received_total", "QUIC packets received and processed.", "packet_type")
	descPacketsLost     = newDesc("packets_lost_total", "Sent packets declared lost (RFC 9002 §6).")
	descPacketsDropped  = newDesc("packets_dropped_total", "Received packets dropped without processing.", "reason")

	descBytesSent     = newDesc("sent_bytes_total", "Bytes of QUIC packets sent (UDP payload).")
	descBytesReceived = newDesc("received_bytes_total", "Bytes of QUIC packets received and processed (UDP payload).")
	descBytesLost     = newDesc("lost_bytes_total", "Bytes of sent packets declared lost.")
	descBytesRetrans  = newDesc("retransmitted_bytes_total", "Stream and CRYPTO bytes queued again after a loss.")

	descDatagrams       = newDesc("datagrams_sent_total", "UDP datagrams sent.")
	descDatagramPackets = newDesc("datagram_packets_total", "QUIC packets in the UDP datagrams sent (coalesced packets count one each).")
	descDatagramBytes   = newDesc("datagram_payload_bytes_total", "Bytes of the UDP datagrams sent.")
	descDatagramRoom    = newDesc("datagram_capacity_bytes_total", "Bytes the UDP datagrams sent could have held under the path MTU and limits.")
	descSendCalls       = newDesc("send_calls_total", "Socket send calls (one may carry several datagrams).")

	descBlocked = newDesc("flow_control_blocked_total", "DATA_BLOCKED, STREAM_DATA_BLOCKED and STREAMS_BLOCKED frames: sent (we were blocked) or received (the peer was).", "direction")

	descRTTMax  = newDesc("rtt_smoothed_max_seconds", "Largest smoothed RTT among live connections with an RTT sample (0 with none).")
	descRTTMean = newDesc("rtt_smoothed_mean_seconds", "Mean smoothed RTT of live connections with an RTT sample (0 with none).")
	descCwndSum = newDesc("congestion_window_sum_bytes", "Sum of the congestion windows of live connections.")
)

var allDescs = []*prometheus.Desc{
	descConnsOpen, descConnsOpened, descConnsClosed, descHSFailures,
	descStreamsOpen, descStreamsOpened, descStreamsClosed, descStreamsReset,
	descPacketsSent, descPacketsReceived, descPacketsLost, descPacketsDropped,
	descBytesSent, descBytesReceived, descBytesLost, descBytesRetrans,
	descDatagrams, descDatagramPackets, descDatagramBytes, descDatagramRoom, descSendCalls,
	descBlocked, descRTTMax, descRTTMean, descCwndSum,
}

// emit sends the metrics of t on ch.
func emit(ch chan<- prometheus.Metric, t *Totals) {
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}

	for r := range Role(numRoles) {
		role := r.String()
		gauge(descConnsOpen, float64(t.ConnectionsOpen[r]), role)
		counter(descConnsOpened, t.ConnectionsOpened[r], role)
		for cr := range CloseReason(numCloseReasons) {
			counter(descConnsClosed, t.ConnectionsClosed[r][cr], role, cr.String())
		}
		counter(descHSFailures, t.HandshakeFailures(r), role)
	}

	for i, name := range streamTypeNames {
		gauge(descStreamsOpen, float64(t.StreamsOpen[i]), name)
		counter(descStreamsOpened, t.StreamsOpened[i], name)
		counter(descStreamsClosed, t.StreamsClosed[i], name)
	}
	counter(descStreamsReset, t.StreamsReset)

	for i, name := range packetTypeNames {
		if name == "" {
			continue
		}
		counter(descPacketsSent, t.PacketsSent[i], name)
		counter(descPacketsReceived, t.PacketsReceived[i], name)
	}
	counter(descPacketsLost, t.PacketsLost)
	for r := range DropReason(numDropReasons) {
		counter(descPacketsDropped, t.PacketsDropped[r], r.String())
	}

	counter(descBytesSent, t.BytesSent)
	counter(descBytesReceived, t.BytesReceived)
	counter(descBytesLost, t.BytesLost)
	counter(descBytesRetrans, t.BytesRetrans)

	counter(descDatagrams, t.Datagrams)
	counter(descDatagramPackets, t.DatagramPackets)
	counter(descDatagramBytes, t.DatagramBytes)
	counter(descDatagramRoom, t.DatagramRoom)
	counter(descSendCalls, t.SendCalls)

	counter(descBlocked, t.BlockedSent, "sent")
	counter(descBlocked, t.BlockedReceived, "received")

	gauge(descRTTMax, t.SmoothedRTTMax.Seconds())
	gauge(descRTTMean, t.SmoothedRTTMean.Seconds())
	gauge(descCwndSum, float64(t.CongWindowSum))
}
