package quic

import (
	"log"
	"net"
	"net/netip"
	"sync"

	"github.com/tsumugi-quic/tsumugi/quic/internal/udpio"
)

// batchConn is a socket that reads and writes many datagrams per system
// call: UDP GSO and GRO, recvmmsg and sendmmsg where the OS has them.
type batchConn interface {
	packetConn
	ReadBatch(msgs []udpio.Message) (int, error)
	ReadBatchFill(msgs []udpio.Message, fill, drain func([]udpio.Message)) (int, error)
	WriteGSO(buf []byte, segSize int, addr netip.AddrPort, ecn uint8) error
	Features() udpio.Features
}

// udpSocket adapts a udpio.Conn to packetConn and batchConn.
type udpSocket struct {
	*udpio.Conn
	mu   sync.Mutex
	msgs []udpio.Message // for ReadFromUDPAddrPort
}

func openUDPSocket(network, addr string) (*udpSocket, error) {
	c, err := udpio.Open(network, addr)
	if err != nil {
		return nil, err
	}
	warnBuffersOnce(c.Features())
	return &udpSocket{Conn: c, msgs: make([]udpio.Message, 1)}, nil
}

var bufferWarning sync.Once

// warnBuffersOnce tells the user, once per process, when the OS granted
// smaller socket buffers than we asked for: bulk transfers then drop
// packets in the kernel.
func warnBuffersOnce(f udpio.Features) {
	if w := f.BufferWarning(); w != "" {
		bufferWarning.Do(func() { log.Print("quic: ", w) })
	}
}

func (s *udpSocket) ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs[0] = udpio.Message{Buf: b}
	if _, err := s.ReadBatch(s.msgs); err != nil {
		return 0, netip.AddrPort{}, err
	}
	return s.msgs[0].N, s.msgs[0].Addr, nil
}

func (s *udpSocket) WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	if err := s.WriteGSO(b, len(b), addr, 0); err != nil {
		return 0, err
	}
	return len(b), nil
}

var (
	_ batchConn  = (*udpSocket)(nil)
	_ packetConn = (*net.UDPConn)(nil)
)
