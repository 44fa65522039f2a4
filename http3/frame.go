package http3

import (
	"math/rand/v2"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

// HTTP/3 frames, RFC 9114 §7: Type (i), Length (i), Payload. The append
// functions here build frames; frame_reader.go reads them from a stream and
// frame_payload.go parses the payloads that are not streamed.

// Frame types, RFC 9114 §7.2 and RFC 9218 §7.2.
const (
	frameData                  = 0x00
	frameHeaders               = 0x01
	frameCancelPush            = 0x03
	frameSettings              = 0x04
	framePushPromise           = 0x05
	frameGoAway                = 0x07
	frameMaxPushID             = 0x0d
	framePriorityUpdateRequest = 0xf0700
	framePriorityUpdatePush    = 0xf0701
)

// isHTTP2FrameType reports the frame types HTTP/2 used that HTTP/3 has no
// equivalent for: PRIORITY, PING, WINDOW_UPDATE, CONTINUATION. Receiving
// one is H3_FRAME_UNEXPECTED (RFC 9114 §7.2.8, §11.2.1).
func isHTTP2FrameType(t uint64) bool {
	return t == 0x02 || t == 0x06 || t == 0x08 || t == 0x09
}

// isKnownFrameType reports the frame types we act on; every other type is
// skipped unread (RFC 9114 §9).
func isKnownFrameType(t uint64) bool {
	switch t {
	case frameData, frameHeaders, frameCancelPush, frameSettings, framePushPromise,
		frameGoAway, frameMaxPushID, framePriorityUpdateRequest, framePriorityUpdatePush:
		return true
	}
	return false
}

// Unidirectional stream types, RFC 9114 §6.2 and RFC 9204 §4.2.
const (
	streamTypeControl      = 0x00
	streamTypePush         = 0x01
	streamTypeQPACKEncoder = 0x02
	streamTypeQPACKDecoder = 0x03
)

// greaseValue returns a random value of the reserved form 0x1f*N + 0x21
// (RFC 9114 §6.2.3, §7.2.4.1, §7.2.8), for a frame type or setting that the
// peer must ignore.
func greaseValue() uint64 {
	return 0x1f*uint64(rand.IntN(1<<16)) + 0x21
}

// appendFrameHeader appends a frame's Type and Length.
func appendFrameHeader(b []byte, typ, length uint64) []byte {
	b = wire.AppendVarint(b, typ)
	return wire.AppendVarint(b, length)
}

// appendDataFrameHeader appends the header of a DATA frame of n bytes; the
// payload follows it on the stream.
func appendDataFrameHeader(b []byte, n int) []byte {
	return appendFrameHeader(b, frameData, uint64(n))
}

// appendVarintFrame appends a frame whose payload is one variable-length
// integer: CANCEL_PUSH (push ID), GOAWAY (stream or push ID), MAX_PUSH_ID.
func appendVarintFrame(b []byte, typ, v uint64) []byte {
	b = appendFrameHeader(b, typ, uint64(wire.VarintLen(v)))
	return wire.AppendVarint(b, v)
}

// appendPushPromiseFrame appends a PUSH_PROMISE frame (RFC 9114 §7.2.5).
func appendPushPromiseFrame(b []byte, pushID uint64, section []byte) []byte {
	b = appendFrameHeader(b, framePushPromise, uint64(wire.VarintLen(pushID)+len(section)))
	b = wire.AppendVarint(b, pushID)
	return append(b, section...)
}

// appendPriorityUpdateFrame appends a PRIORITY_UPDATE frame (RFC 9218
// §7.2) for a request stream ID or, with push set, a push ID; value is a
// Priority Field Value such as "u=1, i".
func appendPriorityUpdateFrame(b []byte, push bool, id uint64, value string) []byte {
	typ := uint64(framePriorityUpdateRequest)
	if push {
		typ = framePriorityUpdatePush
	}
	b = appendFrameHeader(b, typ, uint64(wire.VarintLen(id)+len(value)))
	b = wire.AppendVarint(b, id)
	return append(b, value...)
}

// appendGreaseFrame appends a frame of a reserved type with a short random
// payload (RFC 9114 §7.2.8); peers must skip it.
func appendGreaseFrame(b []byte) []byte {
	n := rand.IntN(8)
	b = appendFrameHeader(b, greaseValue(), uint64(n))
	for range n {
		b = append(b, byte(rand.IntN(256)))
	}
	return b
}
