package stream

import (
	"context"
	"time"
)

// SendStream is the sending half of a unidirectional stream we opened.
// Every method is safe for concurrent use; concurrent Writes are
// serialised.
type SendStream struct{ c *Core }

// ID returns the stream's ID.
func (s *SendStream) ID() ID { return s.c.id }

// Write is as (*Stream).Write.
func (s *SendStream) Write(p []byte) (int, error) { return s.c.write(p) }

// Close sends the FIN after the buffered data without blocking; later
// Writes return net.ErrClosed.
func (s *SendStream) Close() error {
	s.c.closeWrite()
	return nil
}

// CancelWrite is as (*Stream).CancelWrite.
func (s *SendStream) CancelWrite(code uint64) { s.c.cancelWrite(code) }

// SetWriteDeadline is as (*Stream).SetWriteDeadline.
func (s *SendStream) SetWriteDeadline(t time.Time) error { return s.c.setWriteDeadline(t) }

// SetPriority is as (*Stream).SetPriority.
func (s *SendStream) SetPriority(urgency uint8, incremental bool) {
	s.c.setPriority(urgency, incremental)
}

// WaitAcked is as (*Stream).WaitAcked.
func (s *SendStream) WaitAcked(ctx context.Context) error { return s.c.waitAcked(ctx) }
