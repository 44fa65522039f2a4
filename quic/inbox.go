package quic

import "sync"

// inbox is a connection's queue of received datagrams. The endpoint's reader
// goroutine puts datagrams in; the connection goroutine takes them all out at
// once. It never blocks the reader, so one slow connection cannot stall the
// endpoint; it is deep enough (a flow-control window's worth of packets) that
// a busy connection goroutine catches up instead of losing its own packets.
// Once the queue is deeper than inboxShallow, queued datagrams are copied out
// of the large shared receive buffers, so a queue costs at most a small
// buffer per datagram; beyond maxDatagramsQueuedPerConn it drops.
type inbox struct {
	mu     sync.Mutex
	q      []datagram
	signal chan struct{} // capacity 1: "the queue is not empty"
	closed bool
}

func newInbox() *inbox {
	return &inbox{signal: make(chan struct{}, 1)}
}

// put queues d and reports whether it was accepted. A rejected datagram
// stays owned by the caller.
func (in *inbox) put(d datagram) bool {
	in.mu.Lock()
	if in.closed || len(in.q) >= maxDatagramsQueuedPerConn {
		in.mu.Unlock()
		return false
	}
	if len(in.q) >= inboxShallow && d.rb.pool == &rxLargePool && len(d.b) <= maxPacketBufferSize {
		small := getRxBuf(false)
		d.b = small.b[:copy(small.b, d.b)]
		d.rb.unref()
		d.rb = small
	}
	in.q = append(in.q, d)
	in.mu.Unlock()
	select {
	case in.signal <- struct{}{}:
	default:
	}
	return true
}

// take swaps the queue with spare (emptied) and returns the datagrams
// queued so far. The caller hands the returned slice back as the next spare,
// so the two slices alternate and nothing is allocated in steady state.
func (in *inbox) take(spare []datagram) []datagram {
	in.mu.Lock()
	q := in.q
	in.q = spare[:0]
	in.mu.Unlock()
	return q
}

// close rejects further datagrams and releases the queued ones.
func (in *inbox) close() {
	in.mu.Lock()
	in.closed = true
	q := in.q
	in.q = nil
	in.mu.Unlock()
	for i := range q {
		q[i].release()
	}
}
