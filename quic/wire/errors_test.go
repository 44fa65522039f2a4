package wire

import (
	"errors"
	"fmt"
	"testing"
)

func TestErrorCodeString(t *testing.T) {
	for _, tc := range []struct {
		c    ErrorCode
		want string
	}{
		{NoError, "NO_ERROR"},
		{FrameEncodingError, "FRAME_ENCODING_ERROR"},
		{ProtocolViolation, "PROTOCOL_VIOLATION"},
		{NoViablePath, "NO_VIABLE_PATH"},
		{CryptoErrorBase + 42, "CRYPTO_ERROR(0x12a)"},
		{0x11, "0x11"},
		{0x200, "0x200"},
	} {
		if got := tc.c.String(); got != tc.want {
			t.Errorf("%#x.String() = %q, want %q", uint64(tc.c), got, tc.want)
		}
	}
	if c := CryptoErrorBase + 80; !c.IsCryptoError() || c.TLSAlert() != 80 {
		t.Errorf("CRYPTO_ERROR(80): IsCryptoError %v, alert %d", c.IsCryptoError(), c.TLSAlert())
	}
	for _, c := range []ErrorCode{0xff, 0x200, ProtocolViolation} {
		if c.IsCryptoError() {
			t.Errorf("%v is a crypto error", c)
		}
	}
}

func TestTransportError(t *testing.T) {
	e := frameError(FrameEncodingError, FrameTypeAck, "first ACK range below packet 0")
	if got, want := e.Error(), "quic: FRAME_ENCODING_ERROR in frame 0x2: first ACK range below packet 0"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if got, want := (&TransportError{Code: NoError}).Error(), "quic: NO_ERROR"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	wrapped := fmt.Errorf("conn: %w", e)
	if !errors.Is(wrapped, &TransportError{Code: FrameEncodingError}) {
		t.Error("errors.Is does not match by code")
	}
	if errors.Is(wrapped, &TransportError{Code: ProtocolViolation}) {
		t.Error("errors.Is matches another code")
	}
	if errors.Is(e, errors.New("x")) {
		t.Error("errors.Is matches a non-TransportError")
	}
}
