package metrics

import "time"

// Totals is a snapshot of everything a Collector counts: the totals folded
// in from closed connections plus the current counters of the live ones.
// Arrays are indexed by Role, CloseReason, wire.PacketType, DropReason and
// stream type (the two low bits of a stream ID).
type Totals struct {
	ConnectionsOpened [numRoles]uint64 // connections created, by role
	ConnectionsOpen   [numRoles]uint64 // live connections, by role
	// ConnectionsClosed counts closed connections by role and reason.
	ConnectionsClosed [numRoles][numCloseReasons]uint64
	Handshakes        [numRoles]uint64 // handshakes completed, by role

	PacketsSent     [numPacketTypes]uint64
	PacketsReceived [numPacketTypes]uint64
	PacketsLost     uint64
	PacketsDropped  [numDropReasons]uint64
	BytesSent       uint64
	BytesReceived   uint64
	BytesLost       uint64
	BytesRetrans    uint64

	Datagrams       uint64 // datagrams sent
	DatagramPackets uint64 // packets coalesced into them
	DatagramBytes   uint64 // their bytes
	DatagramRoom    uint64 // bytes they could have held
	SendCalls       uint64 // socket send calls

	StreamsOpened [NumStreamTypes]uint64
	StreamsClosed [NumStreamTypes]uint64
	// StreamsOpen is, over live connections only, streams opened minus
	// streams closed: the streams of a closed connection are gone with it.
	StreamsOpen  [NumStreamTypes]uint64
	StreamsReset uint64

	BlockedSent     uint64
	BlockedReceived uint64

	// Over live connections that have an RTT sample: the largest and the
	// mean smoothed RTT, and the sum of their congestion windows.
	SmoothedRTTMax  time.Duration
	SmoothedRTTMean time.Duration
	CongWindowSum   uint64
}

// HandshakeFailures returns the connections closed because their handshake
// failed or timed out, by role.
func (t *Totals) HandshakeFailures(r Role) uint64 {
	return t.ConnectionsClosed[r&1][CloseHandshake]
}

// AllPacketsSent returns the packets sent, all types together.
func (t *Totals) AllPacketsSent() uint64 { return sum(t.PacketsSent[:]) }

// AllPacketsReceived returns the packets received, all types together.
func (t *Totals) AllPacketsReceived() uint64 { return sum(t.PacketsReceived[:]) }

func sum(a []uint64) uint64 {
	var n uint64
	for _, v := range a {
		n += v
	}
	return n
}

// addCounters adds m's monotonic counters to t. It reads each atomic once;
// the values of one connection are not a consistent snapshot of one
// instant, which Prometheus counters do not need.
func (t *Totals) addCounters(m *Conn) {
	for i := range m.PacketsSent {
		t.PacketsSent[i] += m.PacketsSent[i].Load()
		t.PacketsReceived[i] += m.PacketsReceived[i].Load()
	}
	t.PacketsLost += m.PacketsLost.Load()
	for i := range m.PacketsDropped {
		t.PacketsDropped[i] += m.PacketsDropped[i].Load()
	}
	t.BytesSent += m.BytesSent.Load()
	t.BytesReceived += m.BytesReceived.Load()
	t.BytesLost += m.BytesLost.Load()
	t.BytesRetrans += m.BytesRetrans.Load()

	t.Datagrams += m.Datagrams.Load()
	t.DatagramPackets += m.DatagramPackets.Load()
	t.DatagramBytes += m.DatagramBytes.Load()
	t.DatagramRoom += m.DatagramRoom.Load()
	t.SendCalls += m.SendCalls.Load()

	for i := range m.StreamsOpened {
		t.StreamsOpened[i] += m.StreamsOpened[i].Load()
		t.StreamsClosed[i] += m.StreamsClosed[i].Load()
	}
	t.StreamsReset += m.StreamsReset.Load()

	t.BlockedSent += m.BlockedSent.Load()
	t.BlockedReceived += m.BlockedReceived.Load()
}

// addLive adds what only live connections contribute: open streams, and
// the RTT and congestion window gauges. rttConns counts the connections
// with an RTT sample, for the mean.
func (t *Totals) addLive(m *Conn, rttSum *time.Duration, rttConns *int) {
	t.ConnectionsOpen[m.role]++
	for i := range m.StreamsOpened {
		// Read closed first: a stream closed between the two loads is then
		// still counted as open, never as -1.
		closed := m.StreamsClosed[i].Load()
		opened := m.StreamsOpened[i].Load()
		if opened > closed {
			t.StreamsOpen[i] += opened - closed
		}
	}
	if srtt := time.Duration(m.SmoothedRTT.Load()); srtt > 0 {
		t.SmoothedRTTMax = max(t.SmoothedRTTMax, srtt)
		*rttSum += srtt
		*rttConns++
	}
	if cw := m.CongWindow.Load(); cw > 0 {
		t.CongWindowSum += uint64(cw)
	}
}
