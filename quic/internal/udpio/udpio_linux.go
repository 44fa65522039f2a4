package udpio

import (
	"net/netip"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// sysConn is the Linux state of a Conn: the socket's family (for building
// destination addresses) and the reader's preallocated recvmmsg arrays.
// Writers take their arrays from sendPool.
type sysConn struct {
	family int
	rd     *recvState
}

// setup probes the socket: every setsockopt that fails turns its feature
// off, nothing here is fatal except a socket the runtime cannot reach.
func (c *Conn) setup(o Options) error {
	// The printed form tells an IPv4 address (also one an IPv6 socket is
	// bound to, IPv4-mapped) from an IPv6 one; the UDPAddr's IP may be
	// either length for IPv4.
	var localAddr netip.Addr
	if ap, err := netip.ParseAddrPort(c.uc.LocalAddr().String()); err == nil {
		localAddr = ap.Addr().Unmap()
	}
	f := &c.feat
	var gso bool
	err := c.rc.Control(func(fd uintptr) {
		s := int(fd)
		family, err := unix.GetsockoptInt(s, unix.SOL_SOCKET, unix.SO_DOMAIN)
		if err != nil {
			// Kernels before 2.6.32 lack SO_DOMAIN; the local address tells.
			family = unix.AF_INET6
			if localAddr.Is4() {
				family = unix.AF_INET
			}
		}
		c.sys.family = family
		switch {
		case family == unix.AF_INET:
			f.IPv4 = true
		case localAddr.Is4():
			f.IPv4 = true // an IPv6 socket bound to an IPv4-mapped address
		default:
			f.IPv6 = true
			v6only, err := unix.GetsockoptInt(s, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY)
			f.DualStack = err == nil && v6only == 0 && (!localAddr.IsValid() || localAddr.IsUnspecified())
			f.IPv4 = f.DualStack
		}

		// RFC 9000 §14: "UDP datagrams MUST NOT be fragmented at the IP
		// layer"; IPv4 datagrams carry DF. PMTUDISC_PROBE sets DF without
		// letting the kernel's path MTU cache cut our datagrams: the
		// connection does its own path MTU discovery (RFC 9000 §14.3).
		df := true
		if f.IPv4 {
			df = unix.SetsockoptInt(s, unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_PROBE) == nil
		}
		if f.IPv6 {
			df = df && unix.SetsockoptInt(s, unix.IPPROTO_IPV6, unix.IPV6_MTU_DISCOVER, unix.IPV6_PMTUDISC_PROBE) == nil
		}
		f.DontFragment = df

		f.RecvBuffer, f.SendBuffer, f.BufferTarget = setBuffers(s, o.BufferSize)

		if o.DisableBatch {
			return
		}
		f.Batch = true
		// UDP_SEGMENT arrived in Linux 4.18; a kernel that knows it
		// answers the getsockopt.
		if !o.DisableGSO {
			_, err := unix.GetsockoptInt(s, unix.IPPROTO_UDP, unix.UDP_SEGMENT)
			gso = err == nil
		}
		if !o.DisableGRO {
			f.GRO = unix.SetsockoptInt(s, unix.IPPROTO_UDP, unix.UDP_GRO, 1) == nil
		}
		if !o.DisableECN {
			ecn := true
			if f.IPv4 {
				ecn = unix.SetsockoptInt(s, unix.IPPROTO_IP, unix.IP_RECVTOS, 1) == nil
			}
			if f.IPv6 {
				ecn = ecn && unix.SetsockoptInt(s, unix.IPPROTO_IPV6, unix.IPV6_RECVTCLASS, 1) == nil
			}
			f.ECN = ecn
		}
	})
	if err != nil {
		return err
	}
	c.gso.Store(gso)
	if f.Batch {
		c.sys.rd = newRecvState()
	}
	return nil
}

// setBuffers asks for target bytes of receive and send buffer (0: the
// default, negative: leave them) and returns what was granted. An ordinary
// SO_RCVBUF is capped at net.core.rmem_max (wmem_max for sends); a process
// with CAP_NET_ADMIN may exceed the cap with SO_RCVBUFFORCE, so that is
// tried when the first answer falls short. getsockopt reports twice the
// usable size (socket(7)); the halved figure is returned.
func setBuffers(s, target int) (recv, send, asked int) {
	if target < 0 {
		return getBuffer(s, unix.SO_RCVBUF), getBuffer(s, unix.SO_SNDBUF), 0
	}
	if target == 0 {
		target = DefaultBufferSize
	}
	recv = setBuffer(s, unix.SO_RCVBUF, unix.SO_RCVBUFFORCE, target)
	send = setBuffer(s, unix.SO_SNDBUF, unix.SO_SNDBUFFORCE, target)
	return recv, send, target
}

func setBuffer(s, opt, force, target int) int {
	if forceWorks.Load() {
		// Privileged, as an earlier socket found: force at once.
		if unix.SetsockoptInt(s, unix.SOL_SOCKET, force, target) == nil {
			return getBuffer(s, opt)
		}
	}
	unix.SetsockoptInt(s, unix.SOL_SOCKET, opt, target)
	if got := getBuffer(s, opt); got >= target {
		return got
	}
	if unix.SetsockoptInt(s, unix.SOL_SOCKET, force, target) == nil { // EPERM unless privileged
		forceWorks.Store(true)
	}
	return getBuffer(s, opt)
}

// forceWorks records that SO_RCVBUFFORCE or SO_SNDBUFFORCE succeeded once:
// the process may exceed the caps, and later sockets (a client opens one
// per Dial) skip the capped attempt.
var forceWorks atomic.Bool

func getBuffer(s, opt int) int {
	n, err := unix.GetsockoptInt(s, unix.SOL_SOCKET, opt)
	if err != nil {
		return 0
	}
	return n / 2
}

// bufferHint tells users how to lift the OS cap on socket buffers.
const bufferHint = "raise net.core.rmem_max and net.core.wmem_max (sysctl -w net.core.rmem_max=N net.core.wmem_max=N) or run with CAP_NET_ADMIN"
