package stream

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"testing"
	"time"

	"golang.org/x/net/nettest"
)

func TestNetConn(t *testing.T) {
	for _, tt := range []struct {
		name string
		drop func(int) bool
	}{
		{"lossless", nil},
		{"every 7th packet lost", dropEvery(7)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			nettest.TestConn(t, func() (c1, c2 net.Conn, stop func(), err error) {
				p := newPair(t, tt.drop)
				cl, sv := p.open(0, Config{})
				return cl.Stream(), sv.Stream(), func() {
					p.stop()
					if err := p.firstErr(); err != nil {
						t.Errorf("connection error: %v", err)
					}
				}, nil
			})
		})
	}
}

// TestTransfer sends random data both ways over several streams at once,
// with and without loss, and checks it and the acknowledged delivery.
func TestTransfer(t *testing.T) {
	for _, tt := range []struct {
		name string
		drop func(int) bool
		cfg  Config
	}{
		{"lossless", nil, Config{}},
		{"lossy", dropEvery(5), Config{}},
		{"small windows and buffers", dropEvery(11), Config{SendBuffer: 3000, InitialWindow: 2000, MaxWindow: 8000}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := newPair(t, tt.drop)
			errc := make(chan error, 8)
			for i := range 4 {
				cl, sv := p.open(IDFor(ClientBidi, uint64(i)), tt.cfg)
				size := 100_000 * (i + 1)
				go func() { errc <- sendAndCheck(cl.Stream(), sv.Stream(), size, uint64(i)) }()
				go func() { errc <- sendAndCheck(sv.Stream(), cl.Stream(), size/2, uint64(i+10)) }()
			}
			for range 8 {
				if err := <-errc; err != nil {
					t.Error(err)
				}
			}
			if err := p.firstErr(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// sendAndCheck writes size random bytes on w, closes it and waits for the
// acknowledgment, while reading r to EOF and comparing.
func sendAndCheck(w, r *Stream, size int, seed uint64) error {
	data := make([]byte, size)
	rng := rand.New(rand.NewPCG(seed, 1))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	werr := make(chan error, 1)
	go func() {
		rest := data
		for len(rest) > 0 {
			n := min(len(rest), 1+rng.IntN(50_000))
			if _, err := w.Write(rest[:n]); err != nil {
				werr <- err
				return
			}
			rest = rest[n:]
		}
		if err := w.CloseWrite(); err != nil {
			werr <- err
			return
		}
		werr <- w.WaitAcked(context.Background())
	}()
	got, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if !bytes.Equal(got, data) {
		return errors.New("received data differs")
	}
	return <-werr
}

// TestSlowReaderDoesNotBlockOthers: stream A's reader does not read, so A's
// writer stalls on flow control; stream B on the same connection still
// delivers everything. A's writer cannot finish before A is read, because it
// writes more than A's window plus its send buffer.
func TestSlowReaderDoesNotBlockOthers(t *testing.T) {
	p := newPair(t, nil)
	cfg := Config{SendBuffer: 64 << 10, InitialWindow: 64 << 10, MaxWindow: 64 << 10}
	aCl, aSv := p.open(0, cfg)
	bCl, bSv := p.open(4, cfg)

	aData := pattern(0, 1<<20)
	aDone := make(chan error, 1)
	go func() {
		_, err := aCl.Stream().Write(aData)
		if err == nil {
			err = aCl.Stream().CloseWrite()
		}
		aDone <- err
	}()

	if err := sendAndCheck(bCl.Stream(), bSv.Stream(), 4<<20, 1); err != nil {
		t.Fatalf("stream B: %v", err)
	}
	select {
	case err := <-aDone:
		t.Fatalf("stream A's writer finished (%v) without a reader", err)
	default:
	}
	got, err := io.ReadAll(aSv.Stream())
	if err != nil || !bytes.Equal(got, aData) {
		t.Fatalf("stream A: %d bytes, %v", len(got), err)
	}
	if err := <-aDone; err != nil {
		t.Fatal(err)
	}
}

// waitBlocked waits until a call on the half is asleep on its wake
// channel: the channel exists and no signal is pending. No timing involved.
func waitBlocked(mu interface {
	Lock()
	Unlock()
}, w *waiter, ready func() bool) {
	for {
		mu.Lock()
		ok := w.wake != nil && len(w.wake) == 0 && (ready == nil || ready())
		mu.Unlock()
		if ok {
			return
		}
		runtime.Gosched()
	}
}

func TestReadErrors(t *testing.T) {
	abortErr := errors.New("connection lost")
	tests := []struct {
		name    string
		trigger func(cl, sv *Core)
		check   func(error) bool
	}{
		{"deadline", func(cl, sv *Core) { cl.Stream().SetReadDeadline(time.Now().Add(-time.Second)) },
			func(err error) bool {
				var ne net.Error
				return errors.Is(err, os.ErrDeadlineExceeded) && errors.As(err, &ne) && ne.Timeout()
			}},
		{"future deadline", func(cl, sv *Core) { cl.Stream().SetReadDeadline(time.Now().Add(20 * time.Millisecond)) },
			func(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }},
		{"reset by peer", func(cl, sv *Core) { sv.Stream().CancelWrite(0x10c) },
			func(err error) bool {
				return errors.Is(err, &StreamError{Code: 0x10c, Remote: true}) && err.Error() == "stream 0 reset by peer: code 0x10c"
			}},
		{"local close", func(cl, sv *Core) { cl.Stream().Close() },
			func(err error) bool { return errors.Is(err, net.ErrClosed) }},
		{"cancel read", func(cl, sv *Core) { cl.Stream().CancelRead(5) },
			func(err error) bool { return errors.Is(err, &StreamError{Code: 5}) }},
		{"abort", func(cl, sv *Core) { cl.Abort(abortErr) },
			func(err error) bool { return err == abortErr }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPair(t, nil)
			cl, sv := p.open(0, Config{})
			// One byte, read, so that the stream is in use; then a blocked Read.
			sv.Stream().Write([]byte{1})
			if _, err := io.ReadFull(cl.Stream(), make([]byte, 1)); err != nil {
				t.Fatal(err)
			}
			errc := make(chan error, 1)
			go func() {
				_, err := cl.Stream().Read(make([]byte, 10))
				errc <- err
			}()
			waitBlocked(&cl.recv.mu, &cl.recv.w, nil)
			tt.trigger(cl, sv)
			if err := <-errc; !tt.check(err) {
				t.Fatalf("blocked Read: %v (%T)", err, err)
			}
			// Later Reads fail the same way.
			if _, err := cl.Stream().Read(make([]byte, 10)); !tt.check(err) {
				t.Fatalf("later Read: %v", err)
			}
		})
	}
}

func TestWriteErrors(t *testing.T) {
	abortErr := errors.New("connection lost")
	tests := []struct {
		name    string
		trigger func(cl, sv *Core)
		check   func(error) bool
	}{
		{"deadline", func(cl, sv *Core) { cl.Stream().SetWriteDeadline(time.Now().Add(-time.Second)) },
			func(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }},
		{"stopped by peer", func(cl, sv *Core) { sv.Stream().CancelRead(0x10c) },
			func(err error) bool {
				return errors.Is(err, &StreamError{Code: 0x10c, Remote: true}) && err.Error() == "stream 0 stopped by peer: code 0x10c"
			}},
		{"local close", func(cl, sv *Core) { cl.Stream().Close() },
			func(err error) bool { return errors.Is(err, net.ErrClosed) }},
		{"cancel write", func(cl, sv *Core) { cl.Stream().CancelWrite(6) },
			func(err error) bool { return errors.Is(err, &StreamError{Code: 6}) }},
		{"abort", func(cl, sv *Core) { cl.Abort(abortErr) },
			func(err error) bool { return err == abortErr }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPair(t, nil)
			cfg := Config{SendBuffer: 10_000, InitialWindow: 10_000, MaxWindow: 10_000}
			cl, sv := p.open(0, cfg)
			// Nobody reads: the peer's window and then our buffer fill up.
			errc := make(chan error, 1)
			var n int
			go func() {
				var err error
				n, err = cl.Stream().Write(make([]byte, 100_000))
				errc <- err
			}()
			waitBlocked(&cl.send.mu, &cl.send.w, func() bool { return cl.send.buf.Buffered() == 10_000 })
			tt.trigger(cl, sv)
			if err := <-errc; !tt.check(err) {
				t.Fatalf("blocked Write: %v", err)
			}
			if n < 10_000 || n >= 100_000 {
				t.Errorf("blocked Write reported %d bytes written", n)
			}
			if _, err := cl.Stream().Write([]byte{1}); !tt.check(err) {
				t.Fatalf("later Write: %v", err)
			}
		})
	}
}

func TestWaitAcked(t *testing.T) {
	t.Run("acked", func(t *testing.T) {
		p := newPair(t, dropEvery(3))
		cl, sv := p.open(2, Config{}) // a client uni stream
		ss, rs := cl.SendStream(), sv.ReceiveStream()
		if cl.Stream() != nil || sv.Stream() != nil || cl.ReceiveStream() != nil || sv.SendStream() != nil {
			t.Fatal("uni stream has the wrong halves")
		}
		data := pattern(0, 300_000)
		go func() {
			ss.Write(data)
			ss.Close()
		}()
		got, err := io.ReadAll(rs)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("read %d bytes, %v", len(got), err)
		}
		if err := ss.WaitAcked(context.Background()); err != nil {
			t.Fatal(err)
		}
		if !cl.Done() || !sv.Done() {
			t.Errorf("Done: sender %v, receiver %v", cl.Done(), sv.Done())
		}
		// A finished stream holds no buffers.
		cl.send.mu.Lock()
		sv.recv.mu.Lock()
		if cl.send.buf.ring != nil || sv.recv.buf.slots != nil {
			t.Error("buffers kept after the stream finished")
		}
		sv.recv.mu.Unlock()
		cl.send.mu.Unlock()
	})
	t.Run("context", func(t *testing.T) {
		p := newPair(t, nil)
		cl, _ := p.open(0, Config{})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := cl.Stream().WaitAcked(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("WaitAcked: %v", err)
		}
	})
	t.Run("reset", func(t *testing.T) {
		p := newPair(t, nil)
		cl, _ := p.open(0, Config{})
		errc := make(chan error, 1)
		go func() { errc <- cl.Stream().WaitAcked(context.Background()) }()
		cl.Stream().Write([]byte("x"))
		cl.Stream().CancelWrite(4)
		if err := <-errc; !errors.Is(err, &StreamError{Code: 4}) {
			t.Fatalf("WaitAcked: %v", err)
		}
	})
	t.Run("abort", func(t *testing.T) {
		p := newPair(t, nil)
		cl, _ := p.open(0, Config{})
		errc := make(chan error, 1)
		go func() { errc <- cl.Stream().WaitAcked(context.Background()) }()
		cl.Abort(net.ErrClosed)
		if err := <-errc; !errors.Is(err, net.ErrClosed) {
			t.Fatalf("WaitAcked: %v", err)
		}
	})
}

// TestCloseDeliversData: Close right after Write loses nothing; the peer
// reads everything, then EOF.
func TestCloseDeliversData(t *testing.T) {
	p := newPair(t, dropEvery(4))
	cl, sv := p.open(0, Config{})
	data := pattern(0, 200_000)
	go func() {
		cl.Stream().Write(data)
		cl.Stream().Close()
	}()
	got, err := io.ReadAll(sv.Stream())
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read %d bytes, %v", len(got), err)
	}
	if err := cl.Stream().WaitAcked(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The client's Close asked the server to stop sending (STOP_SENDING 0):
	// the server's Writes fail once it arrives.
	for {
		_, err := sv.Stream().Write(make([]byte, 1000))
		if err == nil {
			continue
		}
		if !errors.Is(err, &StreamError{Code: 0, Remote: true}) {
			t.Fatalf("Write after the peer's Close: %v", err)
		}
		break
	}
}

func TestAddrsAndPriority(t *testing.T) {
	p := newPair(t, nil)
	cl, _ := p.open(0, Config{})
	s := cl.Stream()
	if s.LocalAddr().String() != "client" || s.RemoteAddr().String() != "server" {
		t.Errorf("addrs %v %v", s.LocalAddr(), s.RemoteAddr())
	}
	s.SetPriority(1, true)
	if u, inc := cl.Priority(); u != 1 || !inc {
		t.Errorf("priority %d %v", u, inc)
	}
	s.SetPriority(200, false)
	if u, inc := cl.Priority(); u != 7 || inc {
		t.Errorf("priority %d %v", u, inc)
	}
	if s.ID() != 0 {
		t.Errorf("ID %v", s.ID())
	}
}
