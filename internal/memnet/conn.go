package memnet

import (
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Conn is one end of the network, bound to an address: a stand-in for
// *net.UDPConn. Its methods are safe for concurrent use.
type Conn struct {
	n     *Network
	addr  netip.AddrPort
	queue chan queued
	done  chan struct{} // closed by Close

	closeOnce sync.Once

	mu       sync.Mutex
	sendF    Filter
	recvF    Filter
	deadline time.Time
	dlCh     chan struct{} // closed when the read deadline passes or changes
	dlTimer  *time.Timer

	stats connStats
}

// queued is a datagram in a receive queue.
type queued struct {
	from netip.AddrPort
	data []byte
}

// Stats counts a Conn's traffic.
type Stats struct {
	DatagramsSent, BytesSent         uint64 // handed to WriteToUDPAddrPort
	DatagramsReceived, BytesReceived uint64 // returned by ReadFromUDPAddrPort
	DatagramsQueued                  uint64 // entered the receive queue
	DatagramsOverflow                uint64 // dropped: the receive queue was full
}

type connStats struct {
	sent, sentBytes, recv, recvBytes, queued, overflow atomic.Uint64
}

func newConn(n *Network, addr netip.AddrPort, qlen int) *Conn {
	return &Conn{
		n:     n,
		addr:  addr,
		queue: make(chan queued, qlen),
		done:  make(chan struct{}),
		dlCh:  make(chan struct{}),
	}
}

// Addr returns the address the Conn is bound to.
func (c *Conn) Addr() netip.AddrPort { return c.addr }

// LocalAddr returns the address the Conn is bound to, as a *net.UDPAddr.
func (c *Conn) LocalAddr() net.Addr { return net.UDPAddrFromAddrPort(c.addr) }

// SetSendFilter sets the filter every datagram this Conn sends passes
// through first; nil removes it.
func (c *Conn) SetSendFilter(f Filter) {
	c.mu.Lock()
	c.sendF = f
	c.mu.Unlock()
}

// SetRecvFilter sets the filter every datagram sent to this Conn passes
// through after the sender's send filter; nil removes it.
func (c *Conn) SetRecvFilter(f Filter) {
	c.mu.Lock()
	c.recvF = f
	c.mu.Unlock()
}

func (c *Conn) filters() (send, recv Filter) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sendF, c.recvF
}

// Stats returns the Conn's counters.
func (c *Conn) Stats() Stats {
	s := &c.stats
	return Stats{
		DatagramsSent: s.sent.Load(), BytesSent: s.sentBytes.Load(),
		DatagramsReceived: s.recv.Load(), BytesReceived: s.recvBytes.Load(),
		DatagramsQueued: s.queued.Load(), DatagramsOverflow: s.overflow.Load(),
	}
}

// WriteToUDPAddrPort sends a copy of b to addr. Like UDP it never blocks and
// reports success even if the datagram is then lost. It fails only once the
// Conn is closed.
func (c *Conn) WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	select {
	case <-c.done:
		return 0, &net.OpError{Op: "write", Net: "udp", Addr: c.LocalAddr(), Err: net.ErrClosed}
	default:
	}
	c.stats.sent.Add(1)
	c.stats.sentBytes.Add(uint64(len(b)))
	d := &Datagram{From: c.addr, To: addr, Data: append([]byte(nil), b...)}
	send, _ := c.filters()
	apply(send, d, 0, func(d *Datagram, delay time.Duration) {
		var recv Filter
		if dst := c.n.lookup(d.To); dst != nil {
			_, recv = dst.filters()
		}
		apply(recv, d, delay, c.n.deliver)
	})
	return len(b), nil
}

// deliver puts d in its destination's queue after delay.
func (n *Network) deliver(d *Datagram, delay time.Duration) {
	if delay <= 0 {
		n.enqueue(d)
		return
	}
	time.AfterFunc(delay, func() { n.enqueue(d) })
}

func (n *Network) enqueue(d *Datagram) {
	dst := n.lookup(d.To)
	if dst == nil {
		return
	}
	select {
	case dst.queue <- queued{from: d.From, data: d.Data}:
		dst.stats.queued.Add(1)
	default:
		dst.stats.overflow.Add(1)
	}
}

// ReadFromUDPAddrPort waits for a datagram and copies it into b (a longer
// datagram is truncated, as with UDP). It fails once the Conn is closed or
// its read deadline passes.
func (c *Conn) ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error) {
	for {
		c.mu.Lock()
		dl, expired := c.dlCh, !c.deadline.IsZero() && !time.Now().Before(c.deadline)
		c.mu.Unlock()
		if expired {
			return 0, netip.AddrPort{}, &net.OpError{Op: "read", Net: "udp", Addr: c.LocalAddr(), Err: os.ErrDeadlineExceeded}
		}
		select {
		case <-c.done:
			return 0, netip.AddrPort{}, &net.OpError{Op: "read", Net: "udp", Addr: c.LocalAddr(), Err: net.ErrClosed}
		case q := <-c.queue:
			n := copy(b, q.data)
			c.stats.recv.Add(1)
			c.stats.recvBytes.Add(uint64(n))
			return n, q.from, nil
		case <-dl:
			// The deadline passed or changed: look again.
		}
	}
}

// SetReadDeadline sets the time after which reads fail with an error
// matching os.ErrDeadlineExceeded; the zero time means none. It applies to
// a read in progress too.
func (c *Conn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dlTimer != nil {
		c.dlTimer.Stop()
		c.dlTimer = nil
	}
	close(c.dlCh) // wake readers so that they see the new deadline
	ch := make(chan struct{})
	c.dlCh = ch
	c.deadline = t
	if !t.IsZero() {
		if d := time.Until(t); d > 0 {
			c.dlTimer = time.AfterFunc(d, func() {
				c.mu.Lock()
				if c.dlCh == ch {
					close(ch)
					c.dlCh = make(chan struct{})
				}
				c.mu.Unlock()
			})
		}
	}
	return nil
}

// Close unbinds the Conn and makes pending and later reads and writes fail
// with an error matching net.ErrClosed. Closing twice is an error.
func (c *Conn) Close() error {
	err := error(&net.OpError{Op: "close", Net: "udp", Addr: c.LocalAddr(), Err: net.ErrClosed})
	c.closeOnce.Do(func() {
		err = nil
		close(c.done)
		c.n.remove(c)
		c.mu.Lock()
		if c.dlTimer != nil {
			c.dlTimer.Stop()
		}
		c.mu.Unlock()
	})
	return err
}
