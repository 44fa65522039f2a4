package wire

import (
	"strconv"
)

// ErrorCode is a QUIC transport error code, RFC 9000 §20.1.
type ErrorCode uint64

// Transport error codes, RFC 9000 §20.1.
const (
	NoError                 ErrorCode = 0x00
	InternalError           ErrorCode = 0x01
	ConnectionRefused       ErrorCode = 0x02
	FlowControlError        ErrorCode = 0x03
	StreamLimitError        ErrorCode = 0x04
	StreamStateError        ErrorCode = 0x05
	FinalSizeError          ErrorCode = 0x06
	FrameEncodingError      ErrorCode = 0x07
	TransportParameterError ErrorCode = 0x08
	ConnectionIDLimitError  ErrorCode = 0x09
	ProtocolViolation       ErrorCode = 0x0a
	InvalidToken            ErrorCode = 0x0b
	ApplicationError        ErrorCode = 0x0c
	CryptoBufferExceeded    ErrorCode = 0x0d
	KeyUpdateError          ErrorCode = 0x0e
	AEADLimitReached        ErrorCode = 0x0f
	NoViablePath            ErrorCode = 0x10
	// CryptoErrorBase plus a TLS alert number is a CRYPTO_ERROR
	// (0x0100-0x01ff), RFC 9001 §4.8.
	CryptoErrorBase ErrorCode = 0x0100
)

var errorCodeNames = [...]string{
	"NO_ERROR", "INTERNAL_ERROR", "CONNECTION_REFUSED", "FLOW_CONTROL_ERROR",
	"STREAM_LIMIT_ERROR", "STREAM_STATE_ERROR", "FINAL_SIZE_ERROR",
	"FRAME_ENCODING_ERROR", "TRANSPORT_PARAMETER_ERROR",
	"CONNECTION_ID_LIMIT_ERROR", "PROTOCOL_VIOLATION", "INVALID_TOKEN",
	"APPLICATION_ERROR", "CRYPTO_BUFFER_EXCEEDED", "KEY_UPDATE_ERROR",
	"AEAD_LIMIT_REACHED", "NO_VIABLE_PATH",
}

// IsCryptoError reports whether c is in the CRYPTO_ERROR range.
func (c ErrorCode) IsCryptoError() bool { return c >= 0x100 && c <= 0x1ff }

// TLSAlert returns the TLS alert carried by a CRYPTO_ERROR code.
func (c ErrorCode) TLSAlert() uint8 { return uint8(c - CryptoErrorBase) }

// String returns the RFC 9000 §20.1 name of c ("PROTOCOL_VIOLATION"),
// CRYPTO_ERROR(0x1xx) for a TLS alert, or the code in hex.
func (c ErrorCode) String() string {
	if int(c) < len(errorCodeNames) {
		return errorCodeNames[c]
	}
	if c.IsCryptoError() {
		return "CRYPTO_ERROR(0x" + strconv.FormatUint(uint64(c), 16) + ")"
	}
	return "0x" + strconv.FormatUint(uint64(c), 16)
}

// TransportError is a connection error: the code and reason to send in a
// CONNECTION_CLOSE frame of type 0x1c, and the type of the frame that caused
// it (0 when no frame did). Parsers return it; the connection sends it.
type TransportError struct {
	Code      ErrorCode
	FrameType uint64
	Reason    string
}

// Error returns "quic: CODE in frame 0xTYPE: reason", leaving out the frame
// type when it is 0 and the reason when it is empty.
func (e *TransportError) Error() string {
	s := "quic: " + e.Code.String()
	if e.FrameType != 0 {
		s += " in frame 0x" + strconv.FormatUint(e.FrameType, 16)
	}
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// Is makes errors.Is match two transport errors with the same code, so that
// errors.Is(err, &TransportError{Code: FlowControlError}) works.
func (e *TransportError) Is(target error) bool {
	t, ok := target.(*TransportError)
	return ok && t.Code == e.Code
}

// frameError returns a TransportError for a frame of type ft.
func frameError(code ErrorCode, ft uint64, reason string) *TransportError {
	return &TransportError{Code: code, FrameType: ft, Reason: reason}
}
