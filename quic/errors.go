package quic

import (
	"errors"
	"fmt"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

// TransportError is a connection closed with a transport error code
// (CONNECTION_CLOSE of type 0x1c, RFC 9000 §19.19). Remote tells whether the
// peer closed the connection or we did.
type TransportError struct {
	Code      wire.ErrorCode
	FrameType uint64
	Reason    string
	Remote    bool
}

func (e *TransportError) Error() string {
	who := "local"
	if e.Remote {
		who = "peer"
	}
	s := fmt.Sprintf("quic: connection closed by %s: %v", who, e.Code)
	if e.FrameType != 0 {
		s += fmt.Sprintf(" (frame 0x%x)", e.FrameType)
	}
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// Is matches another *TransportError with the same code.
func (e *TransportError) Is(target error) bool {
	t, ok := target.(*TransportError)
	return ok && t.Code == e.Code
}

// ApplicationError is a connection closed by an application (CONNECTION_CLOSE
// of type 0x1d): Conn.CloseWithError on either side. Conn.Close sends code 0.
type ApplicationError struct {
	Code   uint64
	Reason string
	Remote bool
}

func (e *ApplicationError) Error() string {
	who := "local"
	if e.Remote {
		who = "peer"
	}
	s := fmt.Sprintf("quic: connection closed by %s application: code 0x%x", who, e.Code)
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// Is matches another *ApplicationError with the same code.
func (e *ApplicationError) Is(target error) bool {
	t, ok := target.(*ApplicationError)
	return ok && t.Code == e.Code
}

// VersionNegotiationError is returned by Dial when the server supports none
// of our versions (RFC 9000 §6).
type VersionNegotiationError struct {
	Ours, Theirs []uint32
}

func (e *VersionNegotiationError) Error() string {
	return fmt.Sprintf("quic: no common version: we offer %#x, the server offers %#x", e.Ours, e.Theirs)
}

var (
	// ErrIdleTimeout: nothing was received for the idle timeout (RFC 9000 §10.1).
	ErrIdleTimeout = errors.New("quic: connection timed out: no network activity")
	// ErrHandshakeTimeout: the handshake did not finish in Config.HandshakeTimeout.
	ErrHandshakeTimeout = errors.New("quic: handshake timed out")
	// ErrStatelessReset: the peer sent a stateless reset (RFC 9000 §10.3).
	ErrStatelessReset = errors.New("quic: connection reset by peer (stateless reset)")
	// ErrEndpointClosed: the endpoint or listener was closed.
	ErrEndpointClosed = errors.New("quic: endpoint closed")
	// ErrServerBusy: the server refused the connection (CONNECTION_REFUSED).
	errServerBusy = &TransportError{Code: wire.ConnectionRefused, Reason: "server busy"}
)

// localTransportError turns an error from frame handling into the error we
// close with: a *wire.TransportError keeps its code, anything else is an
// INTERNAL_ERROR.
func localTransportError(err error) *TransportError {
	var te *wire.TransportError
	if errors.As(err, &te) {
		return &TransportError{Code: te.Code, FrameType: te.FrameType, Reason: te.Reason}
	}
	return &TransportError{Code: wire.InternalError, Reason: err.Error()}
}
