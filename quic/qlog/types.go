package qlog

import "github.com/tsumugi-quic/tsumugi/quic/wire"

// Enumerations of the qlog QUIC event schema
// (draft-ietf-quic-qlog-quic-events §8). The string types hold the draft's
// spelling, so a value outside the listed constants (the draft allows
// implementation-specific states and triggers) is written as given.

// Initiator tells which side caused something (quic events §8.3).
type Initiator uint8

const (
	// NoInitiator leaves the initiator field out.
	NoInitiator Initiator = iota
	// Local is this endpoint.
	Local
	// Remote is the peer.
	Remote
)

func (i Initiator) name() string {
	switch i {
	case Local:
		return "local"
	case Remote:
		return "remote"
	}
	return ""
}

// Space is a packet number space (quic events §8.7). Its values are in the
// order of sched.Space (Initial, Handshake, AppData), so qlog.Space(sp)
// converts one.
type Space uint8

const (
	// SpaceInitial is the Initial space.
	SpaceInitial Space = iota
	// SpaceHandshake is the Handshake space.
	SpaceHandshake
	// SpaceApplicationData is the space of 0-RTT and 1-RTT packets.
	SpaceApplicationData
)

func (s Space) name() string {
	switch s {
	case SpaceInitial:
		return "initial"
	case SpaceHandshake:
		return "handshake"
	}
	return "application_data"
}

// ConnectionState is a state of quic:connection_state_updated (quic events
// §4.6): a base state or a granular one.
type ConnectionState string

// Connection states, quic events §4.6.
const (
	StateAttempted          ConnectionState = "attempted"           // Initial sent/received
	StatePeerValidated      ConnectionState = "peer_validated"      // RFC 9000 §8.1
	StateHandshakeStarted   ConnectionState = "handshake_started"   // Handshake packet sent/received
	StateEarlyWrite         ConnectionState = "early_write"         // server: 0.5-RTT data may be sent
	StateHandshakeComplete  ConnectionState = "handshake_complete"  // RFC 9001 §4.1.1
	StateHandshakeConfirmed ConnectionState = "handshake_confirmed" // RFC 9001 §4.1.2
	StateClosing            ConnectionState = "closing"             // CONNECTION_CLOSE sent
	StateDraining           ConnectionState = "draining"            // CONNECTION_CLOSE received
	StateClosed             ConnectionState = "closed"              // state discarded
)

// CloseTrigger is the trigger of quic:connection_closed (quic events §4.3).
type CloseTrigger string

// Connection close triggers, quic events §4.3.
const (
	CloseIdleTimeout     CloseTrigger = "idle_timeout"
	CloseApplication     CloseTrigger = "application"
	CloseError           CloseTrigger = "error"
	CloseVersionMismatch CloseTrigger = "version_mismatch"
	CloseStatelessReset  CloseTrigger = "stateless_reset"
	CloseAborted         CloseTrigger = "aborted"
	CloseUnspecified     CloseTrigger = "unspecified"
)

// PacketTrigger is the trigger of quic:packet_sent or quic:packet_received
// (quic events §5.5, §5.6).
type PacketTrigger string

// Packet triggers, quic events §5.5 (sent) and §5.6 (received).
const (
	SentRetransmitReordered PacketTrigger = "retransmit_reordered" // RFC 9002 §6.1.1
	SentRetransmitTimeout   PacketTrigger = "retransmit_timeout"   // RFC 9002 §6.1.2
	SentPTOProbe            PacketTrigger = "pto_probe"            // RFC 9002 §6.2.4
	SentRetransmitCrypto    PacketTrigger = "retransmit_crypto"    // RFC 9002 §6.2.3
	SentCCBandwidthProbe    PacketTrigger = "cc_bandwidth_probe"
	ReceivedKeysAvailable   PacketTrigger = "keys_available" // was buffered until keys arrived
)

// DropTrigger is the trigger of quic:packet_dropped (quic events §5.7).
type DropTrigger string

// Packet drop triggers, quic events §5.7.
const (
	DropInternalError     DropTrigger = "internal_error"
	DropRejected          DropTrigger = "rejected"
	DropUnsupported       DropTrigger = "unsupported"
	DropInvalid           DropTrigger = "invalid"
	DropDuplicate         DropTrigger = "duplicate"
	DropConnectionUnknown DropTrigger = "connection_unknown"
	DropDecryptionFailure DropTrigger = "decryption_failure"
	DropKeyUnavailable    DropTrigger = "key_unavailable"
	DropGeneral           DropTrigger = "general"
)

// BufferTrigger is the trigger of quic:packet_buffered (quic events §5.8).
type BufferTrigger string

// Packet buffering triggers, quic events §5.8.
const (
	BufferBackpressure    BufferTrigger = "backpressure"
	BufferKeysUnavailable BufferTrigger = "keys_unavailable"
)

// LossTrigger is the trigger of quic:packet_lost (quic events §7.4).
type LossTrigger string

// Loss triggers, quic events §7.4.
const (
	LossReorderingThreshold LossTrigger = "reordering_threshold" // RFC 9002 §6.1.1
	LossTimeThreshold       LossTrigger = "time_threshold"       // RFC 9002 §6.1.2
	LossPTOExpired          LossTrigger = "pto_expired"          // RFC 9002 §6.2.4
)

// KeyType names a secret (quic events §8.11).
type KeyType string

// Key types, quic events §8.11.
const (
	KeyServerInitial   KeyType = "server_initial_secret"
	KeyClientInitial   KeyType = "client_initial_secret"
	KeyServerHandshake KeyType = "server_handshake_secret"
	KeyClientHandshake KeyType = "client_handshake_secret"
	KeyServer0RTT      KeyType = "server_0rtt_secret"
	KeyClient0RTT      KeyType = "client_0rtt_secret"
	KeyServer1RTT      KeyType = "server_1rtt_secret"
	KeyClient1RTT      KeyType = "client_1rtt_secret"
)

// KeyTrigger is the trigger of quic:key_updated and quic:key_discarded
// (quic events §6.1, §6.2).
type KeyTrigger string

// Key triggers, quic events §6.1.
const (
	KeyTLS          KeyTrigger = "tls" // Initial, Handshake and 0-RTT keys, and the first 1-RTT keys
	KeyRemoteUpdate KeyTrigger = "remote_update"
	KeyLocalUpdate  KeyTrigger = "local_update"
)

// ECN is a codepoint of the IP header's ECN field (quic events §8.12).
type ECN uint8

// ECN codepoints, RFC 3168 §5; NoECN leaves the field out.
const (
	NoECN  ECN = iota
	NotECT     // Not-ECT
	ECT1       // ECT(1)
	ECT0       // ECT(0)
	CE         // CE
)

func (e ECN) name() string {
	switch e {
	case NotECT:
		return "Not-ECT"
	case ECT1:
		return "ECT(1)"
	case ECT0:
		return "ECT(0)"
	case CE:
		return "CE"
	}
	return ""
}

// ECNState is a state of the ECN validation of RFC 9000 §13.4.2 and
// Appendix A.4 (quic events §7.6).
type ECNState string

// ECN validation states, quic events §7.6.
const (
	ECNTesting ECNState = "testing"
	ECNUnknown ECNState = "unknown"
	ECNFailed  ECNState = "failed"
	ECNCapable ECNState = "capable"
)

// transportErrorNames are the $TransportError strings (quic events §8.13.24)
// of the RFC 9000 §20.1 codes 0x00..0x10.
var transportErrorNames = [...]string{
	"no_error", "internal_error", "connection_refused", "flow_control_error",
	"stream_limit_error", "stream_state_error", "final_size_error",
	"frame_encoding_error", "transport_parameter_error",
	"connection_id_limit_error", "protocol_violation", "invalid_token",
	"application_error", "crypto_buffer_exceeded", "key_update_error",
	"aead_limit_reached", "no_viable_path",
}

// appendTransportError appends the error (and, for a code without a name,
// error_code) members for a transport error code: its $TransportError name,
// "crypto_error_0x1XX" for a TLS alert (quic events §8.13.26), or "unknown".
func appendTransportError(b []byte, errKey string, code uint64) []byte {
	switch c := wire.ErrorCode(code); {
	case code < uint64(len(transportErrorNames)):
		return fs(b, errKey, transportErrorNames[code])
	case c.IsCryptoError():
		b = key(b, errKey)
		b = append(b, `"crypto_error_0x1`...)
		return append(b, hexDigits[code>>4&0xf], hexDigits[code&0xf], '"')
	}
	b = fs(b, errKey, "unknown")
	return fu(b, "error_code", code)
}

// appendAppError appends an application error: the draft's only
// $ApplicationError value is "unknown" (quic events §8.13.25), so the code
// always goes in error_code.
func appendAppError(b []byte, errKey string, code uint64) []byte {
	b = fs(b, errKey, "unknown")
	return fu(b, "error_code", code)
}
