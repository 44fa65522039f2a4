package stream

import "time"

// ReceiveStream is the receiving half of a unidirectional stream the peer
// opened. Every method is safe for concurrent use; concurrent Reads are
// serialised.
type ReceiveStream struct{ c *Core }

// ID returns the stream's ID.
func (s *ReceiveStream) ID() ID { return s.c.id }

// Read is as (*Stream).Read.
func (s *ReceiveStream) Read(p []byte) (int, error) { return s.c.read(p) }

// CancelRead is as (*Stream).CancelRead.
func (s *ReceiveStream) CancelRead(code uint64) { s.c.cancelRead(code, false) }

// Close stops reading: unless the stream is finished, STOP_SENDING with
// code 0 asks the peer to stop. Later Reads return net.ErrClosed.
func (s *ReceiveStream) Close() error {
	s.c.cancelRead(0, true)
	return nil
}

// SetReadDeadline is as (*Stream).SetReadDeadline.
func (s *ReceiveStream) SetReadDeadline(t time.Time) error { return s.c.setReadDeadline(t) }
