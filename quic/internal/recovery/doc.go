// Package recovery holds QUIC loss detection and congestion control
// (RFC 9002) and the receiver's side of acknowledgments (RFC 9000 §13.2).
//
// The connection goroutine owns one Recovery (the sender: sent packets per
// packet number space, RTT estimation, loss detection, the probe timeout,
// the congestion controller and the pacer) and one Received per packet
// number space (the receiver: which packet numbers arrived and when an ACK
// frame is due). Nothing here is safe for concurrent use, and nothing here
// reads the clock: every method that needs the time takes it as an argument,
// so tests drive it with explicit times or testing/synctest.
//
// Inside the package, instants are time.Duration offsets from the base time
// a Recovery was created with ("monotonic nanoseconds"); sched.Record.SentTime
// holds the same offset as an int64.
package recovery
