package metrics

import (
	"sync/atomic"
	"time"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

// Role is a connection's role.
type Role uint8

const (
	Client Role = iota
	Server
	numRoles
)

func (r Role) String() string {
	if r == Server {
		return "server"
	}
	return "client"
}

// DropReason says why a received packet was dropped.
type DropReason uint8

const (
	DropHeader  DropReason = iota // malformed or unparsable header
	DropDecrypt                   // failed to decrypt (or no keys for it)
	DropNoKeys                    // keys not yet available or discarded
	DropAddress                   // from an unexpected address
	DropQueue                     // the connection's receive queue was full
	DropUnknown                   // no connection for it
	numDropReasons
)

var dropReasonNames = [numDropReasons]string{"header", "decrypt", "no_keys", "address", "queue_full", "unknown_connection"}

func (r DropReason) String() string { return dropReasonNames[r] }

// numPacketTypes covers wire.PacketInitial (1) .. wire.Packet1RTT (6).
const numPacketTypes = int(wire.Packet1RTT) + 1

// Conn is one connection's live counters. The connection goroutine updates
// them with uncontended atomic adds (a few nanoseconds, no label lookups);
// a Collector sums them over live and closed connections when scraped, and
// quic.Conn.Stats reads them directly.
type Conn struct {
	role       Role
	collector  *Collector // nil when not registered anywhere
	opened     time.Time
	handshaken atomic.Bool

	PacketsSent     [numPacketTypes]atomic.Uint64
	PacketsReceived [numPacketTypes]atomic.Uint64
	BytesSent       atomic.Uint64
	BytesReceived   atomic.Uint64
	PacketsLost     atomic.Uint64
	BytesLost       atomic.Uint64
	BytesRetrans    atomic.Uint64 // stream and CRYPTO bytes queued again after a loss
	PacketsDropped  [numDropReasons]atomic.Uint64

	Datagrams       atomic.Uint64 // datagrams sent
	DatagramPackets atomic.Uint64 // packets in them
	DatagramBytes   atomic.Uint64 // bytes in them
	DatagramRoom    atomic.Uint64 // bytes they could have held
	SendCalls       atomic.Uint64 // socket send calls
	SendErrors      atomic.Uint64 // socket send calls that failed

	StreamsOpened [4]atomic.Uint64 // by stream type: client bidi, server bidi, client uni, server uni
	StreamsClosed [4]atomic.Uint64
	StreamsReset  atomic.Uint64 // RESET_STREAM received
	Migrations    atomic.Uint64 // the peer moved to a new address
	KeyUpdates    atomic.Uint64 // 1-RTT key updates (RFC 9001 §6), either side starting

	BlockedSent     atomic.Uint64 // DATA_BLOCKED / STREAM_DATA_BLOCKED / STREAMS_BLOCKED we sent
	BlockedReceived atomic.Uint64 // the same, received from the peer

	SmoothedRTT atomic.Int64 // nanoseconds
	MinRTT      atomic.Int64
	CongWindow  atomic.Int64 // bytes
}

// NewConn returns the counters of a new connection of role r, registered
// with c (which may be nil: counters are then only read through Stats).
func (c *Collector) NewConn(r Role, now time.Time) *Conn {
	m := &Conn{role: r, collector: c, opened: now}
	if c != nil {
		c.add(m)
	}
	return m
}

// Role returns the connection's role.
func (m *Conn) Role() Role { return m.role }

// PacketSent counts a packet of type pt and n bytes on the wire.
func (m *Conn) PacketSent(pt wire.PacketType, n int) {
	m.PacketsSent[pt].Add(1)
	m.BytesSent.Add(uint64(n))
}

// PacketReceived counts a processed packet.
func (m *Conn) PacketReceived(pt wire.PacketType, n int) {
	m.PacketsReceived[pt].Add(1)
	m.BytesReceived.Add(uint64(n))
}

// PacketLost counts a packet declared lost.
func (m *Conn) PacketLost(n int) {
	m.PacketsLost.Add(1)
	m.BytesLost.Add(uint64(n))
}

// Retransmitted counts n bytes of stream or CRYPTO data queued again after a loss.
func (m *Conn) Retransmitted(n uint64) { m.BytesRetrans.Add(n) }

// PacketDropped counts a received packet that was dropped.
func (m *Conn) PacketDropped(r DropReason) { m.PacketsDropped[r].Add(1) }

// DatagramSent counts a datagram of packets coalesced packets, size bytes,
// out of room bytes the path allowed.
func (m *Conn) DatagramSent(packets, size, room int) {
	m.Datagrams.Add(1)
	m.DatagramPackets.Add(uint64(packets))
	m.DatagramBytes.Add(uint64(size))
	m.DatagramRoom.Add(uint64(max(room, size)))
}

// SendCall counts one socket send call.
func (m *Conn) SendCall() { m.SendCalls.Add(1) }

// SendError counts a socket send call that failed.
func (m *Conn) SendError() { m.SendErrors.Add(1) }

// StreamOpened and StreamClosed count streams by type (0..3, stream.ID%4).
func (m *Conn) StreamOpened(typ uint8) { m.StreamsOpened[typ&3].Add(1) }

// StreamClosed counts a stream whose both halves finished.
func (m *Conn) StreamClosed(typ uint8) { m.StreamsClosed[typ&3].Add(1) }

// KeyUpdated records the number of key updates so far.
func (m *Conn) KeyUpdated(n uint64) { m.KeyUpdates.Store(n) }

// PathChanged counts a migration of the peer to a new address.
func (m *Conn) PathChanged() { m.Migrations.Add(1) }

// StreamReset counts a RESET_STREAM received.
func (m *Conn) StreamReset() { m.StreamsReset.Add(1) }

// Blocked counts a flow-control blocked event: a *_BLOCKED frame sent
// (we are blocked) or received (the peer is).
func (m *Conn) Blocked(received bool) {
	if received {
		m.BlockedReceived.Add(1)
	} else {
		m.BlockedSent.Add(1)
	}
}

// RecoveryState records the RTT estimates and congestion window.
func (m *Conn) RecoveryState(srtt, minRTT time.Duration, cwnd int) {
	m.SmoothedRTT.Store(int64(srtt))
	m.MinRTT.Store(int64(minRTT))
	m.CongWindow.Store(int64(cwnd))
}

// HandshakeDone records a completed handshake that took d.
func (m *Conn) HandshakeDone(d time.Duration) {
	m.handshaken.Store(true)
	if m.collector != nil {
		m.collector.handshakeDone(m, d)
	}
}

// Closed records the end of the connection; class is one of the
// CloseReason values. The counters are folded into the collector's totals
// and the Conn is forgotten by it.
func (m *Conn) Closed(class CloseReason) {
	if m.collector != nil {
		m.collector.remove(m, class)
	}
}

// CloseReason classifies why a connection ended, for the
// connections_closed_total counter.
type CloseReason uint8

const (
	CloseApplication    CloseReason = iota // an application closed it (either side), code 0
	CloseApplicationErr                    // an application error code other than 0
	CloseTransportErr                      // a transport error (either side)
	CloseIdle                              // idle timeout
	CloseHandshake                         // handshake failed or timed out
	CloseReset                             // stateless reset
	CloseEndpoint                          // the endpoint closed
	numCloseReasons
)

var closeReasonNames = [numCloseReasons]string{"application", "application_error", "transport_error", "idle_timeout", "handshake_failure", "stateless_reset", "endpoint_closed"}

func (r CloseReason) String() string { return closeReasonNames[r] }
