package stream

// Default sizes used when a Config field is zero.
const (
	DefaultSendBuffer    = 1 << 20   // 1 MiB
	DefaultInitialWindow = 512 << 10 // 512 KiB
	DefaultMaxWindow     = 16 << 20  // 16 MiB
)

// Config sets one stream's buffer sizes and flow-control limits. The zero
// value of each field means its default.
type Config struct {
	// SendBuffer is how many unacknowledged bytes Write may hold before it
	// blocks (back-pressure). Default DefaultSendBuffer.
	SendBuffer int

	// InitialWindow is the receive window we advertised for this stream in
	// our transport parameters (initial_max_stream_data_*, RFC 9000 §18.2):
	// the peer may send up to this offset before our first MAX_STREAM_DATA.
	// Default DefaultInitialWindow.
	InitialWindow uint64

	// MaxWindow caps the receive window when it auto-tunes to the reader's
	// pace. Default DefaultMaxWindow; raised to InitialWindow if smaller.
	MaxWindow uint64

	// PeerInitialMaxData is the peer's initial_max_stream_data_* transport
	// parameter for this stream: how far we may send before its first
	// MAX_STREAM_DATA. Zero is the transport parameter's own default: the
	// peer allows nothing yet (RFC 9000 §18.2).
	PeerInitialMaxData uint64
}

// withDefaults returns c with zero fields set to their defaults.
func (c Config) withDefaults() Config {
	if c.SendBuffer <= 0 {
		c.SendBuffer = DefaultSendBuffer
	}
	if c.InitialWindow == 0 {
		c.InitialWindow = DefaultInitialWindow
	}
	if c.MaxWindow == 0 {
		c.MaxWindow = DefaultMaxWindow
	}
	if c.MaxWindow < c.InitialWindow {
		c.MaxWindow = c.InitialWindow
	}
	return c
}
