package quic

import (
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/tsumugi-quic/tsumugi/quic/internal/udpio"
)

// rxBuf is a receive buffer. With GRO one read fills it with many
// datagrams, which may go to different connections: each holds a reference,
// and the last one to finish returns the buffer to its pool.
type rxBuf struct {
	b    []byte
	refs atomic.Int32
	pool *sync.Pool
}

var (
	rxSmallPool = sync.Pool{}
	rxLargePool = sync.Pool{}
)

func init() {
	rxSmallPool.New = func() any { return &rxBuf{b: make([]byte, maxPacketBufferSize), pool: &rxSmallPool} }
	rxLargePool.New = func() any { return &rxBuf{b: make([]byte, udpio.GROBufferSize), pool: &rxLargePool} }
}

func getRxBuf(large bool) *rxBuf {
	p := &rxSmallPool
	if large {
		p = &rxLargePool
	}
	rb := p.Get().(*rxBuf)
	rb.refs.Store(1)
	return rb
}

func (rb *rxBuf) ref() { rb.refs.Add(1) }

func (rb *rxBuf) unref() {
	if rb.refs.Add(-1) == 0 {
		rb.pool.Put(rb)
	}
}

// datagram is one received UDP datagram. It holds a reference to its
// buffer until the connection goroutine has processed it.
type datagram struct {
	rb   *rxBuf
	b    []byte // the payload, within rb.b
	addr netip.AddrPort
	ecn  uint8
	sock int // the endpoint socket it arrived on
}

// release drops the datagram's reference to its buffer.
func (d *datagram) release() {
	if d.rb != nil {
		d.rb.unref()
		d.rb, d.b = nil, nil
	}
}

// txPool holds buffers for trains of datagrams sent with one system call
// (GSO): a connection takes one while it sends, so idle connections hold
// none.
var txPool = sync.Pool{New: func() any {
	b := make([]byte, 0, maxSendBatch)
	return &b
}}

// maxSendBatch is the largest train of datagrams sent at once: the UDP
// payload limit of a GSO send.
const maxSendBatch = 65507
