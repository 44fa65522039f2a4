// Package udpio is a batched UDP socket for the QUIC endpoint: many
// datagrams per system call where the kernel allows it, one per call where
// it does not.
//
// On Linux a Conn reads with recvmmsg and UDP_GRO (the kernel hands over a
// train of equal-sized datagrams as one buffer plus its segment size), writes
// with sendmmsg and UDP_SEGMENT (generic segmentation offload: one send of up
// to 64 equal-sized datagrams), reads the ECN bits of every datagram from
// IP_TOS/IPV6_TCLASS control messages and marks outgoing datagrams the same
// way (RFC 9000 §13.4, RFC 3168 §5). Elsewhere, and when the batch path is
// switched off, it falls back to one ReadFromUDPAddrPort or
// WriteToUDPAddrPort per datagram without ECN.
//
// Every feature is probed when the Conn is made; a setsockopt the kernel
// refuses turns its feature off, and a GSO send the kernel rejects at run
// time (EIO from a device without checksum offload, EINVAL) turns GSO off and
// resends the same datagrams one by one.
package udpio

import (
	"errors"
	"net"
	"net/netip"
	"sync/atomic"
	"syscall"
	"time"
)

// ECN codepoints: the two low bits of the IPv4 TOS byte or the IPv6 Traffic
// Class (RFC 3168 §5).
const (
	NotECT uint8 = 0b00 // not ECN-capable
	ECT1   uint8 = 0b01 // ECN-capable transport, ECT(1)
	ECT0   uint8 = 0b10 // ECN-capable transport, ECT(0): what QUIC sends (RFC 9000 §13.4.2)
	CE     uint8 = 0b11 // congestion experienced
)

const (
	// MaxGSOSegments is the most datagrams one segmented send may carry
	// (the kernel's UDP_MAX_SEGMENTS on every kernel with UDP_SEGMENT).
	MaxGSOSegments = 64
	// MaxGSOBytes is the most payload one segmented send may carry: the
	// 65535-byte IPv4 total length less a 20-byte IPv4 and an 8-byte UDP
	// header. IPv6 allows 20 bytes more; one limit for both keeps a send
	// to an IPv4-mapped address on a dual-stack socket legal.
	MaxGSOBytes = 65535 - 20 - 8
	// GROBufferSize is the receive buffer a Message needs when GRO is on:
	// the kernel may coalesce up to a whole 64 KiB UDP payload.
	GROBufferSize = 1 << 16
	// DefaultBufferSize is the socket send and receive buffer size a Conn
	// asks the OS for unless Options.BufferSize says otherwise.
	DefaultBufferSize = 7 << 20
)

// Message is one received datagram, or with GRO one train of datagrams of
// equal size that the kernel coalesced.
type Message struct {
	// Buf is the caller's buffer; ReadBatch fills Buf[:N]. With GRO on it
	// should hold GROBufferSize bytes, else at least the largest datagram
	// expected (1500 or more).
	Buf []byte
	// N is the number of bytes received.
	N int
	// Addr is the sender; an IPv4-mapped IPv6 address is unmapped.
	Addr netip.AddrPort
	// SegSize is 0 for one datagram. Otherwise Buf[:N] holds datagrams of
	// SegSize bytes each, the last possibly shorter: see Segments.
	SegSize int
	// ECN is the ECN codepoint the datagram arrived with (NotECT when the
	// Conn cannot read it).
	ECN uint8
}

// OutMessage is one datagram to send, or with SegSize > 0 a train of
// datagrams: Buf is cut into consecutive SegSize-byte datagrams, the last
// possibly shorter.
type OutMessage struct {
	Buf     []byte
	Addr    netip.AddrPort
	SegSize int
	// ECN is the codepoint to mark the datagrams with; ignored when the
	// Conn has no ECN support (see Features).
	ECN uint8
}

// Options turn features off, for tests and for users whose path mangles
// them. The zero value enables everything the kernel offers.
type Options struct {
	DisableGSO bool
	DisableGRO bool
	DisableECN bool
	// DisableBatch uses the portable path (one datagram per system call)
	// even where recvmmsg and sendmmsg exist; it turns GSO, GRO and ECN off
	// too, since they need control messages.
	DisableBatch bool
	// BufferSize is the send and receive buffer size to ask for: 0 means
	// DefaultBufferSize, a negative value leaves the OS default.
	BufferSize int
}

// Features reports what a Conn uses.
type Features struct {
	Batch        bool // recvmmsg/sendmmsg (Linux); false: one datagram per call
	GSO          bool // segmented sends (UDP_SEGMENT); may turn off at run time
	GRO          bool // coalesced receives (UDP_GRO)
	ECN          bool // ECN read on receive and marked on send
	DontFragment bool // DF set on IPv4, no local fragmentation on IPv6 (RFC 9000 §14)
	IPv4         bool // the socket can exchange IPv4 datagrams
	IPv6         bool // the socket can exchange IPv6 datagrams
	DualStack    bool // an IPv6 socket that also carries IPv4 (IPv4-mapped addresses)
	// RecvBuffer and SendBuffer are the usable socket buffer sizes the OS
	// granted, in bytes (on Linux, half of what getsockopt reports, since the
	// kernel doubles the request for its bookkeeping); 0 if unknown.
	RecvBuffer int
	SendBuffer int
	// BufferTarget is what was asked for; 0 when the OS default was kept.
	BufferTarget int
}

// Stats counts datagrams the Conn could not deliver as they came.
type Stats struct {
	// Truncated counts received datagrams longer than their Message's
	// buffer: they are dropped (whole segments of a GRO train are kept).
	Truncated uint64
	// GSOErrors counts segmented sends the kernel refused; the first one
	// turns GSO off, and the datagrams are resent one by one.
	GSOErrors uint64
}

// Conn is a UDP socket with batched reads and writes. ReadBatch is for one
// goroutine at a time; WriteBatch and WriteGSO are safe for concurrent use.
type Conn struct {
	uc   *net.UDPConn
	rc   syscall.RawConn
	feat Features // fixed once New returns, except GSO, which lives in gso
	gso  atomic.Bool

	truncated atomic.Uint64
	gsoErrors atomic.Uint64

	sys sysConn // platform state (udpio_linux.go, udpio_other.go)
}

// Open binds a UDP socket to addr on network ("udp", "udp4", "udp6") and
// returns it as a Conn with every feature the kernel offers.
func Open(network, addr string) (*Conn, error) {
	return OpenWith(network, addr, Options{})
}

// OpenWith is Open with Options.
func OpenWith(network, addr string, o Options) (*Conn, error) {
	ua, err := net.ResolveUDPAddr(network, addr)
	if err != nil {
		return nil, err
	}
	uc, err := net.ListenUDP(network, ua)
	if err != nil {
		return nil, err
	}
	c, err := NewWith(uc, o)
	if err != nil {
		uc.Close()
		return nil, err
	}
	return c, nil
}

// New wraps uc, which the Conn owns from then on, with every feature the
// kernel offers. Use uc only through the Conn afterwards: reading it
// directly would see GRO trains without their segment size.
func New(uc *net.UDPConn) (*Conn, error) {
	return NewWith(uc, Options{})
}

// NewWith is New with Options.
func NewWith(uc *net.UDPConn, o Options) (*Conn, error) {
	if uc == nil {
		return nil, errors.New("udpio: nil *net.UDPConn")
	}
	rc, err := uc.SyscallConn()
	if err != nil {
		return nil, err
	}
	c := &Conn{uc: uc, rc: rc}
	if err := c.setup(o); err != nil {
		return nil, err
	}
	return c, nil
}

// Features reports what the Conn uses now.
func (c *Conn) Features() Features {
	f := c.feat
	f.GSO = c.gso.Load()
	return f
}

// Stats reports the Conn's counters.
func (c *Conn) Stats() Stats {
	return Stats{Truncated: c.truncated.Load(), GSOErrors: c.gsoErrors.Load()}
}

// LocalAddr is the socket's local address.
func (c *Conn) LocalAddr() net.Addr { return c.uc.LocalAddr() }

// Close closes the socket; blocked reads and writes return an error that
// matches net.ErrClosed.
func (c *Conn) Close() error { return c.uc.Close() }

// SetReadDeadline bounds ReadBatch as net.Conn's SetReadDeadline does.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.uc.SetReadDeadline(t) }

// SetWriteDeadline bounds WriteBatch and WriteGSO.
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.uc.SetWriteDeadline(t) }

// ReadBatch waits for at least one datagram and fills msgs[:n] with up to
// len(msgs) of them. It may reorder the Bufs within msgs when it drops a
// truncated datagram. It returns n > 0 or an error, never both zero.
func (c *Conn) ReadBatch(msgs []Message) (n int, err error) {
	if len(msgs) == 0 {
		return 0, nil
	}
	if c.feat.Batch {
		return c.readMMsg(msgs)
	}
	return c.readOne(msgs)
}

// ReadBatchFill is ReadBatch for a reader that holds no buffers while the
// socket is empty: right before each read attempt fill points the Buf of
// every message at a buffer (it may find them still there from an attempt
// that ended otherwise), and after an attempt that finds nothing to read
// drain takes them back; the call then waits for the socket to become
// readable and tries again. One system call reads per wake-up, where
// peeking before ReadBatch would take two. On the portable path fill runs once and
// the read blocks with the buffers lent.
func (c *Conn) ReadBatchFill(msgs []Message, fill, drain func([]Message)) (n int, err error) {
	if len(msgs) == 0 {
		return 0, nil
	}
	if c.feat.Batch {
		return c.readMMsgFill(msgs, fill, drain)
	}
	fill(msgs)
	return c.readOne(msgs)
}

// WriteBatch sends every message in order and returns how many went out
// whole. After an error, msgs[n] may have been sent in part if it was a
// train of several datagrams.
func (c *Conn) WriteBatch(msgs []OutMessage) (n int, err error) {
	if c.feat.Batch {
		return c.writeMMsg(msgs)
	}
	return c.writeEach(msgs)
}

// WriteGSO sends buf to addr as consecutive datagrams of segSize bytes, the
// last possibly shorter (segSize <= 0: one datagram), marked with ecn. With
// GSO that is one system call per MaxGSOSegments datagrams or MaxGSOBytes;
// without, one per datagram or per sendmmsg batch. segSize plus the IP and
// UDP headers must fit the interface MTU: the kernel refuses a larger one
// with EINVAL, which turns GSO off for the Conn.
func (c *Conn) WriteGSO(buf []byte, segSize int, addr netip.AddrPort, ecn uint8) error {
	if c.feat.Batch {
		return c.writeGSOMMsg(buf, segSize, addr, ecn)
	}
	_, err := c.writeSegments(buf, segSize, addr)
	return err
}

// readOne is the portable read: one datagram per call.
func (c *Conn) readOne(msgs []Message) (int, error) {
	m := &msgs[0]
	n, addr, err := c.uc.ReadFromUDPAddrPort(m.Buf)
	if err != nil {
		return 0, err
	}
	m.N = n
	m.Addr = netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port())
	m.SegSize = 0
	m.ECN = NotECT
	return 1, nil
}

// writeEach is the portable write: one datagram per call.
func (c *Conn) writeEach(msgs []OutMessage) (int, error) {
	for i := range msgs {
		m := &msgs[i]
		if _, err := c.writeSegments(m.Buf, m.SegSize, m.Addr); err != nil {
			return i, err
		}
	}
	return len(msgs), nil
}

// writeSegments sends buf as datagrams of segSize bytes, one call each, and
// returns how many bytes went out.
func (c *Conn) writeSegments(buf []byte, segSize int, addr netip.AddrPort) (int, error) {
	off := 0
	for {
		n, _ := nextChunk(len(buf)-off, segSize, false)
		if _, err := c.uc.WriteToUDPAddrPort(buf[off:off+n], addr); err != nil {
			return off, err
		}
		off += n
		if off >= len(buf) {
			return off, nil
		}
	}
}

// nextChunk says how many of the remaining bytes of a train of segSize-byte
// datagrams the next send carries, and whether it is a segmented (GSO) send.
// A segmented send holds at least two datagrams and respects MaxGSOSegments
// and MaxGSOBytes.
func nextChunk(remaining, segSize int, gso bool) (n int, segmented bool) {
	if segSize <= 0 || remaining <= segSize {
		return remaining, false
	}
	if !gso {
		return segSize, false
	}
	segs := min(MaxGSOSegments, MaxGSOBytes/segSize)
	if segs < 2 {
		return segSize, false
	}
	n = min(remaining, segs*segSize)
	return n, n > segSize
}
