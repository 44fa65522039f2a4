package stream

import (
	"strconv"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

// StreamError is the error a Read or Write returns when one direction of a
// stream was abandoned with an application error code: by the peer
// (RESET_STREAM seen by Read, STOP_SENDING seen by Write; Remote is set) or
// locally (CancelRead, CancelWrite).
type StreamError struct {
	StreamID ID
	Code     uint64 // application protocol error code
	Remote   bool   // the peer abandoned the stream

	// write is set when the sending direction was abandoned (STOP_SENDING
	// from the peer, or CancelWrite), clear for the receiving direction
	// (RESET_STREAM from the peer, or CancelRead).
	write bool
}

// Error describes the error, for example "stream 4 reset by peer: code 0x10c".
func (e *StreamError) Error() string {
	s := "stream " + e.StreamID.String()
	switch {
	case e.Remote && !e.write:
		s += " reset by peer"
	case e.Remote:
		s += " stopped by peer"
	case e.write:
		s += " write canceled"
	default:
		s += " read canceled"
	}
	return s + ": code 0x" + strconv.FormatUint(e.Code, 16)
}

// Is makes errors.Is(err, &StreamError{Code: c, Remote: r}) match a
// StreamError with the same Code and Remote, on any stream.
func (e *StreamError) Is(target error) bool {
	t, ok := target.(*StreamError)
	return ok && t.Code == e.Code && t.Remote == e.Remote
}

// stateError is the STREAM_STATE_ERROR for a frame of type ft on a stream
// that lacks the direction it refers to (RFC 9000 §19.4, §19.5, §19.8,
// §19.10).
func stateError(ft uint64, reason string) *wire.TransportError {
	return &wire.TransportError{Code: wire.StreamStateError, FrameType: ft, Reason: reason}
}

func flowControlError(ft uint64, reason string) *wire.TransportError {
	return &wire.TransportError{Code: wire.FlowControlError, FrameType: ft, Reason: reason}
}

func finalSizeError(ft uint64, reason string) *wire.TransportError {
	return &wire.TransportError{Code: wire.FinalSizeError, FrameType: ft, Reason: reason}
}
