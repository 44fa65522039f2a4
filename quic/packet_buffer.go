package quic

import (
	"net/netip"
	"sync"
)

// datagram is one received UDP datagram. Its buffer comes from bufPool and
// goes back there once the connection goroutine has processed it.
type datagram struct {
	buf  *[]byte
	b    []byte // the payload, within *buf
	addr netip.AddrPort
}

var bufPool = sync.Pool{New: func() any {
	b := make([]byte, maxPacketBufferSize)
	return &b
}}

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

func putBuf(b *[]byte) {
	*b = (*b)[:cap(*b)]
	bufPool.Put(b)
}

// release returns the datagram's buffer to the pool.
func (d *datagram) release() {
	if d.buf != nil {
		putBuf(d.buf)
		d.buf, d.b = nil, nil
	}
}
