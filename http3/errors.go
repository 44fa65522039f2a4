package http3

import (
	"errors"
	"strconv"

	"github.com/tsumugi-quic/tsumugi/stream"
)

// ErrCode is an HTTP/3 application error code, carried by RESET_STREAM,
// STOP_SENDING and CONNECTION_CLOSE (RFC 9114 §8.1, RFC 9204 §6).
type ErrCode uint64

// HTTP/3 error codes, RFC 9114 §8.1.
const (
	ErrCodeNoError              ErrCode = 0x0100 // H3_NO_ERROR
	ErrCodeGeneralProtocolError ErrCode = 0x0101 // H3_GENERAL_PROTOCOL_ERROR
	ErrCodeInternalError        ErrCode = 0x0102 // H3_INTERNAL_ERROR
	ErrCodeStreamCreationError  ErrCode = 0x0103 // H3_STREAM_CREATION_ERROR
	ErrCodeClosedCriticalStream ErrCode = 0x0104 // H3_CLOSED_CRITICAL_STREAM
	ErrCodeFrameUnexpected      ErrCode = 0x0105 // H3_FRAME_UNEXPECTED
	ErrCodeFrameError           ErrCode = 0x0106 // H3_FRAME_ERROR
	ErrCodeExcessiveLoad        ErrCode = 0x0107 // H3_EXCESSIVE_LOAD
	ErrCodeIDError              ErrCode = 0x0108 // H3_ID_ERROR
	ErrCodeSettingsError        ErrCode = 0x0109 // H3_SETTINGS_ERROR
	ErrCodeMissingSettings      ErrCode = 0x010a // H3_MISSING_SETTINGS
	ErrCodeRequestRejected      ErrCode = 0x010b // H3_REQUEST_REJECTED
	ErrCodeRequestCancelled     ErrCode = 0x010c // H3_REQUEST_CANCELLED
	ErrCodeRequestIncomplete    ErrCode = 0x010d // H3_REQUEST_INCOMPLETE
	ErrCodeMessageError         ErrCode = 0x010e // H3_MESSAGE_ERROR
	ErrCodeConnectError         ErrCode = 0x010f // H3_CONNECT_ERROR
	ErrCodeVersionFallback      ErrCode = 0x0110 // H3_VERSION_FALLBACK
)

// QPACK error codes, RFC 9204 §6.
const (
	ErrCodeQPACKDecompressionFailed ErrCode = 0x0200 // QPACK_DECOMPRESSION_FAILED
	ErrCodeQPACKEncoderStreamError  ErrCode = 0x0201 // QPACK_ENCODER_STREAM_ERROR
	ErrCodeQPACKDecoderStreamError  ErrCode = 0x0202 // QPACK_DECODER_STREAM_ERROR
)

var errCodeNames = map[ErrCode]string{
	ErrCodeNoError:                  "H3_NO_ERROR",
	ErrCodeGeneralProtocolError:     "H3_GENERAL_PROTOCOL_ERROR",
	ErrCodeInternalError:            "H3_INTERNAL_ERROR",
	ErrCodeStreamCreationError:      "H3_STREAM_CREATION_ERROR",
	ErrCodeClosedCriticalStream:     "H3_CLOSED_CRITICAL_STREAM",
	ErrCodeFrameUnexpected:          "H3_FRAME_UNEXPECTED",
	ErrCodeFrameError:               "H3_FRAME_ERROR",
	ErrCodeExcessiveLoad:            "H3_EXCESSIVE_LOAD",
	ErrCodeIDError:                  "H3_ID_ERROR",
	ErrCodeSettingsError:            "H3_SETTINGS_ERROR",
	ErrCodeMissingSettings:          "H3_MISSING_SETTINGS",
	ErrCodeRequestRejected:          "H3_REQUEST_REJECTED",
	ErrCodeRequestCancelled:         "H3_REQUEST_CANCELLED",
	ErrCodeRequestIncomplete:        "H3_REQUEST_INCOMPLETE",
	ErrCodeMessageError:             "H3_MESSAGE_ERROR",
	ErrCodeConnectError:             "H3_CONNECT_ERROR",
	ErrCodeVersionFallback:          "H3_VERSION_FALLBACK",
	ErrCodeQPACKDecompressionFailed: "QPACK_DECOMPRESSION_FAILED",
	ErrCodeQPACKEncoderStreamError:  "QPACK_ENCODER_STREAM_ERROR",
	ErrCodeQPACKDecoderStreamError:  "QPACK_DECODER_STREAM_ERROR",
}

// String returns the RFC name of the code ("H3_FRAME_UNEXPECTED"), or
// "H3_GREASE_0x…" for a reserved code (RFC 9114 §8.1) and "H3_0x…" for any
// other unknown one. Unknown codes mean H3_NO_ERROR to a receiver.
func (c ErrCode) String() string {
	if s, ok := errCodeNames[c]; ok {
		return s
	}
	if isReserved(uint64(c)) {
		return "H3_GREASE_0x" + strconv.FormatUint(uint64(c), 16)
	}
	return "H3_0x" + strconv.FormatUint(uint64(c), 16)
}

// isReserved reports whether v is of the form 0x1f*N + 0x21, the values
// reserved in every HTTP/3 registry to exercise "ignore what you do not
// know" (RFC 9114 §6.2.3, §7.2.4.1, §7.2.8, §8.1).
func isReserved(v uint64) bool {
	return v >= 0x21 && (v-0x21)%0x1f == 0
}

// Error is an HTTP/3 error: a stream abandoned or a connection closed with
// an HTTP/3 error code, by us or (Remote) by the peer. RoundTrip and the
// request and response bodies return it; errors.As finds it.
type Error struct {
	Code       ErrCode
	Remote     bool   // the peer sent the code
	Connection bool   // the whole connection, not one stream
	Reason     string // why, when we know
}

// Error describes the error, for example
// "http3: stream error H3_MESSAGE_ERROR: missing :path".
func (e *Error) Error() string {
	s := "http3: "
	if e.Remote {
		s += "peer "
	}
	if e.Connection {
		s += "connection error "
	} else {
		s += "stream error "
	}
	s += e.Code.String()
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// Is makes errors.Is(err, &Error{Code: c}) match any *Error with code c.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// connError is a connection error we detected: the connection is closed
// with code (RFC 9114 §8).
func connError(code ErrCode, reason string) *Error {
	return &Error{Code: code, Connection: true, Reason: reason}
}

// streamError is a stream error we detected: the stream is abandoned with
// code in both directions (RFC 9114 §8).
func streamError(code ErrCode, reason string) *Error {
	return &Error{Code: code, Reason: reason}
}

// asConnError returns err as a connection error we must close with, or
// nil.
func asConnError(err error) *Error {
	var e *Error
	if errors.As(err, &e) && e.Connection && !e.Remote {
		return e
	}
	return nil
}

// asStreamError returns err as a stream error we must reset with, or nil.
func asStreamError(err error) *Error {
	var e *Error
	if errors.As(err, &e) && !e.Connection && !e.Remote {
		return e
	}
	return nil
}

// peerStreamError translates a *stream.StreamError from a Read or Write
// (the peer reset the stream or asked us to stop sending) into an *Error
// with Remote set; other errors are returned unchanged.
func peerStreamError(err error) error {
	var se *stream.StreamError
	if errors.As(err, &se) && se.Remote {
		return &Error{Code: ErrCode(se.Code), Remote: true}
	}
	return err
}

// errFieldSectionTooLarge: a decoded field section is over our
// SETTINGS_MAX_FIELD_SECTION_SIZE (RFC 9114 §4.2.2). A server answers 431.
var errFieldSectionTooLarge = errors.New("http3: field section exceeds SETTINGS_MAX_FIELD_SECTION_SIZE")
