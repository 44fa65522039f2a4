package sched

// This file is the seam between the scheduler and what it schedules. The
// scheduler never imports the stream or quic packages: streams and the
// connection implement these interfaces. All methods are called from the
// connection goroutine only.

// FrameSource appends frames of one kind (the ACK, the connection's control
// frames, CRYPTO data, a CONNECTION_CLOSE) to a packet under construction.
type FrameSource interface {
	// AppendFrames appends as many of its frames as fit in max bytes to b,
	// records each one in rec (Record.Add), and returns the extended
	// slice. It never appends more than max bytes; it appends nothing when
	// it has nothing to send or nothing fits.
	AppendFrames(b []byte, max int, rec *Record) []byte
}

// StreamSource is one stream's sending side as the scheduler sees it.
type StreamSource interface {
	// StreamID returns the stream's ID.
	StreamID() uint64

	// AppendControlFrames appends the stream's pending control frames
	// (MAX_STREAM_DATA, STOP_SENDING, RESET_STREAM, STREAM_DATA_BLOCKED)
	// that fit in max bytes, records each, and reports whether any remain
	// pending afterwards.
	AppendControlFrames(b []byte, max int, rec *Record) (out []byte, pending bool)

	// AppendStreamFrame appends at most one STREAM frame of at most max
	// bytes. With retransmit set it sends data declared lost (and a lost
	// FIN); otherwise it sends new data, at most *credit bytes of it (the
	// connection-level flow-control credit, RFC 9000 §4.1), and subtracts
	// what it sent from *credit. The frame omits its Length field exactly
	// when it fills max to the last byte (wire.StreamDataFit). It records
	// the frame and reports whether the stream still has data of the same
	// kind (lost, or new and allowed by its own stream-level limit) to send.
	AppendStreamFrame(b []byte, max int, retransmit bool, credit *uint64, rec *Record) (out []byte, more bool)
}
