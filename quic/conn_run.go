package quic

import (
	"time"

	"github.com/tsumugi-quic/tsumugi/sched"
)

// maxDatagramsPerRound bounds how many datagrams the connection goroutine
// sends before it looks at its inbox again, so that ACKs keep flowing in
// during bulk sends.
const maxDatagramsPerRound = 32

// run is the connection goroutine: the only code that touches c.st. Each
// round it takes every queued datagram, every stream wake-up and request,
// runs due timers, sends what it can, then sleeps until the next input or
// timer.
func (c *Conn) run() error {
	st := &c.st
	growStack(0)
	defer c.finish()
	if err := c.startTLS(); err != nil {
		c.closeLocal(err, time.Now())
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		now := time.Now()
		st.now = now
		c.handleInbox(now)
		c.handleWakes()
		c.handleCloseRequest(now)
		c.handleMigrateRequest(now)
		if st.phase < phaseClosing {
			st.flow.update(c.consumed.Load(), now, st.rec.SmoothedRTT())
			st.control.checkStreamsBlocked()
		}
		c.handleTimers(now)
		if st.phase == phaseDone {
			return nil
		}
		more := c.send(now)
		if st.phase >= phaseClosing {
			c.signalClosed()
		}
		next := c.nextDeadline(now)
		if more {
			next = now
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		if !next.IsZero() {
			timer.Reset(next.Sub(now))
		}
		select {
		case <-c.inbox.signal:
		case <-c.wake.ch:
		case <-timer.C:
		}
	}
}

// handleInbox processes every datagram queued since the last round.
func (c *Conn) handleInbox(now time.Time) {
	st := &c.st
	dgs := c.inbox.take(st.spareDgrams)
	for i := range dgs {
		c.handleDatagram(&dgs[i], now)
		dgs[i].release()
		dgs[i] = datagram{}
	}
	st.spareDgrams = dgs[:0]
}

// handleWakes registers newly opened streams and tells the scheduler about
// streams that woke.
func (c *Conn) handleWakes() {
	st := &c.st
	ids, opened := c.wake.take(st.spareIDs, st.spareOpened)
	if st.phase >= phaseClosing {
		for _, core := range opened {
			core.Abort(st.closeErr)
		}
	} else {
		c.registerOpened(opened)
		for _, id := range ids {
			if core := st.streams.m[id]; core != nil {
				c.streamWoke(core)
			}
		}
	}
	clear(opened)
	st.spareIDs, st.spareOpened = ids[:0], opened[:0]
}

// handleTimers runs whatever timer is due.
func (c *Conn) handleTimers(now time.Time) {
	st := &c.st
	switch st.phase {
	case phaseClosing, phaseDraining:
		// The CONNECTION_CLOSE goes out before the connection ends, even
		// with no closing period (the endpoint is closing).
		if !now.Before(st.closeUntil) && !st.closeFrame.due {
			st.phase = phaseDone
		}
		return
	case phaseDone:
		return
	}
	if !st.handshakeComplete && !now.Before(st.handshakeDeadline) {
		c.closeSilently(ErrHandshakeTimeout)
		return
	}
	if !now.Before(st.lastActivity.Add(c.idleTimeout())) {
		c.closeSilently(ErrIdleTimeout)
		return
	}
	if t := st.rec.LossTimer(); !t.IsZero() && !now.Before(t) {
		probe := st.rec.OnLossTimer(now)
		for sp := sched.Initial; sp < sched.NumSpaces; sp++ {
			if n := int(probe.Packets[sp]); n > 0 {
				st.probes[sp] = max(st.probes[sp], n)
				if sp == sched.AppData {
					// RFC 9002 §6.2.4: probes carry data; with nothing new
					// to send, what the oldest packets in flight carried
					// (a lost HANDSHAKE_DONE or answer reaches a peer whose
					// ACKs are being lost, instead of bare PINGs).
					st.rec.OldestUnacked(sp, n, c.requeueFrames)
				} else {
					// RFC 9002 §6.2.4: a probe may carry data again; during
					// the handshake, resend every unacknowledged CRYPTO byte
					// rather than a bare PING.
					out := &st.levels[sp].cryptoOut
					out.OnLost(0, out.Sent())
				}
			}
		}
	}
	if ka := c.config.KeepAlivePeriod; ka > 0 && st.handshakeComplete && !st.lastAckEliciting.IsZero() &&
		!now.Before(st.lastAckEliciting.Add(ka)) {
		st.pingQueued[sched.AppData] = true
	}
	if st.graceful != nil {
		c.checkGracefulClose(now)
	}
	c.checkPathValidation(now)
	c.checkMigration(now)
}

// idleTimeout is the effective idle timeout: at least three PTOs (RFC 9000 §10.1).
func (c *Conn) idleTimeout() time.Duration {
	return max(c.st.idleTimeout, 3*c.st.rec.PTO())
}

// nextDeadline returns when the connection goroutine must wake up next,
// or the zero time.
func (c *Conn) nextDeadline(now time.Time) time.Time {
	st := &c.st
	var next time.Time
	earliest := func(t time.Time) {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	switch st.phase {
	case phaseDone:
		return now
	case phaseClosing, phaseDraining:
		return st.closeUntil
	}
	if !st.handshakeComplete {
		earliest(st.handshakeDeadline)
	}
	earliest(st.lastActivity.Add(c.idleTimeout()))
	earliest(st.rec.LossTimer())
	for sp := range st.levels {
		l := &st.levels[sp]
		if l.seal != nil || (sched.Space(sp) == sched.AppData && st.app.ready()) {
			earliest(l.recv.AckDeadline())
		}
	}
	if ka := c.config.KeepAlivePeriod; ka > 0 && !st.lastAckEliciting.IsZero() {
		earliest(st.lastAckEliciting.Add(ka))
	}
	if !st.pacingWait.IsZero() {
		earliest(st.pacingWait)
	}
	if st.graceful != nil {
		earliest(st.gracefulDeadline())
	}
	earliest(st.paths.nextDeadline())
	return next
}

// finish runs as the connection goroutine exits.
func (c *Conn) finish() {
	st := &c.st
	if st.closeErr == nil {
		st.closeErr = ErrEndpointClosed
	}
	c.cancel(st.closeErr)
	c.endMigration(st.closeErr)
	c.open.fail(st.closeErr)
	for _, core := range st.streams.m {
		core.Abort(st.closeErr)
	}
	// Streams opened but never registered.
	_, opened := c.wake.take(nil, nil)
	for _, core := range opened {
		core.Abort(st.closeErr)
	}
	if st.tls != nil {
		st.tls.Close()
	}
	c.inbox.close()
	st.metrics.Closed(closeReason(st.closeErr, st.handshakeComplete))
	st.traceClosed(time.Now(), st.closeErr)
	c.signalClosed()
	c.ep.connDone(c)
	close(c.exited)
}
