package memnet

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"os"
	"testing"
	"testing/synctest"
	"time"
)

var (
	addrA = netip.MustParseAddrPort("10.0.0.1:1000")
	addrB = netip.MustParseAddrPort("10.0.0.2:2000")
)

// pair returns two connected Conns.
func pair(t *testing.T) (*Network, *Conn, *Conn) {
	n := New()
	a, b := n.Listen(addrA), n.Listen(addrB)
	t.Cleanup(func() { a.Close(); b.Close() })
	return n, a, b
}

func read(t *testing.T, c *Conn) ([]byte, netip.AddrPort) {
	t.Helper()
	buf := make([]byte, 2000)
	n, from, err := c.ReadFromUDPAddrPort(buf)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return buf[:n], from
}

// drain returns every datagram queued at c now.
func drain(c *Conn) [][]byte {
	var out [][]byte
	for {
		select {
		case q := <-c.queue:
			out = append(out, q.data)
		default:
			return out
		}
	}
}

func TestSendReceive(t *testing.T) {
	_, a, b := pair(t)
	msg := []byte("hello")
	if n, err := a.WriteToUDPAddrPort(msg, addrB); err != nil || n != len(msg) {
		t.Fatalf("write = %d, %v", n, err)
	}
	msg[0] = 'j' // the network holds its own copy
	got, from := read(t, b)
	if string(got) != "hello" || from != addrA {
		t.Fatalf("got %q from %v", got, from)
	}
	if s := b.Stats(); s.DatagramsReceived != 1 || s.BytesReceived != 5 {
		t.Fatalf("stats %+v", s)
	}
	if got := b.LocalAddr().(*net.UDPAddr).AddrPort(); got != addrB {
		t.Fatalf("LocalAddr = %v", got)
	}
}

func TestTruncatedRead(t *testing.T) {
	_, a, b := pair(t)
	a.WriteToUDPAddrPort([]byte("0123456789"), addrB)
	buf := make([]byte, 4)
	n, _, err := b.ReadFromUDPAddrPort(buf)
	if err != nil || n != 4 || string(buf) != "0123" {
		t.Fatalf("read = %d %q %v", n, buf[:n], err)
	}
}

func TestUnknownDestination(t *testing.T) {
	_, a, _ := pair(t)
	if _, err := a.WriteToUDPAddrPort([]byte("x"), netip.MustParseAddrPort("10.9.9.9:9")); err != nil {
		t.Fatalf("write to nowhere: %v", err)
	}
}

func TestListenPortZero(t *testing.T) {
	n := New()
	a := n.Listen(netip.MustParseAddrPort("10.0.0.1:0"))
	b := n.Listen(netip.MustParseAddrPort("10.0.0.1:0"))
	defer a.Close()
	defer b.Close()
	if a.Addr().Port() == 0 || a.Addr() == b.Addr() {
		t.Fatalf("ports %v %v", a.Addr(), b.Addr())
	}
}

func TestListenInUsePanics(t *testing.T) {
	n := New()
	a := n.Listen(addrA)
	defer a.Close()
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	n.Listen(addrA)
}

func TestRebindAfterClose(t *testing.T) {
	n := New()
	a := n.Listen(addrA)
	a.Close()
	b := n.Listen(addrA)
	b.Close()
}

func TestQueueOverflow(t *testing.T) {
	n := New()
	n.QueueLength = 3
	a, b := n.Listen(addrA), n.Listen(addrB)
	defer a.Close()
	defer b.Close()
	for i := range 5 {
		a.WriteToUDPAddrPort([]byte{byte(i)}, addrB)
	}
	got := drain(b)
	if len(got) != 3 || got[0][0] != 0 || got[2][0] != 2 {
		t.Fatalf("queued %v", got)
	}
	if s := b.Stats(); s.DatagramsOverflow != 2 || s.DatagramsQueued != 3 {
		t.Fatalf("stats %+v", s)
	}
}

func TestReadBlocksUntilArrival(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, a, b := pair(t)
		start := time.Now()
		go func() {
			time.Sleep(3 * time.Second)
			a.WriteToUDPAddrPort([]byte("late"), addrB)
		}()
		got, _ := read(t, b)
		if string(got) != "late" || time.Since(start) != 3*time.Second {
			t.Fatalf("got %q after %v", got, time.Since(start))
		}
	})
}

func TestCloseWakesRead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, _, b := pair(t)
		errc := make(chan error)
		go func() {
			_, _, err := b.ReadFromUDPAddrPort(make([]byte, 10))
			errc <- err
		}()
		synctest.Wait()
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		if err := <-errc; !errors.Is(err, net.ErrClosed) {
			t.Fatalf("read after close: %v", err)
		}
		if _, err := b.WriteToUDPAddrPort([]byte("x"), addrA); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("write after close: %v", err)
		}
		if err := b.Close(); !errors.Is(err, net.ErrClosed) {
			t.Fatalf("second close: %v", err)
		}
	})
}

func TestReadDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, a, b := pair(t)
		start := time.Now()
		b.SetReadDeadline(start.Add(time.Second))
		_, _, err := b.ReadFromUDPAddrPort(make([]byte, 10))
		if !errors.Is(err, os.ErrDeadlineExceeded) || time.Since(start) != time.Second {
			t.Fatalf("err %v after %v", err, time.Since(start))
		}
		// A deadline moved while a read waits applies to that read.
		b.SetReadDeadline(time.Now().Add(time.Hour))
		errc := make(chan error)
		go func() {
			_, _, err := b.ReadFromUDPAddrPort(make([]byte, 10))
			errc <- err
		}()
		time.Sleep(time.Second)
		b.SetReadDeadline(time.Now().Add(time.Second))
		if err := <-errc; !errors.Is(err, os.ErrDeadlineExceeded) || time.Since(start) != 3*time.Second {
			t.Fatalf("err %v after %v", err, time.Since(start))
		}
		// Clearing it lets reads wait again.
		b.SetReadDeadline(time.Time{})
		a.WriteToUDPAddrPort([]byte("ok"), addrB)
		if got, _ := read(t, b); string(got) != "ok" {
			t.Fatalf("got %q", got)
		}
		// A deadline in the past fails at once.
		b.SetReadDeadline(time.Now().Add(-time.Second))
		if _, _, err := b.ReadFromUDPAddrPort(make([]byte, 10)); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("past deadline: %v", err)
		}
	})
}

// sendAll sends datagrams 0..n-1 (one byte each) from a to b, one per
// millisecond, then waits long enough for every delayed one to arrive and
// returns what b received, in order.
func sendAll(t *testing.T, a, b *Conn, n int) []byte {
	for i := range n {
		a.WriteToUDPAddrPort([]byte{byte(i)}, b.Addr())
		time.Sleep(time.Millisecond)
	}
	time.Sleep(time.Minute)
	var got []byte
	for _, d := range drain(b) {
		got = append(got, d...)
	}
	return got
}

func TestFilters(t *testing.T) {
	seq := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i)
		}
		return b
	}
	tests := []struct {
		name  string
		send  Filter // on a
		recv  Filter // on b
		check func(t *testing.T, got []byte)
	}{
		{"none", nil, nil, func(t *testing.T, got []byte) {
			if !bytes.Equal(got, seq(100)) {
				t.Fatalf("got %v", got)
			}
		}},
		{"drop-indexes", DropIndexes(0, 5, 99), nil, func(t *testing.T, got []byte) {
			if len(got) != 97 || got[0] != 1 || bytes.IndexByte(got, 5) >= 0 || got[96] != 98 {
				t.Fatalf("got %v", got)
			}
		}},
		{"loss-30%", Loss(0.3, 1), nil, func(t *testing.T, got []byte) {
			if len(got) < 50 || len(got) > 90 {
				t.Fatalf("%d of 100 arrived", len(got))
			}
		}},
		{"loss-recv-side", nil, Loss(1, 1), func(t *testing.T, got []byte) {
			if len(got) != 0 {
				t.Fatalf("%d arrived", len(got))
			}
		}},
		{"duplicate-all", Duplicate(1, 1), nil, func(t *testing.T, got []byte) {
			if len(got) != 200 || got[0] != 0 || got[1] != 0 || got[199] != 99 {
				t.Fatalf("got %v", got)
			}
		}},
		{"delay-keeps-order", Delay(10 * time.Millisecond), Delay(5 * time.Millisecond), func(t *testing.T, got []byte) {
			if !bytes.Equal(got, seq(100)) {
				t.Fatalf("got %v", got)
			}
		}},
		{"reorder", Reorder(0.2, 5*time.Millisecond, 7), nil, func(t *testing.T, got []byte) {
			if len(got) != 100 || bytes.Equal(got, seq(100)) {
				t.Fatalf("not reordered: %v", got)
			}
		}},
		{"corrupt-all", Corrupt(1, 3), nil, func(t *testing.T, got []byte) {
			if len(got) != 100 {
				t.Fatalf("%d arrived", len(got))
			}
			for i, b := range got {
				if d := b ^ byte(i); d == 0 || d&(d-1) != 0 {
					t.Fatalf("datagram %d: %08b is not one flipped bit", i, d)
				}
			}
		}},
		{"chain-drop-then-dup", Chain(DropIndexes(1), Duplicate(1, 1)), nil, func(t *testing.T, got []byte) {
			if len(got) != 198 || got[2] != 2 {
				t.Fatalf("got %v", got[:4])
			}
		}},
		{"mtu", Chain(Tap(func(d *Datagram) {
			if d.Data[0]%2 == 1 {
				d.Data = append(d.Data, make([]byte, 100)...)
			}
		}), MTU(50)), nil, func(t *testing.T, got []byte) {
			if len(got) != 50 || got[1] != 2 {
				t.Fatalf("got %v", got)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				_, a, b := pair(t)
				a.SetSendFilter(tt.send)
				b.SetRecvFilter(tt.recv)
				tt.check(t, sendAll(t, a, b, 100))
			})
		})
	}
}

func TestDuplicateCopiesAreIndependent(t *testing.T) {
	_, a, b := pair(t)
	// The first delivery's bytes are changed before the second: each copy
	// is its own.
	a.SetSendFilter(func(d *Datagram, deliver func([]byte, time.Duration)) {
		deliver(d.Data, 0)
		d.Data[0] = 'X'
		deliver(d.Data, 0)
	})
	a.WriteToUDPAddrPort([]byte("a"), addrB)
	got := drain(b)
	if len(got) != 2 || string(got[0]) != "a" || string(got[1]) != "X" {
		t.Fatalf("got %q", got)
	}
}

func TestLossIsDeterministic(t *testing.T) {
	run := func() []byte {
		_, a, b := pair(t)
		a.SetSendFilter(Loss(0.5, 42))
		for i := range 64 {
			a.WriteToUDPAddrPort([]byte{byte(i)}, addrB)
		}
		var got []byte
		for _, d := range drain(b) {
			got = append(got, d...)
		}
		return got
	}
	if x, y := run(), run(); !bytes.Equal(x, y) {
		t.Fatalf("same seed, different losses:\n%v\n%v", x, y)
	}
}
