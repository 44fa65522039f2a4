package http3

import (
	"math"
	"sync"

	"github.com/tsumugi-quic/tsumugi/quic"
	"github.com/tsumugi-quic/tsumugi/stream"
)

// clientConn is one connection of a Transport.
type clientConn struct {
	t    *Transport
	addr string
	qc   *quic.Conn
	h    *h3conn

	mu       sync.Mutex
	active   map[stream.ID]*clientStream // requests in progress
	opening  int                         // requests between reserve and register
	goAway   bool
	goAwayID stream.ID // requests on this ID or above were not processed
	closing  bool

	closeOnce sync.Once
	wg        sync.WaitGroup // body writers and the watchers
}

func newClientConn(t *Transport, addr string, qc *quic.Conn) *clientConn {
	maxHeader := uint64(defaultMaxHeaderBytes)
	if t.MaxResponseHeaderBytes > 0 {
		maxHeader = uint64(t.MaxResponseHeaderBytes)
	}
	cc := &clientConn{
		t:        t,
		addr:     addr,
		qc:       qc,
		active:   make(map[stream.ID]*clientStream),
		goAwayID: math.MaxUint64,
	}
	cc.h = newH3Conn(qc, false, maxHeader)
	cc.h.onControl = cc.controlFrame
	return cc
}

// start opens our control stream and watches the connection: a
// server-initiated bidirectional stream is H3_STREAM_CREATION_ERROR
// (RFC 9114 §6.1), and when the connection ends the Transport forgets it
// and its socket is released.
func (cc *clientConn) start() error {
	if err := cc.h.start(cc.qc.Context()); err != nil {
		return err
	}
	cc.wg.Add(2)
	go func() {
		defer cc.wg.Done()
		if _, err := cc.qc.AcceptStream(cc.qc.Context()); err == nil {
			cc.h.fail(connError(ErrCodeStreamCreationError, "server-initiated bidirectional stream"))
		}
	}()
	go func() {
		defer cc.wg.Done()
		<-cc.qc.Context().Done()
		cc.t.connClosed(cc)
		// Even after the peer closed it, a dialed connection holds its
		// UDP socket until closed.
		cc.close()
	}()
	return nil
}

// usable reports whether cc can take a new request.
func (cc *clientConn) usable() bool {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return !cc.goAway && !cc.closing && cc.qc.Context().Err() == nil
}

// idle reports whether cc has no request in progress.
func (cc *clientConn) idle() bool {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	return len(cc.active) == 0 && cc.opening == 0
}

// reserve counts a request about to open a stream; false if the
// connection takes no more.
func (cc *clientConn) reserve() bool {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.goAway || cc.closing {
		return false
	}
	cc.opening++
	return true
}

// register records the stream of a reserved request; false if a GOAWAY
// that arrived meanwhile excludes it.
func (cc *clientConn) register(cs *clientStream) bool {
	cc.mu.Lock()
	if cs.st.ID() < cc.goAwayID {
		cc.opening--
		cc.active[cs.st.ID()] = cs
		cc.mu.Unlock()
		return true
	}
	cc.mu.Unlock()
	cc.unreserve()
	return false
}

// unreserve is register's failure path.
func (cc *clientConn) unreserve() {
	cc.mu.Lock()
	cc.opening--
	drained := cc.goAway && len(cc.active) == 0 && cc.opening == 0
	cc.mu.Unlock()
	if drained {
		cc.close()
	}
}

// finished unregisters a request; after GOAWAY, the last one closes the
// connection (RFC 9114 §5.2).
func (cc *clientConn) finished(cs *clientStream) {
	cc.mu.Lock()
	delete(cc.active, cs.st.ID())
	drained := cc.goAway && len(cc.active) == 0 && cc.opening == 0
	cc.mu.Unlock()
	if drained {
		cc.close()
	}
}

// close ends the connection with H3_NO_ERROR.
func (cc *clientConn) close() {
	cc.mu.Lock()
	cc.closing = true
	cc.mu.Unlock()
	cc.closeOnce.Do(func() {
		cc.qc.CloseWithError(uint64(ErrCodeNoError), "")
	})
}

// wait waits for the connection's goroutines after it ended.
func (cc *clientConn) wait() {
	cc.wg.Wait()
	cc.h.wait()
}

// controlFrame handles a frame from the server's control stream.
func (cc *clientConn) controlFrame(typ uint64, p []byte) error {
	switch typ {
	case frameGoAway:
		v, err := parseVarintPayload(p)
		if err != nil {
			return err
		}
		return cc.goAwayReceived(stream.ID(v))
	case frameCancelPush:
		if _, err := parseVarintPayload(p); err != nil {
			return err
		}
		// We never send MAX_PUSH_ID: any push ID is above the limit
		// (§7.2.3).
		return connError(ErrCodeIDError, "CANCEL_PUSH, but no push was allowed")
	case frameMaxPushID:
		return connError(ErrCodeFrameUnexpected, "MAX_PUSH_ID from a server") // §7.2.7
	case framePriorityUpdateRequest, framePriorityUpdatePush:
		// Only clients send PRIORITY_UPDATE (RFC 9218 §7.2).
		return connError(ErrCodeFrameUnexpected, "PRIORITY_UPDATE from a server")
	}
	return nil
}

// goAwayReceived handles the server's GOAWAY (RFC 9114 §5.2): the ID must
// be a client-initiated bidirectional stream ID and never grow. Requests
// at or above it were not processed: they fail as retryable; the others
// go on.
func (cc *clientConn) goAwayReceived(id stream.ID) error {
	if id.Type() != stream.ClientBidi {
		return connError(ErrCodeIDError, "GOAWAY with a stream ID that is not a request stream")
	}
	cc.mu.Lock()
	if cc.goAway && id > cc.goAwayID {
		cc.mu.Unlock()
		return connError(ErrCodeIDError, "GOAWAY stream ID increased")
	}
	cc.goAway = true
	cc.goAwayID = id
	var rejected []*clientStream
	for sid, cs := range cc.active {
		if sid >= id {
			rejected = append(rejected, cs)
		}
	}
	drained := len(cc.active) == len(rejected) && cc.opening == 0
	cc.mu.Unlock()
	cc.t.forget(cc)
	for _, cs := range rejected {
		cs.reject()
	}
	if drained && len(rejected) == 0 {
		cc.close()
	}
	return nil
}
