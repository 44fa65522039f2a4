package quic

import (
	"github.com/tsumugi-quic/tsumugi/quic/wire"
	"time"

	"github.com/tsumugi-quic/tsumugi/metrics"
)

// Config tunes an endpoint and its connections. A nil *Config means all
// defaults; a zero field means that field's default.
type Config struct {
	// HandshakeTimeout bounds the whole handshake (default 10 s). Dial
	// returns ErrHandshakeTimeout after it; a server drops the attempt.
	HandshakeTimeout time.Duration

	// MaxIdleTimeout closes a connection after this long without network
	// activity (default 30 s). The effective value is the smaller of ours
	// and the peer's (RFC 9000 §10.1).
	MaxIdleTimeout time.Duration

	// KeepAlivePeriod, when positive, sends a PING after this long without
	// sending an ack-eliciting packet, so that an idle connection stays up.
	KeepAlivePeriod time.Duration

	// MaxIncomingStreams and MaxIncomingUniStreams limit how many
	// bidirectional and unidirectional streams the peer may have open at
	// once (default 100 each). A negative value allows none.
	MaxIncomingStreams    int64
	MaxIncomingUniStreams int64

	// InitialStreamReceiveWindow is the flow-control window of a stream at
	// first (default 512 KiB); it grows with the reader's pace up to
	// MaxStreamReceiveWindow (default 16 MiB).
	InitialStreamReceiveWindow uint64
	MaxStreamReceiveWindow     uint64

	// InitialConnectionReceiveWindow and MaxConnectionReceiveWindow are the
	// same for the whole connection (defaults 1 MiB and 24 MiB).
	InitialConnectionReceiveWindow uint64
	MaxConnectionReceiveWindow     uint64

	// StreamSendBuffer is how many unacknowledged bytes a stream's Write may
	// buffer before it blocks (default 1 MiB).
	StreamSendBuffer int

	// CongestionControl is "cubic" (the default) or "newreno".
	CongestionControl string

	// KeyUpdateInterval is how many 1-RTT packets we send under one set of
	// keys before we start a key update (RFC 9001 §6). Default 1<<20; the
	// AEAD limits of RFC 9001 §6.6 are far above it.
	KeyUpdateInterval uint64

	// ConnectionIDLength is the length of our connection IDs (default 8,
	// 4..20).
	ConnectionIDLength int

	// StatelessResetKey derives our stateless reset tokens (RFC 9000 §10.3).
	// With nil, a random key is used: resets then only work while this
	// process lives.
	StatelessResetKey *[32]byte

	// InitialPacketSize is the UDP payload size we start with (default
	// 1280, at least 1200).
	InitialPacketSize int

	// RequireAddressValidation makes a server answer every client Initial
	// without a valid token with a Retry (RFC 9000 §8.1.2), so that no
	// state is kept for an unvalidated address. Without it, Retry is used
	// automatically when more than RetryThreshold handshakes are in
	// progress (default 64; negative: never).
	RequireAddressValidation bool
	RetryThreshold           int

	// MaxHandshakes caps the handshakes a server runs at once (default
	// 1024); Initials beyond it are dropped.
	MaxHandshakes int

	// TokenStore keeps the address validation tokens servers send in
	// NEW_TOKEN frames, for the next connection to the same server. Nil:
	// tokens are not kept.
	TokenStore *TokenStore

	// Allow0RTT lets a server accept 0-RTT data from clients resuming a
	// session (RFC 9001 §4.6). 0-RTT data can be replayed by an attacker:
	// only enable it for applications whose early requests are safe to
	// repeat. Clients send 0-RTT data with DialEarly.
	Allow0RTT bool

	// Versions are the QUIC versions we speak, most preferred first
	// (default: version 1, then version 2). A client's first Initial uses
	// Versions[0]; a server switches a connection to the first of its
	// Versions that the client also offers, by compatible version
	// negotiation (RFC 9368, RFC 9369 §4).
	Versions []uint32

	// EnableDatagrams offers and accepts DATAGRAM frames (RFC 9221):
	// Conn.SendDatagram and Conn.ReceiveDatagram.
	EnableDatagrams bool

	// PreferredAddress, for a server, is a second UDP address ("host:port")
	// the listener also listens on and offers clients in the
	// preferred_address transport parameter (RFC 9000 §9.6): clients move
	// their connections there once the handshake is confirmed.
	PreferredAddress string

	// DisableActiveMigration, for a server, sends disable_active_migration
	// (RFC 9000 §18.2): clients must not move the connection to a new
	// local address (Conn.Migrate refuses). The server still follows a
	// client whose address changes under it, as after a NAT rebinding.
	DisableActiveMigration bool

	// QlogDir, when set, makes every connection write a qlog trace
	// (draft-ietf-quic-qlog, JSON-SEQ) to <QlogDir>/<ODCID>_<role>.sqlog.
	// The tsumugi command sets it from -qlog or QLOGDIR.
	QlogDir string

	// Metrics, when set, counts this endpoint's connections, streams and
	// packets for Prometheus. Share one Collector among endpoints and
	// register it once.
	Metrics *metrics.Collector
}

// Defaults.
const (
	defaultHandshakeTimeout     = 10 * time.Second
	defaultMaxIdleTimeout       = 30 * time.Second
	defaultMaxIncomingStreams   = 100
	defaultStreamWindow         = 512 << 10
	defaultMaxStreamWindow      = 16 << 20
	defaultConnWindow           = 1 << 20
	defaultMaxConnWindow        = 24 << 20
	defaultStreamSendBuffer     = 1 << 20
	defaultKeyUpdateInterval    = 1 << 20
	defaultConnectionIDLength   = 8
	defaultInitialPacketSize    = 1280
	defaultRetryThreshold       = 64
	defaultMaxHandshakes        = 1024
	minInitialPacketSize        = 1200 // RFC 9000 §14.1
	maxAckDelay                 = 25 * time.Millisecond
	ackDelayExponent            = 3
	activeConnectionIDLimit     = 4
	maxPacketBufferSize         = 1500
	maxCryptoBufferAhead        = 64 << 10 // CRYPTO bytes buffered beyond the read offset per level
	maxDatagramsQueuedPerConn   = 8192
	inboxShallow                = 64
	maxLocalConnectionIDsIssued = activeConnectionIDLimit
)

// withDefaults returns a copy of c with every zero field set to its default.
func (c *Config) withDefaults() *Config {
	var n Config
	if c != nil {
		n = *c
	}
	if n.HandshakeTimeout <= 0 {
		n.HandshakeTimeout = defaultHandshakeTimeout
	}
	if n.MaxIdleTimeout <= 0 {
		n.MaxIdleTimeout = defaultMaxIdleTimeout
	}
	if n.MaxIncomingStreams == 0 {
		n.MaxIncomingStreams = defaultMaxIncomingStreams
	} else if n.MaxIncomingStreams < 0 {
		n.MaxIncomingStreams = 0
	}
	if n.MaxIncomingUniStreams == 0 {
		n.MaxIncomingUniStreams = defaultMaxIncomingStreams
	} else if n.MaxIncomingUniStreams < 0 {
		n.MaxIncomingUniStreams = 0
	}
	if n.InitialStreamReceiveWindow == 0 {
		n.InitialStreamReceiveWindow = defaultStreamWindow
	}
	if n.MaxStreamReceiveWindow < n.InitialStreamReceiveWindow {
		n.MaxStreamReceiveWindow = max(defaultMaxStreamWindow, n.InitialStreamReceiveWindow)
	}
	if n.InitialConnectionReceiveWindow == 0 {
		n.InitialConnectionReceiveWindow = defaultConnWindow
	}
	if n.MaxConnectionReceiveWindow < n.InitialConnectionReceiveWindow {
		n.MaxConnectionReceiveWindow = max(defaultMaxConnWindow, n.InitialConnectionReceiveWindow)
	}
	if n.StreamSendBuffer <= 0 {
		n.StreamSendBuffer = defaultStreamSendBuffer
	}
	if n.CongestionControl == "" {
		n.CongestionControl = "cubic"
	}
	if n.KeyUpdateInterval == 0 {
		n.KeyUpdateInterval = defaultKeyUpdateInterval
	}
	if n.ConnectionIDLength == 0 {
		n.ConnectionIDLength = defaultConnectionIDLength
	}
	n.ConnectionIDLength = min(max(n.ConnectionIDLength, 4), 20)
	if n.RetryThreshold == 0 {
		n.RetryThreshold = defaultRetryThreshold
	}
	if n.MaxHandshakes <= 0 {
		n.MaxHandshakes = defaultMaxHandshakes
	}
	if len(n.Versions) == 0 {
		n.Versions = []uint32{wire.Version1, wire.Version2}
	}
	if n.InitialPacketSize == 0 {
		n.InitialPacketSize = defaultInitialPacketSize
	}
	n.InitialPacketSize = min(max(n.InitialPacketSize, minInitialPacketSize), maxPacketBufferSize)
	return &n
}

// preferredVersion is the first of c.Versions that we implement.
func (c *Config) preferredVersion() uint32 {
	for _, v := range c.Versions {
		if wire.IsSupportedVersion(v) {
			return v
		}
	}
	return 0
}

// supportsVersion reports whether v is one of c.Versions.
func (c *Config) supportsVersion(v uint32) bool {
	for _, x := range c.Versions {
		if x == v && wire.IsSupportedVersion(v) {
			return true
		}
	}
	return false
}
