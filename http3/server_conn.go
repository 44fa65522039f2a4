package http3

import (
	"context"
	"sync"

	"github.com/tsumugi-quic/tsumugi/quic"
	"github.com/tsumugi-quic/tsumugi/stream"
)

// maxPendingPriorities bounds the PRIORITY_UPDATE frames kept for request
// streams that have not arrived yet (RFC 9218 §7.2 lets a server buffer
// them, within limits).
const maxPendingPriorities = 32

// serverConn is one connection a Server serves.
type serverConn struct {
	srv *Server
	h   *h3conn
	qc  *quic.Conn
	sem chan struct{} // a slot per running handler

	mu         sync.Mutex
	active     int                          // requests accepted and not yet done
	streams    map[stream.ID]*activeRequest // requests in progress, for PRIORITY_UPDATE
	pending    map[stream.ID]priority       // PRIORITY_UPDATE not yet applied
	nextID     stream.ID                    // lowest client request stream ID not yet accepted
	goAwaySent bool
	goAwayID   stream.ID     // requests with this ID or above are rejected
	drained    chan struct{} // closed once GOAWAY was sent and no request is active

	// Control-stream state from the client (RFC 9114 §5.2, §7.2.7).
	pushLimitSet   bool
	maxPushID      uint64 // from MAX_PUSH_ID
	clientGoAway   uint64 // from the client's GOAWAY, a push ID
	clientGoAwayOK bool

	reqWG sync.WaitGroup
}

// activeRequest is a request stream in progress.
type activeRequest struct {
	st          *stream.Stream
	prioApplied bool // its initial priority is set; updates apply at once
}

func newServerConn(srv *Server, qc *quic.Conn) *serverConn {
	sc := &serverConn{
		srv:     srv,
		qc:      qc,
		sem:     make(chan struct{}, srv.maxConcurrentHandlers()),
		streams: make(map[stream.ID]*activeRequest),
		pending: make(map[stream.ID]priority),
		drained: make(chan struct{}),
	}
	sc.h = newH3Conn(qc, true, srv.maxHeaderBytes())
	sc.h.onControl = sc.controlFrame
	return sc
}

// serve runs the connection: our control stream, the client's
// unidirectional streams, and a goroutine per request stream.
func (sc *serverConn) serve() error {
	ctx := sc.qc.Context()
	if err := sc.h.start(ctx); err != nil {
		sc.qc.CloseWithError(uint64(ErrCodeInternalError), "cannot open the control stream")
		sc.h.wait()
		return err
	}
	if sc.srv.stoppingNow() {
		sc.goAway()
	}
	for {
		st, err := sc.qc.AcceptStream(ctx)
		if err != nil {
			break
		}
		if !sc.admit(st) {
			// At or past our GOAWAY: rejected unprocessed, so the client
			// may retry it elsewhere (RFC 9114 §4.1.1, §5.2).
			st.CancelRead(uint64(ErrCodeRequestRejected))
			st.CancelWrite(uint64(ErrCodeRequestRejected))
			continue
		}
		select {
		case sc.sem <- struct{}{}:
		case <-ctx.Done():
			sc.done(st.ID())
			continue
		}
		sc.reqWG.Add(1)
		go func() {
			defer sc.reqWG.Done()
			sc.serveRequest(ctx, st)
			<-sc.sem
		}()
	}
	sc.reqWG.Wait()
	sc.h.wait()
	return connEndError(context.Cause(ctx))
}

// admit registers a new request stream, or reports that it comes at or
// after our GOAWAY.
func (sc *serverConn) admit(st *stream.Stream) bool {
	id := st.ID()
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.goAwaySent && id >= sc.goAwayID {
		return false
	}
	if id >= sc.nextID {
		sc.nextID = id + 4
	}
	sc.active++
	sc.streams[id] = &activeRequest{st: st}
	return true
}

// startPriority sets a new request stream's priority: that of a
// PRIORITY_UPDATE received so far, which overrides the header even when it
// came first (RFC 9218 §7), else that of the header. Later updates apply
// at once.
func (sc *serverConn) startPriority(id stream.ID, fromHeader priority) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	p := fromHeader
	if up, ok := sc.pending[id]; ok {
		delete(sc.pending, id)
		p = up
	}
	if ar := sc.streams[id]; ar != nil {
		ar.prioApplied = true
		ar.st.SetPriority(p.urgency, p.incremental)
	}
}

// done unregisters a request once its response is complete (or
// abandoned).
func (sc *serverConn) done(id stream.ID) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	delete(sc.streams, id)
	sc.active--
	if sc.goAwaySent && sc.active == 0 {
		sc.closeDrained()
	}
}

func (sc *serverConn) closeDrained() {
	select {
	case <-sc.drained:
	default:
		close(sc.drained)
	}
}

// goAway sends GOAWAY with the lowest request stream ID we have not
// accepted (RFC 9114 §5.2): the client must open no new request, and those
// at or above it will be rejected.
func (sc *serverConn) goAway() {
	sc.mu.Lock()
	if sc.goAwaySent {
		sc.mu.Unlock()
		return
	}
	sc.goAwaySent = true
	sc.goAwayID = sc.nextID
	id := sc.goAwayID
	if sc.active == 0 {
		sc.closeDrained()
	}
	sc.mu.Unlock()
	sc.h.writeControl(func(b []byte) []byte { return appendVarintFrame(b, frameGoAway, uint64(id)) })
}

// close ends the connection with H3_NO_ERROR (RFC 9114 §5.2).
func (sc *serverConn) close() {
	sc.qc.CloseWithError(uint64(ErrCodeNoError), "")
}

// controlFrame handles a frame from the client's control stream.
func (sc *serverConn) controlFrame(typ uint64, p []byte) error {
	switch typ {
	case frameGoAway:
		id, err := parseVarintPayload(p)
		if err != nil {
			return err
		}
		// A client's GOAWAY carries a push ID; it may only go down (§5.2).
		sc.mu.Lock()
		defer sc.mu.Unlock()
		if sc.clientGoAwayOK && id > sc.clientGoAway {
			return connError(ErrCodeIDError, "GOAWAY push ID increased")
		}
		sc.clientGoAway, sc.clientGoAwayOK = id, true
	case frameMaxPushID:
		id, err := parseVarintPayload(p)
		if err != nil {
			return err
		}
		sc.mu.Lock()
		defer sc.mu.Unlock()
		if sc.pushLimitSet && id < sc.maxPushID {
			return connError(ErrCodeIDError, "MAX_PUSH_ID decreased") // §7.2.7
		}
		sc.maxPushID, sc.pushLimitSet = id, true
	case frameCancelPush:
		if _, err := parseVarintPayload(p); err != nil {
			return err
		}
		// We never promise a push, so no push ID has been mentioned by a
		// PUSH_PROMISE (§7.2.3).
		return connError(ErrCodeIDError, "CANCEL_PUSH for a push never promised")
	case framePriorityUpdateRequest, framePriorityUpdatePush:
		id, value, err := parsePriorityUpdate(p)
		if err != nil {
			return err
		}
		return sc.priorityUpdate(typ == framePriorityUpdatePush, id, string(value))
	}
	return nil
}

// priorityUpdate applies a PRIORITY_UPDATE (RFC 9218 §7.2). For a request
// it must name a client-initiated bidirectional stream; for a push, a push
// ID within MAX_PUSH_ID. We push nothing, so the latter changes nothing.
func (sc *serverConn) priorityUpdate(push bool, elem uint64, value string) error {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if push {
		if !sc.pushLimitSet || elem > sc.maxPushID {
			return connError(ErrCodeIDError, "PRIORITY_UPDATE for a push ID above MAX_PUSH_ID")
		}
		return nil
	}
	id := stream.ID(elem)
	if id.Type() != stream.ClientBidi {
		return connError(ErrCodeIDError, "PRIORITY_UPDATE for a stream that is not a request stream")
	}
	p, ok := parsePriority(value, defaultPriority)
	if !ok {
		return nil
	}
	if ar := sc.streams[id]; ar != nil && ar.prioApplied {
		ar.st.SetPriority(p.urgency, p.incremental)
		return nil
	} else if ar == nil && id < sc.nextID {
		return nil // already finished
	}
	if _, ok := sc.pending[id]; !ok && len(sc.pending) >= maxPendingPriorities {
		for k := range sc.pending {
			delete(sc.pending, k)
			break
		}
	}
	sc.pending[id] = p
	return nil
}
