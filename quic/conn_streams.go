package quic

import (
	"context"
	"sync"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
	"github.com/tsumugi-quic/tsumugi/stream"
)

// dir indexes per-direction state: bidirectional or unidirectional streams.
type dir int

const (
	bidi dir = 0
	uni  dir = 1
)

func dirOf(id stream.ID) dir {
	if id.IsBidi() {
		return bidi
	}
	return uni
}

// opener hands out local stream IDs. It is shared between OpenStream
// callers and the connection goroutine (which raises the limits when the
// peer's MAX_STREAMS arrives) and guarded by its own mutex.
type opener struct {
	c      *Conn
	mu     sync.Mutex
	next   [2]uint64 // next stream number to open
	limit  [2]uint64 // the peer's MAX_STREAMS
	wanted [2]bool   // someone waited at limit: send STREAMS_BLOCKED
	// peerMaxStreamData is the peer's initial send limit for the streams
	// we open: initial_max_stream_data_bidi_remote and _uni (RFC 9000 §18.2).
	peerMaxStreamData [2]uint64
	err               error // set when the connection is gone
	signal            chan struct{}
}

func (o *opener) init(c *Conn) {
	o.c = c
	o.signal = make(chan struct{}, 1)
}

func (o *opener) notify() {
	select {
	case o.signal <- struct{}{}:
	default:
	}
}

// open waits for credit and opens a local stream.
func (o *opener) open(ctx context.Context, bidirectional bool) (*stream.Core, error) {
	d := uni
	t := stream.ClientUni
	if bidirectional {
		d, t = bidi, stream.ClientBidi
	}
	if !o.c.isClient {
		t |= 1 // the server-initiated type of the same direction
	}
	for {
		o.mu.Lock()
		if o.err != nil {
			err := o.err
			o.mu.Unlock()
			return nil, err
		}
		if o.next[d] < o.limit[d] {
			id := stream.IDFor(t, o.next[d])
			o.next[d]++
			more := o.next[d] < o.limit[d]
			core := stream.New(id, o.c.isClient, o.c, o.c.streamConfigWith(o.peerMaxStreamData[d]))
			// Queue it while holding the lock so that streams reach the
			// connection goroutine in ID order.
			o.c.wake.addOpened(core)
			o.mu.Unlock()
			if more {
				o.notify() // let another waiter through
			}
			return core, nil
		}
		if !o.wanted[d] {
			o.wanted[d] = true
			o.c.wake.signal()
		}
		o.mu.Unlock()
		select {
		case <-o.signal:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-o.c.ctx.Done():
			o.notify()
		}
	}
}

// setPeerMaxStreamData records the peer's initial per-stream limits for
// streams we open; called on the connection goroutine.
func (o *opener) setPeerMaxStreamData(bidiRemote, uniLimit uint64) {
	o.mu.Lock()
	o.peerMaxStreamData = [2]uint64{bidiRemote, uniLimit}
	o.mu.Unlock()
}

// raise sets the peer's limit (MAX_STREAMS); called on the connection goroutine.
func (o *opener) raise(d dir, limit uint64) {
	o.mu.Lock()
	if limit > o.limit[d] {
		o.limit[d] = limit
		o.wanted[d] = false
	}
	o.mu.Unlock()
	o.notify()
}

// opened reports how many local streams of direction d exist.
func (o *opener) opened(d dir) uint64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.next[d]
}

// blocked reports the limit at which an opener waits, if one does.
func (o *opener) blocked(d dir) (limit uint64, ok bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.limit[d], o.wanted[d]
}

func (o *opener) fail(err error) {
	o.mu.Lock()
	if o.err == nil {
		o.err = err
	}
	o.mu.Unlock()
	o.notify()
}

// peerStreamConfig returns the configuration of a stream the peer opened;
// it runs on the connection goroutine. Its send limit (bidirectional
// streams only) is the peer's initial_max_stream_data_bidi_local (RFC 9000
// §18.2).
func (c *Conn) peerStreamConfig() stream.Config {
	return c.streamConfigWith(c.st.peerParams.InitialMaxStreamDataBidiLocal)
}

// streamConfigWith returns a stream's configuration with the peer's
// initial limit peerMax. Our windows are the same for every stream type.
func (c *Conn) streamConfigWith(peerMax uint64) stream.Config {
	return stream.Config{
		SendBuffer:         c.config.StreamSendBuffer,
		InitialWindow:      c.config.InitialStreamReceiveWindow,
		MaxWindow:          c.config.MaxStreamReceiveWindow,
		PeerInitialMaxData: peerMax,
	}
}

// acceptQueue holds streams the peer opened until the application accepts
// them. Its length is bounded by our MAX_STREAMS limit.
type acceptQueue struct {
	mu     sync.Mutex
	q      []*stream.Core
	signal chan struct{}
}

func (a *acceptQueue) init() { a.signal = make(chan struct{}, 1) }

func (a *acceptQueue) push(s *stream.Core) {
	a.mu.Lock()
	a.q = append(a.q, s)
	a.mu.Unlock()
	select {
	case a.signal <- struct{}{}:
	default:
	}
}

func (a *acceptQueue) accept(ctx, connCtx context.Context) (*stream.Core, error) {
	for {
		a.mu.Lock()
		if len(a.q) > 0 {
			s := a.q[0]
			a.q[0] = nil
			a.q = a.q[1:]
			more := len(a.q) > 0
			a.mu.Unlock()
			if more {
				select {
				case a.signal <- struct{}{}:
				default:
				}
			}
			return s, nil
		}
		a.mu.Unlock()
		select {
		case <-a.signal:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-connCtx.Done():
			return nil, context.Cause(connCtx)
		}
	}
}

// streamsState is the connection goroutine's view of the streams.
type streamsState struct {
	m          map[stream.ID]*stream.Core
	peerOpened [2]uint64 // peer streams opened so far (including implicitly)
	peerLimit  [2]uint64 // the MAX_STREAMS we advertised
	peerClosed [2]uint64 // peer streams finished and forgotten
	sendLimit  [2]bool   // a MAX_STREAMS frame is due
	maxIn      [2]uint64 // Config.MaxIncoming(Uni)Streams
}

// streamFor returns the stream a frame of type ft refers to, opening peer
// streams as RFC 9000 §3.2 says (opening stream n opens every lower one of
// its type). It returns nil, nil for a stream that is already finished and
// forgotten: the frame is then ignored.
func (c *Conn) streamFor(id stream.ID, ft uint64) (*stream.Core, error) {
	s := &c.st.streams
	if core := s.m[id]; core != nil {
		return core, nil
	}
	t := id.Type()
	d := dirOf(id)
	if t.Local(c.isClient) {
		if id.Num() >= c.open.opened(d) {
			// RFC 9000 §19.8 and neighbours: a frame for a local stream
			// we have not opened yet.
			return nil, &wire.TransportError{Code: wire.StreamStateError, FrameType: ft, Reason: "frame for a stream not yet opened"}
		}
		return nil, nil
	}
	n := id.Num()
	if n >= s.peerLimit[d] {
		return nil, &wire.TransportError{Code: wire.StreamLimitError, FrameType: ft, Reason: "stream beyond MAX_STREAMS"}
	}
	if n < s.peerOpened[d] {
		return nil, nil
	}
	var core *stream.Core
	for i := s.peerOpened[d]; i <= n; i++ {
		sid := stream.IDFor(t, i)
		core = stream.New(sid, c.isClient, c, c.peerStreamConfig())
		s.m[sid] = core
		c.st.metrics.StreamOpened(uint8(sid.Type()))
		if d == bidi {
			c.acceptBidi.push(core)
		} else {
			c.acceptUni.push(core)
		}
	}
	s.peerOpened[d] = n + 1
	return core, nil
}

// registerOpened adds streams the application opened.
func (c *Conn) registerOpened(opened []*stream.Core) {
	for _, core := range opened {
		id := stream.ID(core.StreamID())
		c.st.streams.m[id] = core
		c.st.metrics.StreamOpened(uint8(id.Type()))
		c.streamWoke(core)
	}
}

// streamWoke tells the scheduler what a stream now has to send, and forgets
// the stream once both its halves are finished.
func (c *Conn) streamWoke(core *stream.Core) {
	w := core.Work()
	if w&stream.WorkControl != 0 {
		c.st.sched.ActivateControl(core)
	}
	if w&stream.WorkRetransmit != 0 {
		c.st.sched.ActivateRetransmit(core)
	}
	if w&stream.WorkNewData != 0 {
		u, inc := core.Priority()
		c.st.sched.Activate(core, u, inc)
	}
	if core.Done() {
		c.forgetStream(core)
	}
}

// forgetStream drops a finished stream; for a peer's stream it may raise
// the peer's limit (MAX_STREAMS, RFC 9000 §4.6).
func (c *Conn) forgetStream(core *stream.Core) {
	id := stream.ID(core.StreamID())
	s := &c.st.streams
	if s.m[id] != core {
		return
	}
	delete(s.m, id)
	c.st.sched.Remove(uint64(id))
	c.st.metrics.StreamClosed(uint8(id.Type()))
	if id.Type().Local(c.isClient) {
		return
	}
	d := dirOf(id)
	s.peerClosed[d]++
	if lim := s.peerClosed[d] + s.maxIn[d]; lim > s.peerLimit[d] {
		s.peerLimit[d] = lim
		s.sendLimit[d] = true
	}
}
