package stream

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
	"github.com/tsumugi-quic/tsumugi/sched"
)

// pair joins two endpoints' views of the same streams in memory. Its
// goroutine plays both connection goroutines: on a Wake it pulls frames from
// the woken streams into 1200-byte packets, parses them, delivers them to
// the other side's Core and acknowledges them, or, when drop says so,
// declares them lost. Streams are served round-robin, one packet each per
// turn, as a scheduler would.
type pair struct {
	ends [2]*pairEnd // client, server
	kick chan struct{}
	quit chan struct{}
	done chan struct{}
	drop func(n int) bool // packet number -> lost; nil: never

	mu       sync.Mutex
	err      error // first error a handler returned
	packets  int
	frames   atomic.Int64 // STREAM frames delivered
	stopOnce sync.Once
}

// pairEnd is one side: an Owner for its streams.
type pairEnd struct {
	p        *pair
	isClient bool
	consumed atomic.Int64

	mu      sync.Mutex
	streams map[ID]*Core
	queued  map[ID]bool
	queue   []ID
	active  []ID // streams with something to send (pair goroutine only)
}

func newPair(t testing.TB, drop func(int) bool) *pair {
	p := &pair{
		kick: make(chan struct{}, 1),
		quit: make(chan struct{}),
		done: make(chan struct{}),
		drop: drop,
	}
	for i := range p.ends {
		p.ends[i] = &pairEnd{p: p, isClient: i == 0, streams: map[ID]*Core{}, queued: map[ID]bool{}}
	}
	go p.run()
	t.Cleanup(p.stop)
	return p
}

// open creates stream id on both sides with cfg; each side's peer limit is
// the other's initial window.
func (p *pair) open(id ID, cfg Config) (client, server *Core) {
	cfg = cfg.withDefaults()
	cfg.PeerInitialMaxData = cfg.InitialWindow
	cores := [2]*Core{}
	for i, e := range p.ends {
		c := New(id, e.isClient, e, cfg)
		e.mu.Lock()
		e.streams[id] = c
		e.mu.Unlock()
		cores[i] = c
	}
	return cores[0], cores[1]
}

// stop ends the pair goroutine and aborts every stream.
func (p *pair) stop() {
	p.stopOnce.Do(func() {
		close(p.quit)
		<-p.done
		for _, e := range p.ends {
			e.mu.Lock()
			for _, c := range e.streams {
				c.Abort(net.ErrClosed)
			}
			e.mu.Unlock()
		}
	})
}

func (p *pair) firstErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

func (e *pairEnd) Wake(id ID) {
	e.mu.Lock()
	if !e.queued[id] {
		e.queued[id] = true
		e.queue = append(e.queue, id)
	}
	e.mu.Unlock()
	select {
	case e.p.kick <- struct{}{}:
	default:
	}
}

func (e *pairEnd) Consumed(n int)             { e.consumed.Add(int64(n)) }
func (e *pairEnd) SmoothedRTT() time.Duration { return time.Millisecond }
func (e *pairEnd) LocalAddr() net.Addr        { return e.addr(e.isClient) }
func (e *pairEnd) RemoteAddr() net.Addr       { return e.addr(!e.isClient) }

func (e *pairEnd) addr(client bool) net.Addr {
	if client {
		return fakeAddr("client")
	}
	return fakeAddr("server")
}

func (e *pairEnd) peer() *pairEnd {
	if e.isClient {
		return e.p.ends[1]
	}
	return e.p.ends[0]
}

func (e *pairEnd) core(id ID) *Core {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.streams[id]
}

// takeWoken moves woken streams with work to the active list.
func (e *pairEnd) takeWoken() {
	e.mu.Lock()
	q := e.queue
	e.queue = nil
	clear(e.queued)
	e.mu.Unlock()
	for _, id := range q {
		c := e.core(id)
		if c == nil || c.Work() == 0 {
			continue
		}
		dup := false
		for _, a := range e.active {
			dup = dup || a == id
		}
		if !dup {
			e.active = append(e.active, id)
		}
	}
}

func (p *pair) run() {
	defer close(p.done)
	buf := make([]byte, 0, 1200)
	rec := &sched.Record{}
	for {
		select {
		case <-p.quit:
			return
		case <-p.kick:
		}
		for {
			busy := false
			for _, e := range p.ends {
				e.takeWoken()
				// One packet per active stream per turn.
				kept := e.active[:0]
				for _, id := range e.active {
					c := e.core(id)
					rec.Reset()
					credit := uint64(1 << 62)
					b := buildPacket(c, buf, 1200, &credit, rec)
					if len(b) == 0 {
						continue // nothing left: inactive until the next wake
					}
					busy = true
					kept = append(kept, id)
					p.transmit(e, b, c, rec)
				}
				e.active = kept
			}
			if !busy {
				break
			}
			select {
			case <-p.quit:
				return
			default:
			}
		}
	}
}

// transmit delivers one packet from e to its peer, or loses it, and tells
// the sending stream what happened.
func (p *pair) transmit(e *pairEnd, b []byte, from *Core, rec *sched.Record) {
	p.mu.Lock()
	n := p.packets
	p.packets++
	p.mu.Unlock()
	if p.drop != nil && p.drop(n) {
		for _, f := range rec.Frames {
			from.OnLost(f)
		}
		return
	}
	to := e.peer()
	if err := to.deliver(b); err != nil {
		p.mu.Lock()
		if p.err == nil {
			p.err = err
		}
		p.mu.Unlock()
	}
	for _, f := range rec.Frames {
		from.OnAcked(f)
	}
}

// deliver parses a packet's frames and hands them to the streams.
func (e *pairEnd) deliver(b []byte) error {
	for len(b) > 0 {
		ft := uint64(b[0])
		var (
			n   int
			err error
		)
		switch {
		case wire.IsStreamFrameType(ft):
			var f wire.StreamFrame
			if f, n, err = wire.ParseStreamFrame(b); err == nil {
				_, err = e.core(ID(f.StreamID)).HandleStream(f)
				e.p.frames.Add(1)
			}
		case ft == wire.FrameTypeResetStream:
			var f wire.ResetStreamFrame
			if f, n, err = wire.ParseResetStreamFrame(b); err == nil {
				_, err = e.core(ID(f.StreamID)).HandleResetStream(f.Code, f.FinalSize)
			}
		case ft == wire.FrameTypeStopSending:
			var f wire.StopSendingFrame
			if f, n, err = wire.ParseStopSendingFrame(b); err == nil {
				err = e.core(ID(f.StreamID)).HandleStopSending(f.Code)
			}
		case ft == wire.FrameTypeMaxStreamData:
			var f wire.MaxStreamDataFrame
			if f, n, err = wire.ParseMaxStreamDataFrame(b); err == nil {
				err = e.core(ID(f.StreamID)).HandleMaxStreamData(f.Max)
			}
		case ft == wire.FrameTypeStreamDataBlocked:
			var f wire.StreamDataBlockedFrame
			if f, n, err = wire.ParseStreamDataBlockedFrame(b); err == nil {
				err = e.core(ID(f.StreamID)).HandleStreamDataBlocked(f.Limit)
			}
		default:
			err = errors.New("unexpected frame type")
		}
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// dropEvery loses every k-th packet.
func dropEvery(k int) func(int) bool {
	return func(n int) bool { return n%k == k-1 }
}
