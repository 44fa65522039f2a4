package quic

import "net"

// socketBufferSize is what we ask the OS for on each socket's send and
// receive buffers: bulk transfers need room for bursts between reads.
const socketBufferSize = 7 << 20

// setSocketBuffers enlarges the socket's buffers. The OS may cap them (on
// Linux, net.core.rmem_max); that only costs throughput, so errors are ignored.
func setSocketBuffers(pc *net.UDPConn) {
	pc.SetReadBuffer(socketBufferSize)
	pc.SetWriteBuffer(socketBufferSize)
}
