package stream

import (
	"io"
	"net"
	"os"
	"time"
)

// read is Read for Stream and ReceiveStream: it blocks until data, FIN
// (io.EOF once every byte was read), a reset (*StreamError with Remote
// set), the read deadline (os.ErrDeadlineExceeded), a local Close
// (net.ErrClosed) or CancelRead (*StreamError), or Abort.
func (c *Core) read(p []byte) (int, error) {
	r := &c.recv
	rtt := c.owner.SmoothedRTT() // the owner is never called under a stream lock
	r.readMu.Lock()
	defer r.readMu.Unlock()
	r.mu.Lock()
	for {
		n, err, ok := c.tryRead(p, rtt)
		if ok {
			credit := r.creditDue()
			wake := r.maxCtl == ctlPending && n > 0 || err != nil && r.terminal() // terminal: the connection may forget the stream
			r.mu.Unlock()
			if credit > 0 {
				c.owner.Consumed(credit)
			}
			if wake {
				c.wake()
			}
			return n, err
		}
		ch := r.w.channel()
		r.mu.Unlock()
		<-ch
		r.mu.Lock()
	}
}

// tryRead does what a Read can do without waiting; ok is false when the
// caller has to wait. Call with r.mu held.
func (c *Core) tryRead(p []byte, rtt time.Duration) (n int, err error, ok bool) {
	r := &c.recv
	switch {
	case r.closed:
		return 0, net.ErrClosed, true
	case r.stopped:
		return 0, &StreamError{StreamID: c.id, Code: r.stopCode}, true
	}
	switch r.state {
	case recvResetRecvd, recvResetRead:
		r.finishRead(recvResetRead) // RFC 9000 §3.2: App Read Reset
		return 0, &StreamError{StreamID: c.id, Code: r.resetCode, Remote: true}, true
	case recvDataRead:
		return 0, io.EOF, true
	}
	if r.w.expired() {
		return 0, os.ErrDeadlineExceeded, true
	}
	if r.buf.Readable() > 0 {
		if len(p) == 0 {
			return 0, nil, true
		}
		n = r.buf.Read(p)
		if r.state == recvDataRecvd && r.buf.Offset() == r.finalSize {
			r.finishRead(recvDataRead) // RFC 9000 §3.2: App Read All Data
		} else {
			r.onConsumed(rtt)
		}
		return n, nil, true
	}
	if r.state == recvDataRecvd {
		r.finishRead(recvDataRead) // an empty stream, or a FIN after the data was read
		return 0, io.EOF, true
	}
	if r.err != nil {
		// The connection is gone: data that arrived before is read first
		// (a peer may send its last bytes and FIN, then CONNECTION_CLOSE),
		// then the connection's error.
		r.buf.Release()
		return 0, r.err, true
	}
	if len(p) == 0 {
		return 0, nil, true
	}
	return 0, nil, false
}
