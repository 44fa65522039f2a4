package udpio

import (
	"encoding/binary"
	"net"
	"net/netip"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Control messages are laid out as in cmsg(3): a header (length, level,
// type) then the data, each message padded to the platform's alignment (the
// size of a pointer on Linux). The length is a size_t, so the header is 16
// bytes on 64-bit platforms and 12 on 32-bit ones. They are encoded by hand,
// without unsafe casts, so that parsing a hostile buffer cannot misread
// memory.

const (
	cmsgAlign   = unix.SizeofPtr
	cmsgDataOff = (unix.SizeofCmsghdr + cmsgAlign - 1) &^ (cmsgAlign - 1)
)

// cmsgSpace is CMSG_SPACE(n).
func cmsgSpace(n int) int { return cmsgDataOff + (n+cmsgAlign-1)&^(cmsgAlign-1) }

// Sizes of the control buffers a send and a receive need.
const (
	// UDP_SEGMENT (a u16) and IP_TOS or IPV6_TCLASS (an int).
	sendCtrlLen = cmsgDataOff + (2+cmsgAlign-1)&^(cmsgAlign-1) + cmsgDataOff + (4+cmsgAlign-1)&^(cmsgAlign-1)
	// IP_TOS or IPV6_TCLASS and UDP_GRO, with room to spare for options
	// another user of the socket may have turned on.
	recvCtrlLen = 128
)

// putCmsg writes a control message with data of n bytes at b[0:] and returns
// its data slice. b must hold cmsgSpace(n) bytes.
func putCmsg(b []byte, level, typ int32, n int) []byte {
	l := cmsgDataOff + n
	if unix.SizeofCmsghdr == 16 {
		binary.NativeEndian.PutUint64(b[0:], uint64(l))
		binary.NativeEndian.PutUint32(b[8:], uint32(level))
		binary.NativeEndian.PutUint32(b[12:], uint32(typ))
	} else {
		binary.NativeEndian.PutUint32(b[0:], uint32(l))
		binary.NativeEndian.PutUint32(b[4:], uint32(level))
		binary.NativeEndian.PutUint32(b[8:], uint32(typ))
	}
	clear(b[unix.SizeofCmsghdr:cmsgSpace(n)])
	return b[cmsgDataOff : cmsgDataOff+n]
}

// putSendCmsgs writes the control messages for one send into b: UDP_SEGMENT
// when segSize > 0, the ECN codepoint when ecn != 0, as IP_TOS for an IPv4
// destination (also on a dual-stack socket, where the kernel sends through
// its IPv4 path) or IPV6_TCLASS for an IPv6 one. It returns the length used.
func putSendCmsgs(b []byte, segSize int, ecn uint8, v4 bool) int {
	off := 0
	if segSize > 0 {
		d := putCmsg(b[off:], unix.IPPROTO_UDP, unix.UDP_SEGMENT, 2)
		binary.NativeEndian.PutUint16(d, uint16(segSize))
		off += cmsgSpace(2)
	}
	if ecn&3 != 0 {
		level, typ := int32(unix.IPPROTO_IPV6), int32(unix.IPV6_TCLASS)
		if v4 {
			level, typ = unix.IPPROTO_IP, unix.IP_TOS
		}
		d := putCmsg(b[off:], level, typ, 4)
		binary.NativeEndian.PutUint32(d, uint32(ecn&3))
		off += cmsgSpace(4)
	}
	return off
}

// parseRecvCmsgs reads the ECN codepoint (IP_TOS, IPV6_TCLASS) and the GRO
// segment size (UDP_GRO) from the control messages of one received datagram.
// It stops at the first malformed header and ignores unknown messages.
func parseRecvCmsgs(b []byte) (ecn uint8, segSize int) {
	for len(b) >= unix.SizeofCmsghdr {
		var l uint64
		var level, typ int32
		if unix.SizeofCmsghdr == 16 {
			l = binary.NativeEndian.Uint64(b[0:])
			level = int32(binary.NativeEndian.Uint32(b[8:]))
			typ = int32(binary.NativeEndian.Uint32(b[12:]))
		} else {
			l = uint64(binary.NativeEndian.Uint32(b[0:]))
			level = int32(binary.NativeEndian.Uint32(b[4:]))
			typ = int32(binary.NativeEndian.Uint32(b[8:]))
		}
		if l < cmsgDataOff || l > uint64(len(b)) {
			return ecn, segSize
		}
		data := b[cmsgDataOff:l]
		switch {
		case level == unix.IPPROTO_IP && typ == unix.IP_TOS && len(data) >= 1:
			// The kernel sends the TOS byte alone.
			ecn = data[0] & 3
		case level == unix.IPPROTO_IPV6 && typ == unix.IPV6_TCLASS && len(data) >= 4:
			ecn = uint8(binary.NativeEndian.Uint32(data) & 3)
		case level == unix.IPPROTO_UDP && typ == unix.UDP_GRO && len(data) >= 4:
			segSize = int(int32(binary.NativeEndian.Uint32(data)))
		case level == unix.IPPROTO_UDP && typ == unix.UDP_GRO && len(data) >= 2:
			segSize = int(binary.NativeEndian.Uint16(data))
		}
		next := (l + cmsgAlign - 1) &^ (cmsgAlign - 1)
		if next >= uint64(len(b)) {
			return ecn, segSize
		}
		b = b[next:]
	}
	return ecn, segSize
}

// putSockaddr writes the destination ap into sa as the socket's family
// wants it and returns the address length: an IPv4 address becomes
// IPv4-mapped on an IPv6 socket, and an IPv4-mapped one is unmapped on an
// IPv4 socket. It reports false for an IPv6 address on an IPv4 socket.
func putSockaddr(sa *unix.RawSockaddrInet6, family int, ap netip.AddrPort) (uint32, bool) {
	a := ap.Addr()
	port := ap.Port()
	if family == unix.AF_INET {
		a = a.Unmap()
		if !a.Is4() {
			return 0, false
		}
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		sa4.Family = unix.AF_INET
		p := (*[2]byte)(unsafe.Pointer(&sa4.Port))
		p[0], p[1] = byte(port>>8), byte(port)
		sa4.Addr = a.As4()
		sa4.Zero = [8]byte{}
		return unix.SizeofSockaddrInet4, true
	}
	if !a.IsValid() {
		return 0, false
	}
	sa.Family = unix.AF_INET6
	p := (*[2]byte)(unsafe.Pointer(&sa.Port))
	p[0], p[1] = byte(port>>8), byte(port)
	sa.Flowinfo = 0
	sa.Addr = a.As16()
	sa.Scope_id = zoneIndex(a.Zone())
	return unix.SizeofSockaddrInet6, true
}

// getSockaddr reads a sender's address; IPv4-mapped addresses are unmapped.
// A link-local sender's scope becomes the zone, as its interface index.
func getSockaddr(sa *unix.RawSockaddrInet6) netip.AddrPort {
	switch sa.Family {
	case unix.AF_INET:
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		p := (*[2]byte)(unsafe.Pointer(&sa4.Port))
		return netip.AddrPortFrom(netip.AddrFrom4(sa4.Addr), uint16(p[0])<<8|uint16(p[1]))
	case unix.AF_INET6:
		p := (*[2]byte)(unsafe.Pointer(&sa.Port))
		a := netip.AddrFrom16(sa.Addr)
		if a.Is4In6() {
			a = a.Unmap()
		} else if sa.Scope_id != 0 {
			a = a.WithZone(strconv.FormatUint(uint64(sa.Scope_id), 10))
		}
		return netip.AddrPortFrom(a, uint16(p[0])<<8|uint16(p[1]))
	}
	return netip.AddrPort{}
}

// zoneIndex turns an IPv6 zone (an interface index or name) into a scope ID.
func zoneIndex(zone string) uint32 {
	if zone == "" {
		return 0
	}
	if n, err := strconv.ParseUint(zone, 10, 32); err == nil {
		return uint32(n)
	}
	if ifi, err := net.InterfaceByName(zone); err == nil {
		return uint32(ifi.Index)
	}
	return 0
}
