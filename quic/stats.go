package quic

import (
	"errors"
	"time"

	"github.com/tsumugi-quic/tsumugi/metrics"
	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

// Stats is a snapshot of a connection's counters.
type Stats struct {
	PacketsSent      uint64
	PacketsReceived  uint64
	PacketsLost      uint64
	PacketsDropped   uint64 // undecryptable, malformed, or from an unexpected address
	BytesSent        uint64 // UDP payload bytes
	BytesReceived    uint64
	BytesLost        uint64
	BytesRetransmit  uint64 // stream and CRYPTO bytes queued again after a loss
	DatagramsSent    uint64
	StreamsOpened    [4]uint64 // by stream.Type
	StreamsClosed    [4]uint64
	StreamsReset     uint64 // RESET_STREAM received
	KeyUpdates       uint64 // 1-RTT key updates, started by either side
	SpuriousLosses   uint64 // packets declared lost, then acknowledged after all
	SmoothedRTT      time.Duration
	MinRTT           time.Duration
	CongestionWindow int
	// ECN: our packets are marked ECT(0) and the peer's ACK counts have
	// validated ECN on this path so far (RFC 9000 §13.4.2).
	ECN bool
}

// Stats returns a snapshot of the connection's counters. The connection
// goroutine keeps them in a *metrics.Conn with uncontended atomic adds; a
// metrics.Collector given in Config.Metrics exports the same counters,
// summed over connections, to Prometheus.
func (c *Conn) Stats() Stats {
	m := c.st.metrics
	s := Stats{
		BytesSent:        m.BytesSent.Load(),
		BytesReceived:    m.BytesReceived.Load(),
		PacketsLost:      m.PacketsLost.Load(),
		BytesLost:        m.BytesLost.Load(),
		BytesRetransmit:  m.BytesRetrans.Load(),
		DatagramsSent:    m.Datagrams.Load(),
		StreamsReset:     m.StreamsReset.Load(),
		KeyUpdates:       m.KeyUpdates.Load(),
		SpuriousLosses:   c.spurious.Load(),
		SmoothedRTT:      time.Duration(m.SmoothedRTT.Load()),
		MinRTT:           time.Duration(m.MinRTT.Load()),
		CongestionWindow: int(m.CongWindow.Load()),
		ECN:              c.ecnMarking.Load(),
	}
	for i := range m.PacketsSent {
		s.PacketsSent += m.PacketsSent[i].Load()
		s.PacketsReceived += m.PacketsReceived[i].Load()
	}
	for i := range m.PacketsDropped {
		s.PacketsDropped += m.PacketsDropped[i].Load()
	}
	for i := range s.StreamsOpened {
		s.StreamsOpened[i] = m.StreamsOpened[i].Load()
		s.StreamsClosed[i] = m.StreamsClosed[i].Load()
	}
	return s
}

// closeReason classifies why a connection ended, for metrics.
func closeReason(err error, handshakeDone bool) metrics.CloseReason {
	var app *ApplicationError
	var te *TransportError
	switch {
	case !handshakeDone:
		return metrics.CloseHandshake
	case errors.As(err, &app):
		if app.Code == 0 {
			return metrics.CloseApplication
		}
		return metrics.CloseApplicationErr
	case errors.As(err, &te):
		if te.Code == wire.NoError {
			return metrics.CloseApplication
		}
		return metrics.CloseTransportErr
	case errors.Is(err, ErrIdleTimeout):
		return metrics.CloseIdle
	case errors.Is(err, ErrStatelessReset):
		return metrics.CloseReset
	case errors.Is(err, ErrHandshakeTimeout):
		return metrics.CloseHandshake
	}
	return metrics.CloseEndpoint
}
