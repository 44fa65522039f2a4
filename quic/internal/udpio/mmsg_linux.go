package udpio

import (
	"net/netip"
	"os"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// recvBatch and sendBatch bound the datagrams one recvmmsg or sendmmsg
// handles; larger batches are split.
const (
	recvBatch = 4
	sendBatch = 64
)

// recvState holds the reader's recvmmsg arrays, allocated once per Conn and
// wired together once: each header points at its own iovec, address and
// control buffer. Only the iovec's target changes per call.
type recvState struct {
	hdrs  [recvBatch]unix.Mmsghdr
	iovs  [recvBatch]unix.Iovec
	names [recvBatch]unix.RawSockaddrInet6
	ctrl  [recvBatch][recvCtrlLen / 8]uint64 // uint64 for the cmsg alignment

	n     int // headers in use this call
	got   int // datagrams the kernel filled
	errno unix.Errno
	fn    func(fd uintptr) bool // r.recv, bound once so a read allocates nothing

	// With ReadBatchFill: the caller's messages and how it lends and takes
	// back their buffers around each attempt.
	msgs        []Message
	fill, drain func([]Message)
}

func newRecvState() *recvState {
	r := new(recvState)
	for i := range r.hdrs {
		h := &r.hdrs[i].Hdr
		h.Iov = &r.iovs[i]
		h.SetIovlen(1)
		h.Name = (*byte)(unsafe.Pointer(&r.names[i]))
		h.Control = (*byte)(unsafe.Pointer(&r.ctrl[i][0]))
	}
	r.fn = r.recv
	return r
}

// recv runs under the runtime poller: false means "not ready, wait".
func (r *recvState) recv(fd uintptr) bool {
	if r.fill != nil {
		r.fill(r.msgs[:r.n])
		r.point(r.msgs)
	}
	for {
		n, _, e := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&r.hdrs[0])), uintptr(r.n), 0, 0, 0)
		switch e {
		case 0:
			r.got = int(n)
			return true
		case unix.EINTR:
		case unix.EAGAIN:
			if r.drain != nil {
				r.unpoint()
				r.drain(r.msgs[:r.n])
			}
			return false
		default:
			r.errno = e
			return true
		}
	}
}

// point aims the first r.n headers at the buffers of msgs.
func (r *recvState) point(msgs []Message) {
	for i := range r.n {
		b := msgs[i].Buf
		r.iovs[i].Base = nil
		if len(b) > 0 {
			r.iovs[i].Base = &b[0]
		}
		r.iovs[i].SetLen(len(b))
		h := &r.hdrs[i]
		h.Hdr.Namelen = unix.SizeofSockaddrInet6
		h.Hdr.SetControllen(recvCtrlLen)
		h.Hdr.Flags = 0
		h.Len = 0
	}
}

// unpoint drops the headers' references to the caller's buffers.
func (r *recvState) unpoint() {
	for i := range r.n {
		r.iovs[i].Base = nil
	}
}

func (c *Conn) readMMsg(msgs []Message) (int, error) {
	return c.readMMsgFill(msgs, nil, nil)
}

// readMMsgFill is readMMsg; with fill and drain, the buffers are lent
// before each recvmmsg and taken back when it finds nothing (ReadBatchFill).
func (c *Conn) readMMsgFill(msgs []Message, fill, drain func([]Message)) (int, error) {
	r := c.sys.rd
	k := min(len(msgs), recvBatch)
	r.msgs, r.fill, r.drain = msgs, fill, drain
	defer func() { r.msgs, r.fill, r.drain = nil, nil, nil }()
	for {
		r.n, r.got, r.errno = k, 0, 0
		if fill == nil {
			r.point(msgs)
		}
		err := c.rc.Read(r.fn)
		if err == nil && r.errno != 0 {
			err = os.NewSyscallError("recvmmsg", r.errno)
		}
		out := 0
		if err == nil {
			out = c.collect(msgs, r)
		}
		r.unpoint() // hold no caller buffer between calls
		if err != nil {
			return 0, err
		}
		if out > 0 {
			return out, nil
		}
		// Every datagram was truncated and dropped: wait for more.
	}
}

// collect fills msgs from the kernel's answers and returns how many hold a
// datagram. A truncated datagram is dropped, moving its Message behind the
// kept ones; of a truncated GRO train the whole segments are kept.
func (c *Conn) collect(msgs []Message, r *recvState) int {
	out := 0
	for i := range r.got {
		h := &r.hdrs[i]
		n := min(int(h.Len), len(msgs[i].Buf))
		cl := min(int(h.Hdr.Controllen), recvCtrlLen)
		ctrl := unsafe.Slice((*byte)(unsafe.Pointer(&r.ctrl[i][0])), recvCtrlLen)[:cl]
		ecn, seg := parseRecvCmsgs(ctrl)
		if h.Hdr.Flags&unix.MSG_TRUNC != 0 {
			c.truncated.Add(1)
			if seg <= 0 || n < seg {
				continue
			}
			n -= n % seg
		}
		if seg <= 0 || seg >= n {
			seg = 0
		}
		if !c.feat.ECN {
			ecn = NotECT
		}
		if out != i {
			msgs[out], msgs[i] = msgs[i], msgs[out]
		}
		m := &msgs[out]
		m.N = n
		m.Addr = getSockaddr(&r.names[i])
		m.SegSize = seg
		m.ECN = ecn
		out++
	}
	return out
}

// sendScratch holds one writer's sendmmsg arrays. Writers may run
// concurrently, so each takes its own from sendPool.
type sendScratch struct {
	hdrs  [sendBatch]unix.Mmsghdr
	iovs  [sendBatch]unix.Iovec
	names [sendBatch]unix.RawSockaddrInet6
	ctrl  [sendBatch][(sendCtrlLen + 7) / 8]uint64
	ents  [sendBatch]sendEntry

	n     int // headers filled
	done  int // headers the kernel took
	errno unix.Errno
	one   [1]OutMessage // WriteGSO's message, so that it need not escape
	fn    func(fd uintptr) bool
}

// sendEntry maps a header back to the caller's message: which one, from
// which byte, and whether the kernel segments it.
type sendEntry struct {
	msg, off  int
	segmented bool
}

var sendPool = sync.Pool{New: func() any { return newSendScratch() }}

func newSendScratch() *sendScratch {
	s := new(sendScratch)
	for i := range s.hdrs {
		h := &s.hdrs[i].Hdr
		h.Iov = &s.iovs[i]
		h.SetIovlen(1)
		h.Name = (*byte)(unsafe.Pointer(&s.names[i]))
	}
	s.fn = s.send
	return s
}

func (s *sendScratch) send(fd uintptr) bool {
	for s.done < s.n {
		n, _, e := unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&s.hdrs[s.done])), uintptr(s.n-s.done), 0, 0, 0)
		switch e {
		case 0:
			if n == 0 { // not expected from a kernel; do not spin
				s.errno = unix.EIO
				return true
			}
			s.done += int(n)
		case unix.EINTR:
		case unix.EAGAIN:
			return false
		default:
			s.errno = e
			return true
		}
	}
	return true
}

// add fills the next header with the next chunk of m from byte off and
// returns the offset after it; false when the socket cannot reach m.Addr.
func (s *sendScratch) add(family int, m *OutMessage, msg, off int, gso, ecnOK bool) (int, bool) {
	i := s.n
	namelen, ok := putSockaddr(&s.names[i], family, m.Addr)
	if !ok {
		return off, false
	}
	n, segmented := nextChunk(len(m.Buf)-off, m.SegSize, gso)
	s.iovs[i].Base = nil
	if n > 0 {
		s.iovs[i].Base = &m.Buf[off]
	}
	s.iovs[i].SetLen(n)
	segSize := 0
	if segmented {
		segSize = m.SegSize
	}
	ecn := m.ECN & 3
	if !ecnOK {
		ecn = NotECT
	}
	ctrl := unsafe.Slice((*byte)(unsafe.Pointer(&s.ctrl[i][0])), len(s.ctrl[i])*8)
	cl := putSendCmsgs(ctrl, segSize, ecn, family == unix.AF_INET || m.Addr.Addr().Unmap().Is4())
	h := &s.hdrs[i].Hdr
	h.Namelen = namelen
	h.Control = nil
	if cl > 0 {
		h.Control = &ctrl[0]
	}
	h.SetControllen(cl)
	h.Flags = 0
	s.ents[i] = sendEntry{msg: msg, off: off, segmented: segmented}
	s.n++
	return off + n, true
}

// release drops the references to caller buffers before the scratch goes
// back to the pool.
func (s *sendScratch) release() {
	for i := range s.iovs {
		s.iovs[i].Base = nil
	}
	s.one[0] = OutMessage{}
}

func (c *Conn) writeMMsg(msgs []OutMessage) (int, error) {
	s := sendPool.Get().(*sendScratch)
	n, err := c.writeWith(s, msgs)
	s.release()
	sendPool.Put(s)
	return n, err
}

func (c *Conn) writeGSOMMsg(buf []byte, segSize int, addr netip.AddrPort, ecn uint8) error {
	s := sendPool.Get().(*sendScratch)
	s.one[0] = OutMessage{Buf: buf, Addr: addr, SegSize: segSize, ECN: ecn}
	_, err := c.writeWith(s, s.one[:])
	s.release()
	sendPool.Put(s)
	return err
}

// writeWith sends msgs through s, sendBatch headers per sendmmsg. A
// segmented send the kernel refuses with EIO (a device without checksum
// offload) or EINVAL turns GSO off for the Conn, and the same bytes go out
// again as single datagrams: nothing is lost.
func (c *Conn) writeWith(s *sendScratch, msgs []OutMessage) (int, error) {
	i, off := 0, 0
	for i < len(msgs) {
		s.n = 0
		gso := c.gso.Load()
		unreachable := false
		for i < len(msgs) && s.n < sendBatch {
			m := &msgs[i]
			next, ok := s.add(c.sys.family, m, i, off, gso, c.feat.ECN)
			if !ok {
				unreachable = true
				break
			}
			off = next
			if off >= len(m.Buf) {
				i, off = i+1, 0
			}
		}
		if s.n > 0 {
			s.done, s.errno = 0, 0
			err := c.rc.Write(s.fn)
			if err == nil && s.errno != 0 {
				err = os.NewSyscallError("sendmmsg", s.errno)
			}
			if err != nil {
				e := s.ents[s.done]
				if e.segmented && (s.errno == unix.EIO || s.errno == unix.EINVAL) {
					c.gsoErrors.Add(1)
					c.gso.Store(false)
					i, off = e.msg, e.off
					continue
				}
				return e.msg, err
			}
		}
		if unreachable {
			return i, errFamily
		}
	}
	return len(msgs), nil
}

// errFamily is returned for a destination the socket's address family
// cannot reach (an IPv6 address on an IPv4 socket).
var errFamily = os.NewSyscallError("sendmmsg", syscall.EAFNOSUPPORT)
