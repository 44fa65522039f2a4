package metrics

import "github.com/tsumugi-quic/tsumugi/quic/wire"

// Label values. They are fixed sets, so the number of series a Collector
// exports never depends on traffic.

// packetTypeNames are the values of the "packet_type" label, indexed by
// wire.PacketType; index 0 is not a packet type and is never exported.
var packetTypeNames = [numPacketTypes]string{
	wire.PacketInitial:            "initial",
	wire.Packet0RTT:               "0rtt",
	wire.PacketHandshake:          "handshake",
	wire.PacketRetry:              "retry",
	wire.PacketVersionNegotiation: "version_negotiation",
	wire.Packet1RTT:               "1rtt",
}

// NumStreamTypes is the number of stream types (RFC 9000 §2.1): the two
// low bits of a stream ID.
const NumStreamTypes = 4

// streamTypeNames are the values of the "type" label of the stream
// metrics, indexed by the two low bits of a stream ID (RFC 9000 §2.1,
// Table 1).
var streamTypeNames = [NumStreamTypes]string{"client_bidi", "server_bidi", "client_uni", "server_uni"}
