// Package memnet is an in-memory datagram network for tests: connections
// that look like *net.UDPConn to their users (ReadFromUDPAddrPort,
// WriteToUDPAddrPort, LocalAddr, Close, SetReadDeadline) but carry datagrams
// through bounded channel queues, with no socket and no real clock.
//
// Everything that blocks blocks on channels and everything that waits uses
// the time package, so a network created inside a testing/synctest bubble
// runs on the bubble's fake clock: a Read with nothing to read is durably
// blocked, and a delayed datagram (time.AfterFunc) arrives when the bubble's
// time reaches it.
//
// Impairments are Filters: each datagram a Conn sends passes through the
// sender's send filter and then the receiver's receive filter, each of which
// may drop, delay, duplicate, reorder or corrupt it. Canned filters (Loss,
// Delay, Reorder, Duplicate, Corrupt, MTU, Drop, DropIndexes, Tap) cover
// the usual cases and compose with Chain.
//
// Like a real socket, a Conn's receive queue is bounded (Network.QueueLength
// datagrams): a datagram that arrives while it is full is dropped, a
// datagram sent to an address nobody listens on vanishes, and a Write never
// blocks.
package memnet

import (
	"fmt"
	"net/netip"
	"sync"
)

// DefaultQueueLength is the receive queue length of a Conn, in datagrams,
// when Network.QueueLength is zero.
const DefaultQueueLength = 1024

// firstEphemeralPort is where Listen starts when asked for port 0.
const firstEphemeralPort = 49152

// Network is a set of Conns that can reach each other by address.
type Network struct {
	// QueueLength is the receive queue length, in datagrams, of Conns
	// created after it is set (default DefaultQueueLength).
	QueueLength int

	mu       sync.Mutex
	conns    map[netip.AddrPort]*Conn
	nextPort uint16
}

// New returns an empty network.
func New() *Network {
	return &Network{conns: make(map[netip.AddrPort]*Conn), nextPort: firstEphemeralPort}
}

// Listen returns a Conn bound to addr. Port 0 picks a free port. Binding
// an address in use is a mistake in the test and panics.
func (n *Network) Listen(addr netip.AddrPort) *Conn {
	n.mu.Lock()
	defer n.mu.Unlock()
	if addr.Port() == 0 {
		for {
			a := netip.AddrPortFrom(addr.Addr(), n.nextPort)
			n.nextPort++
			if n.nextPort == 0 {
				n.nextPort = firstEphemeralPort
			}
			if n.conns[a] == nil {
				addr = a
				break
			}
		}
	}
	if n.conns[addr] != nil {
		panic(fmt.Sprintf("memnet: address %v in use", addr))
	}
	qlen := n.QueueLength
	if qlen <= 0 {
		qlen = DefaultQueueLength
	}
	c := newConn(n, addr, qlen)
	n.conns[addr] = c
	return c
}

// lookup returns the Conn bound to addr, or nil.
func (n *Network) lookup(addr netip.AddrPort) *Conn {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.conns[addr]
}

// remove unbinds c.
func (n *Network) remove(c *Conn) {
	n.mu.Lock()
	if n.conns[c.addr] == c {
		delete(n.conns, c.addr)
	}
	n.mu.Unlock()
}
