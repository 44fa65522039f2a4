package quic

import (
	"sync/atomic"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
	"github.com/tsumugi-quic/tsumugi/sched"
	"github.com/tsumugi-quic/tsumugi/stream"
)

// Stats are a connection's counters. The connection goroutine updates them
// with uncontended atomic adds; Conn.Stats and metrics collectors read them
// from any goroutine.
type Stats struct {
	PacketsSent       uint64
	PacketsReceived   uint64
	PacketsLost       uint64
	PacketsDropped    uint64 // undecryptable, unroutable or malformed
	BytesSent         uint64 // UDP payload bytes
	BytesReceived     uint64
	BytesLost         uint64
	DatagramsSent     uint64
	StreamsOpened     [4]uint64 // by stream.Type
	StreamsClosed     [4]uint64
	StreamsReset      uint64 // RESET_STREAM received
	PeerBlocked       uint64 // DATA_BLOCKED received
	SendErrors        uint64
	SmoothedRTTNanos  uint64
	MinRTTNanos       uint64
	CongestionWindow  uint64
	PacketFillPercent uint64 // mean fill of sent datagrams, 0-100
}

// connMetrics is the live counter set behind Stats.
type connMetrics struct {
	packetsSent, packetsReceived, packetsLost, packetsDropped atomic.Uint64
	bytesSent, bytesReceived, bytesLost                       atomic.Uint64
	datagramsSent, datagramBytes, datagramRoom                atomic.Uint64
	streamsOpened, streamsClosed                              [4]atomic.Uint64
	streamsReset, peerBlockedCount, sendErrors                atomic.Uint64
	srtt, minRTT, cwnd                                        atomic.Uint64
	handshakeNanos                                            atomic.Int64
}

// Stats returns a snapshot of the connection's counters.
func (c *Conn) Stats() Stats {
	m := &c.st.metrics
	s := Stats{
		PacketsSent:      m.packetsSent.Load(),
		PacketsReceived:  m.packetsReceived.Load(),
		PacketsLost:      m.packetsLost.Load(),
		PacketsDropped:   m.packetsDropped.Load(),
		BytesSent:        m.bytesSent.Load(),
		BytesReceived:    m.bytesReceived.Load(),
		BytesLost:        m.bytesLost.Load(),
		DatagramsSent:    m.datagramsSent.Load(),
		StreamsReset:     m.streamsReset.Load(),
		PeerBlocked:      m.peerBlockedCount.Load(),
		SendErrors:       m.sendErrors.Load(),
		SmoothedRTTNanos: m.srtt.Load(),
		MinRTTNanos:      m.minRTT.Load(),
		CongestionWindow: m.cwnd.Load(),
	}
	for i := range s.StreamsOpened {
		s.StreamsOpened[i] = m.streamsOpened[i].Load()
		s.StreamsClosed[i] = m.streamsClosed[i].Load()
	}
	if room := m.datagramRoom.Load(); room > 0 {
		s.PacketFillPercent = 100 * m.datagramBytes.Load() / room
	}
	return s
}

func (m *connMetrics) packetSent(pt wire.PacketType, n int) {
	m.packetsSent.Add(1)
	m.bytesSent.Add(uint64(n))
}

func (m *connMetrics) packetReceived(pt wire.PacketType, n int) {
	m.packetsReceived.Add(1)
	m.bytesReceived.Add(uint64(n))
}

func (m *connMetrics) packetLost(sp sched.Space, n int) {
	m.packetsLost.Add(1)
	m.bytesLost.Add(uint64(n))
}

func (m *connMetrics) dropped(reason string) { m.packetsDropped.Add(1) }

// datagramSent records a datagram of n packets and size bytes, out of room.
func (m *connMetrics) datagramSent(packets, size, room int) {
	m.datagramsSent.Add(1)
	m.datagramBytes.Add(uint64(size))
	m.datagramRoom.Add(uint64(max(room, size)))
}

func (m *connMetrics) streamOpened(id stream.ID) { m.streamsOpened[id.Type()].Add(1) }
func (m *connMetrics) streamClosed(id stream.ID) { m.streamsClosed[id.Type()].Add(1) }
func (m *connMetrics) streamReset()              { m.streamsReset.Add(1) }
func (m *connMetrics) peerBlocked()              { m.peerBlockedCount.Add(1) }
func (m *connMetrics) sendError()                { m.sendErrors.Add(1) }

// recoveryState records the RTT and congestion window after an ACK.
func (m *connMetrics) recoveryState(srtt, minRTT int64, cwnd int) {
	m.srtt.Store(uint64(srtt))
	m.minRTT.Store(uint64(minRTT))
	m.cwnd.Store(uint64(cwnd))
}

func (m *connMetrics) handshakeDone(c *Conn) {
	m.handshakeNanos.Store(int64(c.st.now.Sub(c.created)))
}
