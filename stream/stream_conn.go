package stream

import (
	"context"
	"net"
	"time"
)

// Stream is a bidirectional QUIC stream as the application uses it: a
// net.Conn. Read and Write may run at the same time from two goroutines;
// concurrent Reads (and concurrent Writes) are serialised. Every method is
// safe for concurrent use.
type Stream struct{ c *Core }

var _ net.Conn = (*Stream)(nil)

// ID returns the stream's ID.
func (s *Stream) ID() ID { return s.c.id }

// Read reads data the peer sent, blocking until some is available. It
// returns io.EOF once every byte up to the peer's FIN was read; a
// *StreamError with Remote set after the peer's RESET_STREAM;
// os.ErrDeadlineExceeded when the read deadline passes; net.ErrClosed after
// Close; the connection's error once it is gone.
func (s *Stream) Read(p []byte) (int, error) { return s.c.read(p) }

// Write copies p into the stream's send buffer, blocking while the buffer
// is full of unacknowledged data, and returns when all of p is buffered. It
// fails with a *StreamError with Remote set after the peer's STOP_SENDING,
// os.ErrDeadlineExceeded when the write deadline passes, net.ErrClosed
// after Close or CloseWrite, the connection's error once it is gone.
func (s *Stream) Write(p []byte) (int, error) { return s.c.write(p) }

// Close closes both directions without blocking: the buffered data is sent,
// then the FIN; if the peer may still send, STOP_SENDING with code 0 asks it
// to stop (RFC 9000 §3.5). Later Reads and Writes return net.ErrClosed;
// blocked ones return at once. Use WaitAcked to learn when the peer has
// everything.
func (s *Stream) Close() error {
	s.c.closeWrite()
	s.c.cancelRead(0, true)
	return nil
}

// CloseWrite closes the sending direction: FIN after the buffered data, as
// (*net.TCPConn).CloseWrite. Reading goes on.
func (s *Stream) CloseWrite() error {
	s.c.closeWrite()
	return nil
}

// CancelRead abandons the receiving direction: buffered and future data is
// discarded and STOP_SENDING with code asks the peer to stop (RFC 9000
// §3.5). Later Reads return a *StreamError with the code.
func (s *Stream) CancelRead(code uint64) { s.c.cancelRead(code, false) }

// CancelWrite abandons the sending direction: unsent data is dropped and
// RESET_STREAM with code is sent (RFC 9000 §3.1). Later Writes return a
// *StreamError with the code.
func (s *Stream) CancelWrite(code uint64) { s.c.cancelWrite(code) }

// WaitAcked blocks until the peer acknowledged every byte through the FIN
// (nil; call Close or CloseWrite first, or it waits for that too), the
// sending direction was reset or the connection is gone (that error), or
// ctx is done (ctx.Err()).
func (s *Stream) WaitAcked(ctx context.Context) error { return s.c.waitAcked(ctx) }

// SetDeadline sets the read and write deadlines; see SetReadDeadline and
// SetWriteDeadline.
func (s *Stream) SetDeadline(t time.Time) error {
	s.SetReadDeadline(t)
	s.SetWriteDeadline(t)
	return nil
}

// SetReadDeadline sets when blocked and future Reads fail with
// os.ErrDeadlineExceeded (Timeout() is true). A blocked Read is woken at
// once when t is in the past. The zero time means no deadline.
func (s *Stream) SetReadDeadline(t time.Time) error {
	return s.c.setReadDeadline(t)
}

// SetWriteDeadline sets when blocked and future Writes fail with
// os.ErrDeadlineExceeded; a partly done Write reports the bytes it
// buffered. The zero time means no deadline.
func (s *Stream) SetWriteDeadline(t time.Time) error {
	return s.c.setWriteDeadline(t)
}

// LocalAddr returns the connection's local address.
func (s *Stream) LocalAddr() net.Addr { return s.c.owner.LocalAddr() }

// RemoteAddr returns the connection's remote address.
func (s *Stream) RemoteAddr() net.Addr { return s.c.owner.RemoteAddr() }

// SetPriority sets the stream's priority (RFC 9218): urgency 0 (highest)
// to 7 (larger values count as 7), and whether its data may be interleaved
// with that of other streams of the same urgency.
func (s *Stream) SetPriority(urgency uint8, incremental bool) { s.c.setPriority(urgency, incremental) }

func (c *Core) setReadDeadline(t time.Time) error {
	r := &c.recv
	r.mu.Lock()
	r.w.setDeadline(&r.mu, t)
	r.mu.Unlock()
	return nil
}

func (c *Core) setWriteDeadline(t time.Time) error {
	s := &c.send
	s.mu.Lock()
	s.w.setDeadline(&s.mu, t)
	s.mu.Unlock()
	return nil
}
