package quic

import (
	"errors"
	"net"
	"net/netip"
	"sync/atomic"

	"github.com/tsumugi-quic/tsumugi/quic/internal/udpio"
)

// socket is one UDP socket of an endpoint. An endpoint has one, plus one
// for a server's preferred address (RFC 9000 §9.6); each has a reader
// goroutine, and every datagram remembers which socket it came in on so
// that answers leave from the same local address.
type socket struct {
	idx    int
	pc     packetConn
	bc     batchConn // pc, when it reads and writes in batches
	closed atomic.Bool
}

// close closes the socket once; its reader exits.
func (s *socket) close() error {
	if s.closed.Swap(true) {
		return nil
	}
	return s.pc.Close()
}

// addSocket adds pc to the endpoint's sockets and starts its reader; it
// returns the socket's index. The endpoint owns pc from then on.
func (e *Endpoint) addSocket(pc packetConn) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		pc.Close()
		return 0, ErrEndpointClosed
	}
	old := *e.socks.Load()
	socks := make([]*socket, len(old), len(old)+1)
	copy(socks, old)
	s := newSocket(len(socks), pc)
	socks = append(socks, s)
	e.socks.Store(&socks)
	s.start(e)
	return s.idx, nil
}

// closeSocket closes socket idx (its index stays taken).
func (e *Endpoint) closeSocket(idx int) {
	(*e.socks.Load())[idx].close()
}

// socketAddr returns socket idx's local address.
func (e *Endpoint) socketAddr(idx int) net.Addr {
	return (*e.socks.Load())[idx].pc.LocalAddr()
}

func newSocket(idx int, pc packetConn) *socket {
	s := &socket{idx: idx, pc: pc}
	if bc, ok := pc.(batchConn); ok {
		s.bc = bc
	}
	return s
}

// start runs the socket's reader in the endpoint's group.
func (s *socket) start(e *Endpoint) {
	if s.bc != nil {
		e.group.Go(func() error { return s.readBatchLoop(e) })
	} else {
		e.group.Go(func() error { return s.readLoop(e) })
	}
}

// readLoop reads datagrams one at a time until the socket closes.
func (s *socket) readLoop(e *Endpoint) error {
	for {
		rb := getRxBuf(false)
		n, addr, err := s.pc.ReadFromUDPAddrPort(rb.b)
		if err != nil {
			rb.unref()
			if e.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			// Errors such as an ICMP port unreachable reported on a later
			// read (Windows) must not stop the endpoint.
			continue
		}
		e.handleDatagram(datagram{rb: rb, b: rb.b[:n], addr: normalizeAddr(addr), sock: s.idx})
	}
}

// readBatchSize is how many reads one batched system call may return.
const readBatchSize = 4

// readBatchLoop reads with recvmmsg and GRO: each message may hold a train
// of datagrams, which share the buffer by reference counting. It lends
// its buffers to each read attempt and takes them back when the socket is
// empty (ReadBatchFill), and gives back the unused ones after each read,
// so an idle endpoint holds none.
func (s *socket) readBatchLoop(e *Endpoint) error {
	large := s.bc.Features().GRO
	msgs := make([]udpio.Message, readBatchSize)
	bufs := make([]*rxBuf, readBatchSize)
	// batch adapts how many buffers a read takes: one while traffic is
	// light, up to readBatchSize while reads keep filling them all.
	batch := 1
	release := func() {
		for i, rb := range bufs {
			if rb != nil {
				rb.unref()
				bufs[i] = nil
			}
		}
		clear(msgs) // hold no buffer while waiting for the next datagram
	}
	fill := func(ms []udpio.Message) {
		for i := range ms {
			if bufs[i] == nil {
				bufs[i] = getRxBuf(large)
			}
			ms[i] = udpio.Message{Buf: bufs[i].b}
		}
	}
	drain := func([]udpio.Message) { release() }
	for {
		n, err := s.bc.ReadBatchFill(msgs[:batch], fill, drain)
		if err != nil {
			release()
			if e.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			continue
		}
		for i := 0; i < n; i++ {
			m := &msgs[i]
			// ReadBatch may reorder buffers among messages: find this one's.
			j := 0
			for j < len(bufs) && (bufs[j] == nil || &bufs[j].b[0] != &m.Buf[0]) {
				j++
			}
			if j == len(bufs) {
				continue
			}
			rb := bufs[j]
			bufs[j] = nil
			addr := normalizeAddr(m.Addr)
			for seg := range m.Segments() {
				rb.ref()
				e.handleDatagram(datagram{rb: rb, b: seg, addr: addr, ecn: m.ECN, sock: s.idx})
			}
			rb.unref()
		}
		release()
		switch {
		case n == batch && batch < readBatchSize:
			batch *= 2
		case n < batch/2:
			batch = max(batch/2, 1)
		}
	}
}

// writeTrain sends buf as datagrams of seg bytes each (the last may be
// shorter) to addr, in one system call where the OS offers GSO, marked
// with the ECN codepoint ecn where the OS allows.
func (s *socket) writeTrain(buf []byte, seg int, addr netip.AddrPort, ecn uint8) error {
	if s.bc != nil {
		return s.bc.WriteGSO(buf, seg, addr, ecn)
	}
	var err error
	for len(buf) > 0 {
		n := min(seg, len(buf))
		if _, werr := s.pc.WriteToUDPAddrPort(buf[:n], addr); werr != nil {
			err = werr
		}
		buf = buf[n:]
	}
	return err
}

// ecnCapable reports whether the socket reads and writes ECN codepoints.
func (s *socket) ecnCapable() bool { return s.bc != nil && s.bc.Features().ECN }

// normalizeAddr unmaps IPv4-in-IPv6 addresses so that one peer has one key.
func normalizeAddr(a netip.AddrPort) netip.AddrPort {
	if a.Addr().Is4In6() {
		return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
	}
	return a
}
