package quic

import (
	"net"
	"net/netip"
)

// packetConn is the datagram socket under an Endpoint. *net.UDPConn is the
// real one; tests use an in-memory network (synthetic time with
// testing/synctest needs one), and platform batching (GSO/GRO) wraps the
// real one.
type packetConn interface {
	ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error)
	WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error)
	LocalAddr() net.Addr
	Close() error
}

var _ packetConn = (*net.UDPConn)(nil)
