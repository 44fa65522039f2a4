package quic

import (
	"errors"
	"time"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
	"github.com/tsumugi-quic/tsumugi/sched"
)

// closeFrame is the CONNECTION_CLOSE we send while closing.
type closeFrame struct {
	app       bool
	code      uint64
	frameType uint64
	reason    string
	due       bool      // send it with the next datagram
	lastSent  time.Time // for rate-limiting answers while closing
}

// maxReasonLen bounds the reason phrase we send.
const maxReasonLen = 256

// handleCloseRequest takes an application's Close or CloseWithError.
func (c *Conn) handleCloseRequest(now time.Time) {
	c.closeMu.Lock()
	r := c.closeReq
	c.closeMu.Unlock()
	st := &c.st
	if c.epClosing.Load() {
		// The socket goes away: no closing or draining period, and no
		// more patience for a graceful close (the CONNECTION_CLOSE still
		// goes out first if we were not closing yet).
		if st.phase < phaseClosing {
			c.closeWith(&ApplicationError{}, ErrEndpointClosed, now)
		}
		st.graceful = nil
		st.closeUntil = now
		return
	}
	if r == nil || st.graceful == r || st.phase >= phaseClosing {
		return
	}
	if r.graceful && st.handshakeComplete {
		st.graceful = r
		st.gracefulFrom = now
		c.checkGracefulClose(now)
		return
	}
	if r.err != nil {
		c.closeWith(&ApplicationError{Code: r.code, Reason: r.reason}, r.err, now)
		return
	}
	c.closeLocal(&ApplicationError{Code: r.code, Reason: r.reason}, now)
}

// gracefulDeadline is when a graceful Close stops waiting for
// acknowledgments: a few PTOs after the last progress.
func (st *connState) gracefulDeadline() time.Time {
	return st.gracefulFrom.Add(max(4*st.rec.PTO(), time.Second))
}

// checkGracefulClose closes once every stream the application closed for
// writing has all its data acknowledged (or was reset), or when patience
// runs out.
func (c *Conn) checkGracefulClose(now time.Time) {
	st := &c.st
	pending := false
	for _, core := range st.streams.m {
		if core.FinPending() {
			pending = true
			break
		}
	}
	if pending && now.Before(st.gracefulDeadline()) {
		return
	}
	r := st.graceful
	st.graceful = nil
	c.closeLocal(&ApplicationError{Code: r.code, Reason: r.reason}, now)
}

// noteProgress extends a graceful Close's patience when data is acknowledged.
func (st *connState) noteProgress(now time.Time) {
	if st.graceful != nil {
		st.gracefulFrom = now
	}
}

// closeLocal starts closing because of err: our error to send (an
// *ApplicationError, *TransportError or *wire.TransportError).
func (c *Conn) closeLocal(err error, now time.Time) {
	c.closeWith(err, err, now)
}

// closeWith sends CONNECTION_CLOSE built from sendErr and ends the
// connection with cause (RFC 9000 §10.2.1).
func (c *Conn) closeWith(sendErr, cause error, now time.Time) {
	st := &c.st
	if st.phase >= phaseClosing {
		return
	}
	var f closeFrame
	var app *ApplicationError
	var te *TransportError
	switch {
	case errors.As(sendErr, &app):
		f = closeFrame{app: true, code: app.Code, reason: app.Reason}
	case errors.As(sendErr, &te):
		f = closeFrame{code: uint64(te.Code), frameType: te.FrameType, reason: te.Reason}
	default:
		lt := localTransportError(sendErr)
		cause = lt
		f = closeFrame{code: uint64(lt.Code), frameType: lt.FrameType, reason: lt.Reason}
	}
	if len(f.reason) > maxReasonLen {
		f.reason = f.reason[:maxReasonLen]
	}
	f.due = true
	st.closeFrame = f
	st.phase = phaseClosing
	// RFC 9000 §10.2: the closing state lasts three PTOs (a SHOULD), to
	// answer a peer that missed our CONNECTION_CLOSE. A connection on a
	// socket of its own (Dial) sends it and stops at once, so that Close
	// leaves nothing running: the socket closes, and a peer that missed
	// the frame learns from its idle timeout.
	st.closeUntil = now.Add(3 * st.rec.PTO())
	if c.ownsEndpoint {
		st.closeUntil = now
	}
	// On a shared endpoint the closing period passes in a time-wait
	// record, once the CONNECTION_CLOSE is out (time_wait.go).
	c.startTimeWait(now, true)
	c.endStreams(cause)
}

// closeSilently ends the connection without sending anything (idle
// timeout, handshake timeout, stateless reset: RFC 9000 §10.1, §10.3).
func (c *Conn) closeSilently(cause error) {
	st := &c.st
	if st.phase < phaseClosing {
		c.endStreams(cause)
	}
	st.phase = phaseDone
}

// enterDraining handles the peer's CONNECTION_CLOSE (RFC 9000 §10.2.2).
func (c *Conn) enterDraining(cause error, now time.Time) {
	st := &c.st
	if st.phase >= phaseDraining {
		return
	}
	if st.phase < phaseClosing {
		c.endStreams(cause)
	}
	st.phase = phaseDraining
	st.closeUntil = now.Add(3 * st.rec.PTO())
	if c.ownsEndpoint {
		// Draining sends nothing; it only keeps late packets from being
		// answered. On a socket of our own, closing the socket does that.
		st.closeUntil = now
	}
	// On a shared endpoint a time-wait record does it (time_wait.go).
	c.startTimeWait(now, false)
}

// endStreams records why the connection ends and wakes everyone waiting.
func (c *Conn) endStreams(cause error) {
	st := &c.st
	if st.closeErr == nil {
		st.closeErr = cause
	}
	c.releaseCrypto()
	// Fail OpenStream before Context is done, so that no stream opens
	// once Context says the connection is gone.
	c.open.fail(st.closeErr)
	c.cancel(st.closeErr)
	for _, core := range st.streams.m {
		core.Abort(st.closeErr)
	}
}

// appendClose appends the CONNECTION_CLOSE frame for a packet of space sp.
// An application close in an Initial or Handshake packet becomes a
// transport APPLICATION_ERROR without the reason (RFC 9000 §10.2.3).
func (f *closeFrame) appendTo(b []byte, sp sched.Space, limit int) []byte {
	cf := wire.ConnectionCloseFrame{App: f.app, Code: f.code, FrameType: f.frameType, Reason: []byte(f.reason)}
	if f.app && sp != sched.AppData {
		cf = wire.ConnectionCloseFrame{Code: uint64(wire.ApplicationError)}
	}
	if len(b)+cf.Len() > limit {
		cf.Reason = nil
		if len(b)+cf.Len() > limit {
			return b
		}
	}
	return cf.Append(b)
}

// onClosingPacket answers a packet received while closing with our
// CONNECTION_CLOSE again, at most once per PTO/4 (RFC 9000 §10.2.1
// asks for a limit).
func (c *Conn) onClosingPacket(now time.Time) {
	st := &c.st
	if now.Sub(st.closeFrame.lastSent) >= st.rec.PTO()/4 {
		st.closeFrame.due = true
	}
}

// releaseCrypto gives the CRYPTO buffers of every level back to their pool:
// a connection that closes sends no more handshake data and needs none
// (RFC 9000 §10.2: a closing or draining endpoint may discard all state but
// what it needs to send or recognise CONNECTION_CLOSE). Otherwise a
// server's NewSessionTicket that the client closed before acknowledging
// would hold a 16 KiB chunk for the whole closing period, and every new
// handshake take a fresh one.
func (c *Conn) releaseCrypto() {
	for i := range c.st.levels {
		l := &c.st.levels[i]
		l.cryptoOut.Release()
		l.cryptoIn.Release()
	}
}
