package quic

import (
	"sync/atomic"
	"time"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

// connFlow is connection-level flow control, RFC 9000 §4.1.
//
// Receiving: the sum of every stream's highest received offset may not
// pass the MAX_DATA we advertised. We raise MAX_DATA only for data the
// application has read (Conn.consumed), and the window doubles when the
// reader consumes a whole window within two round trips (auto-tuning, as TCP
// does), up to Config.MaxConnectionReceiveWindow.
//
// Sending: new stream data may not pass the peer's MAX_DATA; credit is what
// is left, shared by all streams through the scheduler.
type connFlow struct {
	recvMax       uint64 // the MAX_DATA we advertised
	recvWindow    uint64
	recvMaxWindow uint64
	received      uint64 // sum of the streams' highest received offsets
	maxDataDue    bool   // a MAX_DATA frame is due
	wakeAt        atomic.Uint64
	lastRaise     time.Time

	sendMax    uint64 // the peer's MAX_DATA
	credit     uint64 // sendMax minus new bytes sent; the scheduler spends it
	blockedAt  uint64 // the limit at which we last sent DATA_BLOCKED
	blockedDue bool
}

func (f *connFlow) init(config *Config) {
	f.recvWindow = config.InitialConnectionReceiveWindow
	f.recvMax = f.recvWindow
	f.recvMaxWindow = config.MaxConnectionReceiveWindow
	f.wakeAt.Store(f.recvMax - f.recvWindow/2)
}

// onReceived accounts for grow new bytes of stream data.
func (f *connFlow) onReceived(grow uint64, ft uint64) error {
	f.received += grow
	if f.received > f.recvMax {
		return &wire.TransportError{Code: wire.FlowControlError, FrameType: ft, Reason: "connection flow control limit exceeded"}
	}
	return nil
}

// update raises MAX_DATA when the application has read past half the
// window; consumed is Conn.consumed.
func (f *connFlow) update(consumed uint64, now time.Time, srtt time.Duration) {
	if f.recvMax-consumed >= f.recvWindow/2 || consumed > f.recvMax {
		return
	}
	if !f.lastRaise.IsZero() && srtt > 0 && now.Sub(f.lastRaise) < 2*srtt {
		f.recvWindow = min(2*f.recvWindow, f.recvMaxWindow)
	}
	f.lastRaise = now
	f.recvMax = consumed + f.recvWindow
	f.maxDataDue = true
	f.wakeAt.Store(f.recvMax - f.recvWindow/2)
}

// setSendMax applies the peer's MAX_DATA (or initial_max_data).
func (f *connFlow) setSendMax(v uint64) {
	if v <= f.sendMax {
		return
	}
	f.credit += v - f.sendMax
	f.sendMax = v
}

// noteBlocked queues DATA_BLOCKED once per limit when streams wait for credit.
func (f *connFlow) noteBlocked() {
	if f.credit == 0 && f.blockedAt != f.sendMax {
		f.blockedAt = f.sendMax
		f.blockedDue = true
	}
}
