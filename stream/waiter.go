package stream

import (
	"sync"
	"time"
)

// waiter is how a blocked Read, Write or WaitAcked sleeps and how the
// connection goroutine, a deadline timer or another user call wakes it. It
// belongs to one stream half and is guarded by that half's mutex.
//
// wake is a capacity-1 channel: whoever changes the half's state sends on it
// without blocking (a pending signal is enough), and the one blocked caller
// (calls are serialised per direction) receives from it after dropping the
// mutex. A signal sent between the caller's unlock and its receive stays in
// the channel, so no wake-up is lost. The channel is made the first time a
// call has to block, and the deadline timer the first time a deadline is
// set, so an idle stream holds neither.
type waiter struct {
	wake chan struct{}
	dl   *deadline
}

// deadline is a Read or Write deadline and the timer that wakes the blocked
// call when it passes.
type deadline struct {
	t     time.Time
	timer *time.Timer
}

// channel returns the wake channel, making it on first use. Call with the
// half's mutex held.
func (w *waiter) channel() <-chan struct{} {
	if w.wake == nil {
		w.wake = make(chan struct{}, 1)
	}
	return w.wake
}

// signal wakes the blocked call, if any. Call with the half's mutex held.
func (w *waiter) signal() {
	if w.wake != nil {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// expired reports whether the deadline has passed. Call with the half's
// mutex held.
func (w *waiter) expired() bool {
	return w.dl != nil && !w.dl.t.IsZero() && !time.Now().Before(w.dl.t)
}

// setDeadline sets the deadline to t (zero: none) and wakes the blocked
// call so that it checks the new deadline at once. Call with mu held; mu is
// the half's mutex, which the timer takes when it fires.
func (w *waiter) setDeadline(mu *sync.Mutex, t time.Time) {
	if w.dl == nil {
		if t.IsZero() {
			return
		}
		w.dl = &deadline{}
		w.dl.timer = time.AfterFunc(time.Hour, func() {
			mu.Lock()
			if !w.dl.t.IsZero() {
				if d := time.Until(w.dl.t); d > 0 {
					w.dl.timer.Reset(d) // fired early by the wall clock
				} else {
					w.signal()
				}
			}
			mu.Unlock()
		})
		w.dl.timer.Stop()
	}
	w.dl.t = t
	if t.IsZero() {
		w.dl.timer.Stop()
	} else if d := time.Until(t); d > 0 {
		w.dl.timer.Reset(d)
	} else {
		w.dl.timer.Stop()
	}
	w.signal()
}

// stop stops the deadline timer, for a half that will never block again.
// Call with the half's mutex held.
func (w *waiter) stop() {
	if w.dl != nil {
		w.dl.timer.Stop()
	}
}
