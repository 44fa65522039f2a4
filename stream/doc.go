// Package stream implements QUIC streams (RFC 9000 §2-4): stream IDs, the
// sending and receiving state machines, reassembly of out-of-order data,
// send buffers with retransmission, stream flow control, and the face the
// application uses: *Stream is a net.Conn, *SendStream and *ReceiveStream
// are the halves of unidirectional streams. It never imports package quic.
//
// # Who runs what
//
// Two kinds of goroutines touch a stream. The application's goroutines call
// Read, Write, Close and the deadline setters on *Stream. One connection
// goroutine (in package quic) owns everything else: it decrypts packets,
// hands each stream its frames, and builds packets. It reaches a stream
// through *Core, the connection's side of the same object. There is no
// goroutine per stream inside the library, and no timer unless the
// application sets a deadline.
//
// Each stream has a sending half and a receiving half, each with its own
// mutex, so a Read never waits for a Write. The connection goroutine takes a
// half's mutex only to copy bytes or flip state, and never waits for the
// application: it never blocks on a stream.
//
// # Incoming data
//
// When a STREAM frame arrives, the connection calls (*Core).HandleStream,
// which checks flow control and the final size, copies the data to its
// place in the receive half's reassembly buffer (RecvBuffer), and signals
// the half's wake channel. The copy never has to wait for room: the peer may
// only send within the window we advertised, and the buffer was sized for
// that window. A Read blocked on the half wakes up, copies the data out and
// returns. As the application consumes data, Read reports it with
// Owner.Consumed (for the connection's MAX_DATA) and, when half the window is
// used up, queues a MAX_STREAM_DATA frame. Credit is only ever granted for
// data the application took, so a slow reader holds at most one window of
// memory and never slows down the other streams.
//
// # Outgoing data
//
// Write copies the application's bytes into the send half's buffer
// (SendBuffer), blocking only while the buffer holds Config.SendBuffer
// unacknowledged bytes. It then calls Owner.Wake(id), unless a wake is
// already pending: the pending flag is cleared when the connection calls
// (*Core).Work, so a burst of Writes costs one wake-up. On a wake, the
// connection asks Work what kinds of frames the stream has (control frames,
// retransmissions, new data) and tells its scheduler. When the scheduler
// builds a packet it pulls frames through AppendControlFrames and
// AppendStreamFrame (the sched.StreamSource interface), which copy data
// straight from the send buffer into the packet: one copy from Write to the
// wire. When a packet is acknowledged or lost, the connection passes each
// of the stream's frame records to OnAcked or OnLost: acknowledged data
// frees buffer space (waking a blocked Write), lost data is queued again,
// and a lost control frame is re-sent with its current value.
//
// # Blocking and waking
//
// A blocked call sleeps on its half's capacity-1 wake channel, made the
// first time something has to block. Everyone who changes the half's state
// (the connection goroutine, a deadline timer, Close on another goroutine)
// sends on it without blocking; a signal that arrives while nobody sleeps
// stays in the channel, so none is lost. Calls of one direction are
// serialised (a read mutex, a write mutex), so there is at most one sleeper
// per channel. WaitAcked waits on a separate channel that is closed once.
//
// # Ending a stream
//
// The connection polls (*Core).Done to learn when both halves reached a
// terminal state (RFC 9000 §3.1, §3.2) and the stream can be forgotten, and
// (*Core).FinPending to let a graceful connection close wait for written,
// closed data to be acknowledged. (*Core).Abort ends every blocked and later
// call with the connection's error.
//
// Owner.Consumed may also be called from the connection goroutine, inside
// HandleStream, HandleResetStream: when the application abandoned reading or
// the peer reset the stream, the bytes that will never be read are returned
// to the connection's flow-control window at once (RFC 9000 §4.5).
package stream
