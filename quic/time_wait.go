package quic

import (
	"net/netip"
	"time"
)

// A connection on a shared endpoint (a listener's, or one several dials
// share) that closes or drains leaves a time-wait record in its endpoint
// for the closing or draining period (RFC 9000 §10.2) and ends at once: its
// goroutine, streams, keys and loss-recovery state go away, and the record
// keeps only what the period needs. RFC 9000 §10.2: "An endpoint's selected
// connection ID and the QUIC version are sufficient information to identify
// packets for a closing connection; the endpoint MAY discard all other
// connection state."
//
// While the record lasts, datagrams for the connection's IDs are absorbed:
// not taken for a new connection, not answered with a stateless reset. A
// closing record also holds the datagram that carried our CONNECTION_CLOSE
// and sends it again in answer, at most once per quarter PTO (§10.2.1: "An
// endpoint in the closing state sends a packet containing a
// CONNECTION_CLOSE frame in response to any incoming packet that it
// attributes to the connection ... [it] MAY send the same packet"), unless
// the connection never validated the peer's address (§8.1). A draining
// record sends nothing (§10.2.2).
//
// A connection that owns its endpoint (Dial) needs no record: its socket
// closes with it.
type timeWait struct {
	until time.Time
	keys  []string // the routes the connection held, all pointing here

	// Closing only: the CONNECTION_CLOSE datagram, where it went, and the
	// rate limit of its repetitions.
	packet   []byte
	remote   netip.AddrPort
	sock     int
	interval time.Duration
	lastSent time.Time
}

// timeWaits is an endpoint's set of time-wait records, under its mutex.
type timeWaits struct {
	byKey map[string]*timeWait
	// queue holds the records in the order they were made, which is about
	// the order they end in (their periods differ with the PTO): expired
	// ones are dropped from its front as datagrams and closes come.
	queue []*timeWait
}

// add routes keys to tw.
func (ts *timeWaits) add(tw *timeWait, now time.Time) {
	ts.expire(now)
	if ts.byKey == nil {
		ts.byKey = make(map[string]*timeWait)
	}
	for _, k := range tw.keys {
		ts.byKey[k] = tw
	}
	ts.queue = append(ts.queue, tw)
}

// lookup returns the live record for connection ID key, or nil.
func (ts *timeWaits) lookup(key string, now time.Time) *timeWait {
	tw := ts.byKey[key]
	if tw == nil || !now.Before(tw.until) {
		return nil
	}
	return tw
}

// expire drops the records at the front of the queue whose period ended.
func (ts *timeWaits) expire(now time.Time) {
	n := 0
	for n < len(ts.queue) && !now.Before(ts.queue[n].until) {
		for _, k := range ts.queue[n].keys {
			if ts.byKey[k] == ts.queue[n] {
				delete(ts.byKey, k)
			}
		}
		ts.queue[n] = nil
		n++
	}
	if n > 0 {
		ts.queue = ts.queue[n:]
		if len(ts.queue) == 0 {
			ts.queue = nil // let the backing array go
		}
	}
}

// absorbTimeWait takes d, for connection ID dcid, if a time-wait record
// holds dcid, and answers it as the record says; it reports whether it
// took d.
func (e *Endpoint) absorbTimeWait(d datagram, dcid []byte) bool {
	e.mu.Lock()
	if len(e.timeWaits.queue) == 0 {
		e.mu.Unlock()
		return false
	}
	now := time.Now()
	e.timeWaits.expire(now)
	tw := e.timeWaits.lookup(string(dcid), now)
	var answer []byte
	if tw != nil && tw.answer(now) {
		answer = tw.packet
	}
	e.mu.Unlock()
	if tw == nil {
		return false
	}
	d.release()
	if answer != nil {
		if socks := *e.socks.Load(); tw.sock < len(socks) {
			socks[tw.sock].writeTrain(answer, len(answer), tw.remote, 0)
		}
	}
	return true
}

// answer reports whether a datagram that arrived for tw at now gets the
// CONNECTION_CLOSE again, and notes that it does.
func (tw *timeWait) answer(now time.Time) bool {
	if tw.packet == nil || now.Sub(tw.lastSent) < tw.interval {
		return false
	}
	tw.lastSent = now
	return true
}

// startTimeWait prepares the record a closing or draining connection will
// leave when it ends, and ends the period of the connection itself. It
// returns false, and changes nothing, for a connection that owns its
// endpoint or whose endpoint is closing.
func (c *Conn) startTimeWait(now time.Time, closing bool) bool {
	st := &c.st
	if c.ownsEndpoint || c.epClosing.Load() {
		return false
	}
	pto := st.rec.PTO()
	st.timeWait = &timeWait{until: now.Add(3 * pto)}
	if closing {
		st.timeWait.interval = pto / 4
	}
	st.closeUntil = now
	return true
}

// noteCloseSent keeps the datagram d that carried our CONNECTION_CLOSE for
// the time-wait record.
func (c *Conn) noteCloseSent(d []byte, now time.Time) {
	st := &c.st
	tw := st.timeWait
	if tw == nil || tw.packet != nil || st.phase != phaseClosing {
		return
	}
	if !c.isClient && !st.addrValidated {
		// Answers to an address we never validated could make us an
		// amplifier (RFC 9000 §8.1): the first CONNECTION_CLOSE, within
		// the connection's limit, is all it gets.
		return
	}
	tw.packet = append([]byte(nil), d...)
	tw.remote, tw.sock, tw.lastSent = st.remote, st.sock, now
}
