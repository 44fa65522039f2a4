package wire

import (
	"net/netip"
	"time"
)

// Transport parameters, RFC 9000 §18, with max_datagram_frame_size
// (RFC 9221 §3) and version_information (RFC 9368 §5).

// Transport parameter IDs.
const (
	tpOriginalDestinationConnectionID = 0x00
	tpMaxIdleTimeout                  = 0x01
	tpStatelessResetToken             = 0x02
	tpMaxUDPPayloadSize               = 0x03
	tpInitialMaxData                  = 0x04
	tpInitialMaxStreamDataBidiLocal   = 0x05
	tpInitialMaxStreamDataBidiRemote  = 0x06
	tpInitialMaxStreamDataUni         = 0x07
	tpInitialMaxStreamsBidi           = 0x08
	tpInitialMaxStreamsUni            = 0x09
	tpAckDelayExponent                = 0x0a
	tpMaxAckDelay                     = 0x0b
	tpDisableActiveMigration          = 0x0c
	tpPreferredAddress                = 0x0d
	tpActiveConnectionIDLimit         = 0x0e
	tpInitialSourceConnectionID       = 0x0f
	tpRetrySourceConnectionID         = 0x10
	tpVersionInformation              = 0x11 // RFC 9368 §5
	tpMaxDatagramFrameSize            = 0x20 // RFC 9221 §3
)

// Defaults and limits of RFC 9000 §18.2.
const (
	DefaultMaxUDPPayloadSize       = 65527
	MinMaxUDPPayloadSize           = 1200
	DefaultAckDelayExponent        = 3
	MaxAckDelayExponent            = 20
	DefaultMaxAckDelay             = 25 * time.Millisecond
	MaxMaxAckDelay                 = (1<<14 - 1) * time.Millisecond // values of 2^14 ms or more are invalid
	DefaultActiveConnectionIDLimit = 2
	MaxStreamsLimit                = 1 << 60 // RFC 9000 §4.6
)

// TransportParameters are the QUIC transport parameters one endpoint sends
// in its TLS handshake. Integer parameters hold their value, or the default
// of RFC 9000 §18.2 when absent (start from DefaultTransportParameters).
// Connection ID parameters are nil when absent; a non-nil empty slice is a
// zero-length connection ID.
type TransportParameters struct {
	// OriginalDestinationConnectionID (0x00, server only) is the
	// Destination Connection ID of the client's first Initial (RFC 9000
	// §7.3).
	OriginalDestinationConnectionID []byte
	// MaxIdleTimeout (0x01), sent in milliseconds; 0 disables it.
	MaxIdleTimeout time.Duration
	// StatelessResetToken (0x02, server only), nil when absent.
	StatelessResetToken *[16]byte
	// MaxUDPPayloadSize (0x03): at least 1200, default 65527.
	MaxUDPPayloadSize uint64
	// InitialMaxData (0x04) and the stream limits (0x05-0x07).
	InitialMaxData                 uint64
	InitialMaxStreamDataBidiLocal  uint64
	InitialMaxStreamDataBidiRemote uint64
	InitialMaxStreamDataUni        uint64
	// InitialMaxStreamsBidi (0x08) and InitialMaxStreamsUni (0x09): at
	// most 2^60.
	InitialMaxStreamsBidi uint64
	InitialMaxStreamsUni  uint64
	// AckDelayExponent (0x0a): at most 20, default 3.
	AckDelayExponent uint64
	// MaxAckDelay (0x0b), sent in milliseconds: below 2^14 ms, default
	// 25 ms.
	MaxAckDelay time.Duration
	// DisableActiveMigration (0x0c), a zero-length parameter.
	DisableActiveMigration bool
	// PreferredAddress (0x0d, server only), nil when absent.
	PreferredAddress *PreferredAddress
	// ActiveConnectionIDLimit (0x0e): at least 2, default 2.
	ActiveConnectionIDLimit uint64
	// InitialSourceConnectionID (0x0f): the Source Connection ID of the
	// sender's first Initial (RFC 9000 §7.3).
	InitialSourceConnectionID []byte
	// RetrySourceConnectionID (0x10, server only): the Source Connection
	// ID of the server's Retry.
	RetrySourceConnectionID []byte
	// VersionInformation (0x11, RFC 9368 §5), nil when absent.
	VersionInformation *VersionInformation
	// MaxDatagramFrameSize (0x20, RFC 9221 §3): the largest DATAGRAM frame
	// the sender accepts; HasMaxDatagramFrameSize tells whether it was
	// sent at all.
	MaxDatagramFrameSize    uint64
	HasMaxDatagramFrameSize bool
}

// PreferredAddress is the server's preferred_address transport parameter
// (RFC 9000 §18.2, §9.6). An address family the server does not offer is
// the zero netip.AddrPort (sent as an all-zero address and port).
type PreferredAddress struct {
	IPv4                netip.AddrPort
	IPv6                netip.AddrPort
	ConnectionID        []byte // 1 to 20 bytes
	StatelessResetToken [16]byte
}

// VersionInformation is the version_information transport parameter
// (RFC 9368 §5): the version of the packets carrying it, and the versions
// the sender supports (for a client, the versions compatible with the
// chosen one, in order of preference).
type VersionInformation struct {
	ChosenVersion     Version
	AvailableVersions []Version
}

// DefaultTransportParameters returns the parameters an endpoint that sends
// none has: the defaults of RFC 9000 §18.2 (max_udp_payload_size 65527,
// ack_delay_exponent 3, max_ack_delay 25 ms, active_connection_id_limit 2)
// and zero for everything else.
func DefaultTransportParameters() TransportParameters {
	return TransportParameters{
		MaxUDPPayloadSize:       DefaultMaxUDPPayloadSize,
		AckDelayExponent:        DefaultAckDelayExponent,
		MaxAckDelay:             DefaultMaxAckDelay,
		ActiveConnectionIDLimit: DefaultActiveConnectionIDLimit,
	}
}
