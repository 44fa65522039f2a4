package qlog

import (
	"time"
	"unicode/utf8"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

// Frame methods of Packet: one per QUIC frame of quic events §8.13 (RFC 9000
// §19, RFC 9221 §4). Each appends one frame object to the open packet's
// "frames" array and is a no-op on a Packet that is not open.

// Padding logs a run of n PADDING bytes as one frame, with n in
// raw.payload_length as §8.13.1 asks (and in raw.length).
func (p Packet) Padding(n int) {
	b := p.frame("padding")
	if b == nil {
		return
	}
	b = obj(b, "raw")
	b = fu(b, "length", uint64(max(n, 0)))
	b = fu(b, "payload_length", uint64(max(n, 0)))
	p.done(append(b, '}'))
}

// Ping logs a PING frame (§8.13.2).
func (p Packet) Ping() { p.simple("ping") }

// HandshakeDone logs a HANDSHAKE_DONE frame (§8.13.21).
func (p Packet) HandshakeDone() { p.simple("handshake_done") }

func (p Packet) simple(name string) {
	if b := p.frame(name); b != nil {
		p.done(b)
	}
}

// Ack logs an ACK frame (§8.13.3) with its ranges (in any order; a
// one-packet range is written [n], a longer one [smallest,largest]) and its
// ACK Delay, already scaled by the ack_delay_exponent (RFC 9000 §19.3).
func (p Packet) Ack(ranges []wire.AckRange, delay time.Duration) {
	if b := p.ack(ranges, delay); b != nil {
		p.done(b)
	}
}

// AckECN logs an ACK frame with ECN counts (type 0x03, RFC 9000 §19.3.2).
func (p Packet) AckECN(ranges []wire.AckRange, delay time.Duration, ect0, ect1, ce uint64) {
	b := p.ack(ranges, delay)
	if b == nil {
		return
	}
	b = fu(b, "ect1", ect1)
	b = fu(b, "ect0", ect0)
	b = fu(b, "ce", ce)
	p.done(b)
}

func (p Packet) ack(ranges []wire.AckRange, delay time.Duration) []byte {
	b := p.frame("ack")
	if b == nil {
		return nil
	}
	b = fms(b, "ack_delay", delay)
	if len(ranges) > 0 {
		b = arr(b, "acked_ranges")
		for _, r := range ranges {
			b = append(elem(b), '[')
			b = appendUint(b, r.Smallest)
			if r.Largest != r.Smallest {
				b = append(b, ',')
				b = appendUint(b, r.Largest)
			}
			b = append(b, ']')
		}
		b = append(b, ']')
	}
	return b
}

// ResetStream logs a RESET_STREAM frame (§8.13.4); the draft names no
// application errors, so error is "unknown" with error_code.
func (p Packet) ResetStream(id, code, finalSize uint64) {
	b := p.frame("reset_stream")
	if b == nil {
		return
	}
	b = fu(b, "stream_id", id)
	b = appendAppError(b, "error", code)
	b = fu(b, "final_size", finalSize)
	p.done(b)
}

// StopSending logs a STOP_SENDING frame (§8.13.6).
func (p Packet) StopSending(id, code uint64) {
	b := p.frame("stop_sending")
	if b == nil {
		return
	}
	b = fu(b, "stream_id", id)
	b = appendAppError(b, "error", code)
	p.done(b)
}

// Crypto logs a CRYPTO frame (§8.13.7): its Length field goes in raw.length,
// as the draft requires.
func (p Packet) Crypto(off, length uint64) {
	b := p.frame("crypto")
	if b == nil {
		return
	}
	b = fu(b, "offset", off)
	b = obj(b, "raw")
	b = fu(b, "length", length)
	p.done(append(b, '}'))
}

// NewToken logs a NEW_TOKEN frame (§8.13.8): a Token of type
// "resumption" (RFC 9000 §8.1.3), by length only.
func (p Packet) NewToken(tokenLen int) {
	b := p.frame("new_token")
	if b == nil {
		return
	}
	b = obj(b, "token")
	b = fs(b, "type", "resumption")
	b = appendRaw(b, tokenLen)
	p.done(append(b, '}'))
}

// Stream logs a STREAM frame (§8.13.9) carrying length bytes at offset off:
// the data length goes in raw.length, as the draft requires.
func (p Packet) Stream(id, off, length uint64, fin bool) {
	b := p.frame("stream")
	if b == nil {
		return
	}
	b = fu(b, "stream_id", id)
	b = fu(b, "offset", off)
	if fin {
		b = fbool(b, "fin", true)
	}
	b = obj(b, "raw")
	b = fu(b, "length", length)
	p.done(append(b, '}'))
}

// MaxData logs a MAX_DATA frame (§8.13.10).
func (p Packet) MaxData(max uint64) {
	if b := p.frame("max_data"); b != nil {
		p.done(fu(b, "maximum", max))
	}
}

// MaxStreamData logs a MAX_STREAM_DATA frame (§8.13.11).
func (p Packet) MaxStreamData(id, max uint64) {
	if b := p.frame("max_stream_data"); b != nil {
		p.done(fu(fu(b, "stream_id", id), "maximum", max))
	}
}

// MaxStreams logs a MAX_STREAMS frame (§8.13.12) for bidirectional or
// unidirectional streams.
func (p Packet) MaxStreams(bidi bool, max uint64) {
	if b := p.frame("max_streams"); b != nil {
		p.done(fu(fs(b, "stream_type", streamType(bidi)), "maximum", max))
	}
}

// DataBlocked logs a DATA_BLOCKED frame (§8.13.13).
func (p Packet) DataBlocked(limit uint64) {
	if b := p.frame("data_blocked"); b != nil {
		p.done(fu(b, "limit", limit))
	}
}

// StreamDataBlocked logs a STREAM_DATA_BLOCKED frame (§8.13.14).
func (p Packet) StreamDataBlocked(id, limit uint64) {
	if b := p.frame("stream_data_blocked"); b != nil {
		p.done(fu(fu(b, "stream_id", id), "limit", limit))
	}
}

// StreamsBlocked logs a STREAMS_BLOCKED frame (§8.13.15).
func (p Packet) StreamsBlocked(bidi bool, limit uint64) {
	if b := p.frame("streams_blocked"); b != nil {
		p.done(fu(fs(b, "stream_type", streamType(bidi)), "limit", limit))
	}
}

func streamType(bidi bool) string {
	if bidi {
		return "bidirectional"
	}
	return "unidirectional"
}

// NewConnectionID logs a NEW_CONNECTION_ID frame (§8.13.16); a nil token is
// left out.
func (p Packet) NewConnectionID(seq, retirePriorTo uint64, cid []byte, token *[16]byte) {
	b := p.frame("new_connection_id")
	if b == nil {
		return
	}
	b = fu(b, "sequence_number", seq)
	b = fu(b, "retire_prior_to", retirePriorTo)
	b = fu(b, "connection_id_length", uint64(len(cid)))
	b = fhex(b, "connection_id", cid)
	if token != nil {
		b = fhex(b, "stateless_reset_token", token[:])
	}
	p.done(b)
}

// RetireConnectionID logs a RETIRE_CONNECTION_ID frame (§8.13.17).
func (p Packet) RetireConnectionID(seq uint64) {
	if b := p.frame("retire_connection_id"); b != nil {
		p.done(fu(b, "sequence_number", seq))
	}
}

// PathChallenge logs a PATH_CHALLENGE frame (§8.13.18) with its data.
func (p Packet) PathChallenge(data [8]byte) {
	if b := p.frame("path_challenge"); b != nil {
		p.done(fhex(b, "data", data[:]))
	}
}

// PathResponse logs a PATH_RESPONSE frame (§8.13.19) with its data.
func (p Packet) PathResponse(data [8]byte) {
	if b := p.frame("path_response"); b != nil {
		p.done(fhex(b, "data", data[:]))
	}
}

// ConnectionClose logs a CONNECTION_CLOSE frame (§8.13.20): app for type
// 0x1d (application error), else a transport error with the type of the
// frame that caused it (0: none). The reason phrase is written as reason
// when it is valid UTF-8, else as reason_bytes.
func (p Packet) ConnectionClose(app bool, code, frameType uint64, reason []byte) {
	b := p.frame("connection_close")
	if b == nil {
		return
	}
	if app {
		b = fs(b, "error_space", "application")
		b = appendAppError(b, "error", code)
	} else {
		b = fs(b, "error_space", "transport")
		b = appendTransportError(b, "error", code)
		if frameType != 0 {
			if name := wire.FrameTypeName(frameType); name != "unknown" {
				b = fs(b, "trigger_frame_type", name)
			} else {
				b = fu(b, "trigger_frame_type", frameType)
			}
		}
	}
	if len(reason) > 0 {
		if utf8.Valid(reason) {
			b = appendString(key(b, "reason"), reason)
		} else {
			b = fhex(b, "reason_bytes", reason)
		}
	}
	p.done(b)
}

// Datagram logs a DATAGRAM frame (§8.13.23) carrying length bytes, in
// raw.length.
func (p Packet) Datagram(length uint64) {
	b := p.frame("datagram")
	if b == nil {
		return
	}
	b = obj(b, "raw")
	b = fu(b, "length", length)
	p.done(append(b, '}'))
}

// Frame logs a frame by its type alone: the §8.13 name (wire.FrameTypeName),
// or "unknown" with frame_type_bytes (§8.13.22) for a type without one.
// Only PADDING, PING, HANDSHAKE_DONE and DATAGRAM frames are complete
// without more members; the draft requires more of the others, so use
// their own methods (or Frames) for them.
func (p Packet) Frame(ft uint64) {
	name := wire.FrameTypeName(ft)
	b := p.frame(name)
	if b == nil {
		return
	}
	if name == "unknown" {
		b = fu(b, "frame_type_bytes", ft)
	}
	p.done(b)
}
