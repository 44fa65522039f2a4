package stream

import (
	"sync"
	"time"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

// recvState is a state of the receiving part of a stream, RFC 9000 §3.2.
type recvState uint8

const (
	recvRecv       recvState = iota // receiving; final size unknown
	recvSizeKnown                   // FIN seen; data still missing
	recvDataRecvd                   // every byte up to the final size arrived
	recvDataRead                    // the application read everything (terminal)
	recvResetRecvd                  // RESET_STREAM arrived; the application not told yet
	recvResetRead                   // the application saw the reset (terminal)
)

var recvStateNames = [...]string{"Recv", "Size Known", "Data Recvd", "Data Read", "Reset Recvd", "Reset Read"}

func (s recvState) String() string { return recvStateNames[s] }

// ctlState tracks one control frame that must reach the peer (RFC 9000
// §13.3): not needed, waiting to be sent, or in flight.
type ctlState uint8

const (
	ctlNone ctlState = iota
	ctlPending
	ctlSent
)

// recvHalf is the receiving part of a stream. The connection goroutine
// writes incoming data into buf under mu; the application's Read copies it
// out under mu. Neither waits for the other while holding mu.
type recvHalf struct {
	mu    sync.Mutex
	state recvState

	stopped bool     // the application abandoned reading (CancelRead, Close); data is discarded
	closed  bool     // local Close: Read returns net.ErrClosed
	stopCtl ctlState // STOP_SENDING
	maxCtl  ctlState // MAX_STREAM_DATA

	buf        RecvBuffer
	highest    uint64 // largest offset received, counted by flow control (RFC 9000 §4.5)
	finalSize  uint64 // valid when finalKnown
	finalKnown bool

	// Flow control, RFC 9000 §4.1-4.2 (flow_recv.go).
	limit      uint64        // highest MAX_STREAM_DATA advertised
	window     uint64        // credit granted past the read offset at each update
	maxWindow  uint64        // auto-tune cap
	epochStart time.Duration // monotonic time the auto-tune epoch began; 0: not yet
	epochOff   uint64        // read offset when it began
	credited   uint64        // bytes reported through Owner.Consumed

	stopCode  uint64 // STOP_SENDING code, from CancelRead
	resetCode uint64 // the peer's RESET_STREAM code
	err       error  // set by Abort

	w      waiter
	readMu sync.Mutex // serialises Reads
}

func (r *recvHalf) init(cfg Config) {
	r.limit = cfg.InitialWindow
	r.window = cfg.InitialWindow
	r.maxWindow = cfg.MaxWindow
	// Flow control bounds the data (handleData checks r.limit first), so the
	// buffer's own bound only has to stay out of the way.
	r.buf.setLimit(1 << 62)
}

// terminal reports whether the receiving part reached Data Read or Reset
// Read, or the connection is gone.
func (r *recvHalf) terminal() bool {
	return r.state == recvDataRead || r.state == recvResetRead || r.err != nil
}

// discarding reports whether incoming data is thrown away rather than
// buffered for the application.
func (r *recvHalf) discarding() bool {
	return r.stopped || r.err != nil || r.state >= recvDataRead
}

// handleData processes a STREAM frame's range. It returns how much the
// highest received offset grew. RFC 9000 §4.5 (final size), §4.1 (flow
// control), §3.2 (states).
func (r *recvHalf) handleData(off uint64, data []byte, fin bool) (grow uint64, signal bool, err error) {
	const ft = wire.FrameTypeStream
	end := off + uint64(len(data))
	if end < off || end > wire.MaxVarint {
		// RFC 9000 §19.8: no credit can be given beyond 2^62-1.
		return 0, false, flowControlError(ft, "stream offset beyond 2^62-1")
	}
	if r.finalKnown {
		if end > r.finalSize {
			return 0, false, finalSizeError(ft, "data beyond the final size")
		}
		if fin && end != r.finalSize {
			return 0, false, finalSizeError(ft, "final size changed")
		}
	} else if fin && end < r.highest {
		return 0, false, finalSizeError(ft, "final size below data already received")
	}
	if end > r.limit {
		return 0, false, flowControlError(ft, "data beyond MAX_STREAM_DATA")
	}
	if end > r.highest {
		grow = end - r.highest
		r.highest = end
	}
	if fin && !r.finalKnown {
		r.finalKnown = true
		r.finalSize = end
		if r.state == recvRecv {
			r.state = recvSizeKnown
			r.maxCtl = ctlNone // RFC 9000 §3.2: MAX_STREAM_DATA only in Recv
			signal = true
		}
	}
	if r.state != recvRecv && r.state != recvSizeKnown {
		return grow, signal, nil // finished or reset: a late duplicate
	}
	if r.discarding() {
		if r.finalKnown {
			// The application gave up and the final size is settled:
			// nothing more to wait for.
			r.finishRead(recvDataRead)
		}
		return grow, signal, nil
	}
	before := r.buf.received()
	_ = r.buf.Push(off, data) // within r.limit, so within the buffer
	if r.buf.received() != before {
		signal = true
	}
	if r.finalKnown && r.buf.received() == r.finalSize {
		r.state = recvDataRecvd
		r.stopCtl = ctlNone
		signal = true
	}
	return grow, signal, nil
}

// handleReset processes RESET_STREAM, RFC 9000 §19.4, §3.2, §4.5.
func (r *recvHalf) handleReset(code, finalSize uint64) (grow uint64, signal bool, err error) {
	const ft = wire.FrameTypeResetStream
	if r.finalKnown && finalSize != r.finalSize {
		return 0, false, finalSizeError(ft, "final size changed")
	}
	if finalSize < r.highest {
		return 0, false, finalSizeError(ft, "final size below data already received")
	}
	if finalSize > r.limit {
		return 0, false, flowControlError(ft, "final size beyond MAX_STREAM_DATA")
	}
	grow = finalSize - r.highest
	r.highest = finalSize
	r.finalKnown = true
	r.finalSize = finalSize
	switch r.state {
	case recvRecv, recvSizeKnown:
		r.resetCode = code
		if r.stopped || r.err != nil {
			r.finishRead(recvResetRead) // the application already gave up
		} else {
			r.finishRead(recvResetRecvd)
		}
		signal = true
	default:
		// Data Recvd: every byte is here; the reset is suppressed and the
		// application reads the data (RFC 9000 §3.2 allows this). Terminal
		// states: nothing to do.
	}
	return grow, signal, nil
}

// finishRead moves to a state in which no more data will be read and drops
// the buffer and the control frames that no longer matter.
func (r *recvHalf) finishRead(s recvState) {
	r.state = s
	r.buf.Release()
	r.maxCtl = ctlNone
	r.stopCtl = ctlNone
	if s == recvDataRead || s == recvResetRead {
		r.w.stop()
	}
}

// cancel abandons reading with code (CancelRead, Close): buffered and future
// data is discarded and STOP_SENDING is sent if the peer may still send
// (RFC 9000 §3.5). It reports whether a control frame became pending.
func (r *recvHalf) cancel(code uint64) (wake bool) {
	if r.stopped || r.err != nil {
		return false
	}
	r.stopped = true
	r.stopCode = code
	switch r.state {
	case recvRecv:
		r.buf.Release()
		r.maxCtl = ctlNone
		r.stopCtl = ctlPending
		wake = true
	case recvSizeKnown, recvDataRecvd:
		// The final size is known: nothing more needs to arrive for flow
		// control to settle, so the part is done.
		r.finishRead(recvDataRead)
	case recvResetRecvd:
		r.finishRead(recvResetRead)
	}
	r.w.signal()
	return wake
}

// abort fails the half with err: the connection is gone.
func (r *recvHalf) abort(err error) {
	if r.err == nil {
		r.err = err
	}
	if r.buf.Readable() == 0 {
		r.buf.Release() // else Read delivers what is buffered first
	}
	r.maxCtl = ctlNone
	r.stopCtl = ctlNone
	r.w.stop()
	r.w.signal()
}

// creditDue returns how many bytes to report through Owner.Consumed now:
// the bytes the application read, plus, once data is being discarded or the
// stream was reset, every byte the peer sent (RFC 9000 §4.5: the final size
// counts against connection flow control even if never read).
func (r *recvHalf) creditDue() int {
	target := r.buf.Offset()
	if r.discarding() || r.state == recvResetRecvd {
		target = max(target, r.highest)
	}
	if target <= r.credited {
		return 0
	}
	n := target - r.credited
	r.credited = target
	return int(n)
}
