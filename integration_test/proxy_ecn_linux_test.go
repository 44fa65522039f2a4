package integration_test

import (
	"encoding/binary"
	"net"
	"syscall"
	"unsafe"
)

// The proxy carries ECN codepoints (RFC 3168 §5: the two low bits of the
// IPv4 TOS byte or the IPv6 Traffic Class) across: it asks the kernel for
// each received datagram's TOS / Traffic Class (IP_RECVTOS,
// IPV6_RECVTCLASS) and sends the datagram on with an IP_TOS / IPV6_TCLASS
// control message carrying the same codepoint.

// enableECN makes the kernel report the TOS or Traffic Class of datagrams
// received on c.
func enableECN(c *net.UDPConn) error {
	v4 := c.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap().Is4()
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	err = rc.Control(func(fd uintptr) {
		if v4 {
			serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, syscall.IP_RECVTOS, 1)
		} else {
			serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IPV6, syscall.IPV6_RECVTCLASS, 1)
		}
	})
	if err != nil {
		return err
	}
	return serr
}

// parseECN returns the ECN codepoint in the control messages of a received
// datagram (0, Not-ECT, if there is none).
func parseECN(oob []byte) byte {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return 0
	}
	for _, m := range msgs {
		switch {
		case m.Header.Level == syscall.IPPROTO_IP && m.Header.Type == syscall.IP_TOS && len(m.Data) >= 1:
			return m.Data[0] & 3 // the kernel reports the TOS byte alone
		case m.Header.Level == syscall.IPPROTO_IPV6 && m.Header.Type == syscall.IPV6_TCLASS && len(m.Data) >= 4:
			return byte(binary.NativeEndian.Uint32(m.Data)) & 3
		}
	}
	return 0
}

// appendECN appends a control message that sends a datagram with the ECN
// codepoint ecn: IP_TOS on an IPv4 socket, IPV6_TCLASS on an IPv6 one, each
// with an int, as the kernel takes them.
func appendECN(oob []byte, ecn byte, v4 bool) []byte {
	level, typ := int32(syscall.IPPROTO_IPV6), int32(syscall.IPV6_TCLASS)
	if v4 {
		level, typ = syscall.IPPROTO_IP, syscall.IP_TOS
	}
	start := len(oob)
	oob = append(oob, make([]byte, syscall.CmsgSpace(4))...)
	b := oob[start:]
	// struct cmsghdr: a size_t length, then the level and type as ints.
	h := syscall.Cmsghdr{Level: level, Type: typ}
	h.SetLen(syscall.CmsgLen(4))
	copy(b, unsafe.Slice((*byte)(unsafe.Pointer(&h)), syscall.SizeofCmsghdr))
	binary.NativeEndian.PutUint32(b[syscall.CmsgLen(0):], uint32(ecn&3))
	return oob
}
