package stream

import (
	"net"
	"sync"
	"testing"
	"time"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
	"github.com/tsumugi-quic/tsumugi/sched"
)

// testOwner is an Owner for tests that drive one Core by hand.
type testOwner struct {
	mu       sync.Mutex
	wakes    int
	consumed int
	rtt      time.Duration
}

func (o *testOwner) Wake(ID) {
	o.mu.Lock()
	o.wakes++
	o.mu.Unlock()
}

func (o *testOwner) Consumed(n int) {
	o.mu.Lock()
	o.consumed += n
	o.mu.Unlock()
}

func (o *testOwner) SmoothedRTT() time.Duration { return o.rtt }
func (o *testOwner) LocalAddr() net.Addr        { return fakeAddr("local") }
func (o *testOwner) RemoteAddr() net.Addr       { return fakeAddr("remote") }

func (o *testOwner) counts() (wakes, consumed int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.wakes, o.consumed
}

type fakeAddr string

func (a fakeAddr) Network() string { return "pair" }
func (a fakeAddr) String() string  { return string(a) }

// frame is one parsed frame: a wire.StreamFrame (Data copied),
// wire.ResetStreamFrame, wire.StopSendingFrame, wire.MaxStreamDataFrame or
// wire.StreamDataBlockedFrame.
type frame any

// parseFrames parses a packet payload built by a Core.
func parseFrames(t testing.TB, b []byte) []frame {
	t.Helper()
	var out []frame
	for len(b) > 0 {
		var (
			f   frame
			n   int
			err error
		)
		switch ft := uint64(b[0]); {
		case wire.IsStreamFrameType(ft):
			var sf wire.StreamFrame
			sf, n, err = wire.ParseStreamFrame(b)
			sf.Data = append([]byte(nil), sf.Data...)
			f = sf
		case ft == wire.FrameTypeResetStream:
			f, n, err = wire.ParseResetStreamFrame(b)
		case ft == wire.FrameTypeStopSending:
			f, n, err = wire.ParseStopSendingFrame(b)
		case ft == wire.FrameTypeMaxStreamData:
			f, n, err = wire.ParseMaxStreamDataFrame(b)
		case ft == wire.FrameTypeStreamDataBlocked:
			f, n, err = wire.ParseStreamDataBlockedFrame(b)
		default:
			t.Fatalf("unexpected frame type %#x", ft)
		}
		if err != nil {
			t.Fatalf("parse: %v", err)
		}
		out = append(out, f)
		b = b[n:]
	}
	return out
}

// buildPacket fills one packet of at most max bytes from c as a scheduler
// would: control frames, then retransmissions, then new data. It returns
// the payload and the record.
func buildPacket(c *Core, buf []byte, max int, credit *uint64, rec *sched.Record) []byte {
	b := buf[:0]
	b, _ = c.AppendControlFrames(b, max, rec)
	for _, retransmit := range []bool{true, false} {
		for len(b) < max {
			n := len(b)
			var more bool
			b, more = c.AppendStreamFrame(b, max-len(b), retransmit, credit, rec)
			if len(b) == n || !more {
				break
			}
		}
	}
	return b
}

// pull builds one packet from c with unlimited connection credit.
func pull(t testing.TB, c *Core) ([]frame, *sched.Record) {
	t.Helper()
	credit := uint64(1 << 62)
	rec := &sched.Record{}
	b := buildPacket(c, make([]byte, 0, 1200), 1200, &credit, rec)
	if len(b) > 1200 {
		t.Fatalf("packet of %d bytes exceeds 1200", len(b))
	}
	return parseFrames(t, b), rec
}

func ackAll(c *Core, rec *sched.Record) {
	for _, f := range rec.Frames {
		c.OnAcked(f)
	}
}

func loseAll(c *Core, rec *sched.Record) {
	for _, f := range rec.Frames {
		c.OnLost(f)
	}
}

func sendStateOf(c *Core) sendState {
	c.send.mu.Lock()
	defer c.send.mu.Unlock()
	return c.send.state
}

func recvStateOf(c *Core) recvState {
	c.recv.mu.Lock()
	defer c.recv.mu.Unlock()
	return c.recv.state
}

// pattern returns n bytes whose values depend on their offset from off.
func pattern(off uint64, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		x := off + uint64(i)
		b[i] = byte(x*7 + x>>8 + 3)
	}
	return b
}
