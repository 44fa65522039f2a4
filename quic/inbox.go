package quic

import "sync"

// inbox is a connection's queue of received datagrams. The endpoint's reader
// goroutine puts datagrams in; the connection goroutine takes them all out at
// once. It never blocks the reader: when the queue is full the datagram is
// dropped (the sender's loss recovery repairs that), so one slow connection
// cannot stall the endpoint.
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
