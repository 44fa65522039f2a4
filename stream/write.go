package stream

import (
	"context"
	"net"
	"os"
)

// write is Write for Stream and SendStream: it copies p into the send
// buffer, blocking while SendBuffer bytes are unacknowledged, and returns
// once all of p is buffered, or with the count written and the error that
// stopped it: write deadline (os.ErrDeadlineExceeded), local Close
// (net.ErrClosed), a reset (*StreamError: CancelWrite, or the peer's
// STOP_SENDING with Remote set), or Abort.
func (c *Core) write(p []byte) (int, error) {
	s := &c.send
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	n := 0
	buffered := false // data added since the last wake
	s.mu.Lock()
	for {
		if err := s.writeErrLocked(); err != nil {
			s.mu.Unlock()
			if buffered {
				c.wake()
			}
			return n, err
		}
		if n == len(p) {
			break
		}
		if room := s.bufMax - s.buf.Buffered(); room > 0 {
			m := min(room, len(p)-n)
			s.buf.Write(p[n : n+m])
			n += m
			buffered = true
			s.checkBlocked()
			continue
		}
		// The buffer is full of unacknowledged data. Make sure the
		// connection knows about what we added, then wait for acks.
		if buffered {
			s.mu.Unlock()
			c.wake()
			buffered = false
			s.mu.Lock()
			continue
		}
		ch := s.w.channel()
		s.mu.Unlock()
		<-ch
		s.mu.Lock()
	}
	s.mu.Unlock()
	if buffered {
		c.wake()
	}
	return n, nil
}

// writeErrLocked returns the error that stops a Write now, if any. Call
// with s.mu held.
func (s *sendHalf) writeErrLocked() error {
	switch {
	case s.closed:
		return net.ErrClosed
	case s.err != nil:
		return s.err
	case s.writeErr != nil:
		return s.writeErr
	case s.w.expired():
		return os.ErrDeadlineExceeded
	}
	return nil
}

// closeWrite queues the FIN after the buffered data; it does not block.
func (c *Core) closeWrite() {
	s := &c.send
	s.mu.Lock()
	wake := s.close()
	s.mu.Unlock()
	if wake {
		c.wake()
	}
}

// cancelWrite resets the sending half with code (RESET_STREAM).
func (c *Core) cancelWrite(code uint64) {
	s := &c.send
	s.mu.Lock()
	wake := s.reset(c.id, code, false)
	s.mu.Unlock()
	if wake {
		c.wake()
	}
}

// cancelRead abandons reading with code (STOP_SENDING); closed also makes
// later Reads return net.ErrClosed.
func (c *Core) cancelRead(code uint64, closed bool) {
	r := &c.recv
	r.mu.Lock()
	if closed {
		r.closed = true
	}
	wake := r.cancel(code) || r.terminal() // terminal: the connection may forget the stream
	credit := r.creditDue()
	r.mu.Unlock()
	if credit > 0 {
		c.owner.Consumed(credit)
	}
	if wake {
		c.wake()
	}
}

// waitAcked blocks until every byte through the FIN is acknowledged (nil),
// the sending half is reset or aborted (its error), or ctx is done
// (ctx.Err()).
func (c *Core) waitAcked(ctx context.Context) error {
	s := &c.send
	for {
		s.mu.Lock()
		switch {
		case s.state == sendDataRecvd:
			s.mu.Unlock()
			return nil
		case s.err != nil:
			err := s.err
			s.mu.Unlock()
			return err
		case s.writeErr != nil:
			err := s.writeErr
			s.mu.Unlock()
			return err
		}
		ch := s.doneChan()
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
