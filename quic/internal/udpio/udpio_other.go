//go:build !linux

package udpio

import (
	"net/netip"
	"runtime"
)

// sysConn is empty where the portable path is the only one.
type sysConn struct{}

// setup sizes the socket buffers and reads the address families from the
// local address. Batching, GSO, GRO and ECN need control messages this
// package only speaks on Linux, so they stay off.
func (c *Conn) setup(o Options) error {
	f := &c.feat
	var local netip.Addr
	if ap, err := netip.ParseAddrPort(c.uc.LocalAddr().String()); err == nil {
		local = ap.Addr().Unmap()
	}
	switch {
	case local.Is4():
		f.IPv4 = true
	case !local.IsValid() || local.IsUnspecified():
		// Go opens "udp" sockets on the IPv6 wildcard dual-stack.
		f.IPv6, f.IPv4, f.DualStack = true, true, true
	default:
		f.IPv6 = true
	}
	f.RecvBuffer, f.SendBuffer, f.BufferTarget = c.setBuffers(o.BufferSize)
	return nil
}

// setBuffers asks for target bytes (0: the default, negative: leave them).
// Without a portable getsockopt, the size granted is the largest request
// the OS accepted, halving from the target: macOS refuses sizes above
// kern.ipc.maxsockbuf rather than capping them.
func (c *Conn) setBuffers(target int) (recv, send, asked int) {
	if target < 0 {
		return 0, 0, 0
	}
	if target == 0 {
		target = DefaultBufferSize
	}
	for n := target; n >= 64<<10 && recv == 0; n /= 2 {
		if c.uc.SetReadBuffer(n) == nil {
			recv = n
		}
	}
	for n := target; n >= 64<<10 && send == 0; n /= 2 {
		if c.uc.SetWriteBuffer(n) == nil {
			send = n
		}
	}
	return recv, send, target
}

// The batch path does not exist here; Features.Batch is never set, so these
// are not reached, and they fall back to the portable path all the same.

func (c *Conn) readMMsg(msgs []Message) (int, error) { return c.readOne(msgs) }

func (c *Conn) writeMMsg(msgs []OutMessage) (int, error) { return c.writeEach(msgs) }

func (c *Conn) writeGSOMMsg(buf []byte, segSize int, addr netip.AddrPort, ecn uint8) error {
	_, err := c.writeSegments(buf, segSize, addr)
	return err
}

// bufferHint tells users how to lift the OS cap on socket buffers.
var bufferHint = map[string]string{
	"darwin":  "raise kern.ipc.maxsockbuf (sysctl -w kern.ipc.maxsockbuf=N)",
	"freebsd": "raise kern.ipc.maxsockbuf (sysctl kern.ipc.maxsockbuf=N)",
}[runtime.GOOS]

func (c *Conn) readMMsgFill(msgs []Message, fill, drain func([]Message)) (int, error) {
	fill(msgs)
	return c.readOne(msgs)
}
