package stream

import (
	"net"
	"time"
)

// Owner is what a stream needs from its connection. The quic package
// implements it for real connections; tests implement it with an in-memory
// pair. Every method may be called from any goroutine, and none may block:
// an application goroutine calls them while it holds no stream lock.
type Owner interface {
	// Wake tells the connection goroutine that stream id has something new
	// for it: data or a FIN to send, a control frame (MAX_STREAM_DATA,
	// STOP_SENDING, RESET_STREAM) to queue, a new priority, or that a half
	// reached a terminal state. The connection then calls the stream's
	// (*Core).Work to learn what changed, which also re-arms Wake: until
	// then further changes do not call Wake again.
	Wake(id ID)

	// Consumed reports that the application read n bytes from a stream, for
	// connection-level flow control (MAX_DATA, RFC 9000 §4.1). Bytes that
	// will never be read (the application abandoned reading, or the peer
	// reset the stream) are reported too, as soon as they are known; that
	// report may come from the connection goroutine itself, inside
	// HandleStream or HandleResetStream (RFC 9000 §4.5).
	Consumed(n int)

	// SmoothedRTT returns the connection's current RTT estimate, used to
	// auto-tune receive windows; 0 when unknown.
	SmoothedRTT() time.Duration

	// LocalAddr and RemoteAddr are the connection's addresses, returned by
	// a Stream's net.Conn methods of the same names.
	LocalAddr() net.Addr
	RemoteAddr() net.Addr
}
