package stream

import "time"

// Receive-side flow control for one stream, RFC 9000 §4.1-4.2.
//
// We advertise credit only for data the application consumed: the limit is
// always (read offset at the last update) + window, never more, so the
// bytes buffered for a stream never exceed its window. A new MAX_STREAM_DATA
// goes out when less than half of the window remains unconsumed-but-allowed
// (limit - read offset < window/2), which keeps the peer from stalling while
// sending an update at most every half window.
//
// Auto-tuning (as TCP receive buffers do): an epoch starts at the first
// Read. When the reader has consumed a whole window since the epoch began,
// and took less than two round trips to do so, the window is the bottleneck
// (the sender cannot fill the path), so it doubles, up to MaxWindow. Either
// way a new epoch starts. A slow reader never grows its window, so memory
// follows the reader's pace.

// monoStart anchors monotonic timestamps stored as Durations (8 bytes
// instead of a 24-byte time.Time per stream).
var monoStart = time.Now()

func monoNow() time.Duration { return time.Since(monoStart) }

// onConsumed updates flow control after the application read data. rtt is
// the connection's smoothed RTT (0 if unknown). It reports whether a
// MAX_STREAM_DATA frame became pending.
func (r *recvHalf) onConsumed(rtt time.Duration) bool {
	if r.state != recvRecv || r.stopped {
		return false // RFC 9000 §3.2: MAX_STREAM_DATA only in Recv
	}
	read := r.buf.Offset()
	if r.epochStart == 0 {
		r.epochStart = monoNow()
		r.epochOff = read
	}
	if r.limit-read >= r.window/2 {
		return false
	}
	if read-r.epochOff >= r.window {
		now := monoNow()
		if rtt > 0 && now-r.epochStart < 2*rtt && r.window < r.maxWindow {
			r.window = min(2*r.window, r.maxWindow)
		}
		r.epochStart = now
		r.epochOff = read
	}
	if newLimit := read + r.window; newLimit > r.limit {
		r.limit = newLimit
		r.maxCtl = ctlPending
		return true
	}
	return false
}
