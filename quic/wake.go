package quic

import (
	"sync"

	"github.com/tsumugi-quic/tsumugi/stream"
)

// wakeQueue carries work from application goroutines to the connection
// goroutine: streams that have something new (stream.Owner.Wake), streams
// just opened locally, and bare signals (a close request, consumed bytes).
// Adding never blocks: it appends under a mutex and sets a capacity-1 signal.
type wakeQueue struct {
	mu      sync.Mutex
	ids     []stream.ID
	opened  []*stream.Core
	ch      chan struct{}
	pending bool
}

func (w *wakeQueue) init() { w.ch = make(chan struct{}, 1) }

func (w *wakeQueue) signal() {
	select {
	case w.ch <- struct{}{}:
	default:
	}
}

// add queues a stream that woke.
func (w *wakeQueue) add(id stream.ID) {
	w.mu.Lock()
	w.ids = append(w.ids, id)
	w.mu.Unlock()
	w.signal()
}

// addOpened queues a stream opened by the application. The connection
// registers it before it handles any wake of that stream.
func (w *wakeQueue) addOpened(s *stream.Core) {
	w.mu.Lock()
	w.opened = append(w.opened, s)
	w.mu.Unlock()
	w.signal()
}

// take returns what was queued, swapping in the spare slices (emptied) so
// that nothing is allocated in steady state.
func (w *wakeQueue) take(spareIDs []stream.ID, spareOpened []*stream.Core) ([]stream.ID, []*stream.Core) {
	w.mu.Lock()
	ids, opened := w.ids, w.opened
	w.ids, w.opened = spareIDs[:0], spareOpened[:0]
	w.mu.Unlock()
	return ids, opened
}
