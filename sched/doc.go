// Package sched is the packet scheduler: it chooses the frames of each
// packet and packs them under the packet's budget, the bytes the path MTU,
// the congestion window, pacing and the anti-amplification limit leave.
//
// # Order
//
// A packet holds, in this order:
//
//  1. When the connection is closing, its CONNECTION_CLOSE and nothing else.
//  2. The ACK frame.
//  3. The connection's control frames (HANDSHAKE_DONE, MAX_DATA,
//     MAX_STREAMS, NEW_CONNECTION_ID, PATH_CHALLENGE/RESPONSE, *_BLOCKED,
//     ...), in the order the connection gives them.
//  4. The streams' control frames (MAX_STREAM_DATA, STOP_SENDING,
//     RESET_STREAM, STREAM_DATA_BLOCKED), streams in the order they asked.
//  5. CRYPTO data.
//  6. Lost stream data, re-sent stream by stream in the order the losses
//     were reported.
//  7. DATAGRAM frames.
//  8. New stream data, by priority (below).
//
// Control frames come before any stream data in every packet, so bulk
// transfers never delay them: a control frame queued now leaves in the next
// packet. Initial and Handshake packets carry only 1, 2 and 5; 0-RTT packets
// carry neither ACK nor CRYPTO frames (RFC 9000 §12.4, Table 3).
//
// # Fairness among streams
//
// Streams with new data are served by urgency first, as in RFC 9218: a
// stream of urgency 0 goes before one of urgency 1, and so on down to 7; a
// less urgent stream sends only when every more urgent one has nothing to
// send (or is blocked by its own flow control).
//
// Within one urgency, incremental streams take turns (round-robin). In its
// turn a stream may send its quantum of bytes (Config.Quantum; by default
// one full packet), then the next one gets its turn. A stream that sent a
// little more than its quantum in one turn gets that much less in the next,
// and one that sent less keeps the rest, so over time every busy stream
// gets the same number of bytes. Non-incremental streams of the urgency are
// sent one at a time, lowest stream ID first, each until it has nothing more
// (RFC 9218 §4.2): they share a single place in the round, so they neither
// starve the incremental streams nor are starved by them.
//
// When a stream has less to send than the room left in a packet, the next
// stream fills the rest, so packets leave full. Connection-level flow
// control (Packet.Credit) is shared by all streams: when it runs out, no new
// stream data is sent, and every stream keeps its place.
//
// # Records
//
// Each frame added to a packet is noted in the packet's Record, so that on
// loss a stream re-queues the lost range and a control frame is re-sent
// with its current value. Records are recycled through a RecordPool.
//
// # Cost
//
// Building a packet allocates nothing once the scheduler has seen its
// streams: the per-stream bookkeeping lives in recycled nodes threaded into
// intrusive lists, and the hot path walks those lists.
package sched
