package http3

import (
	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

// Payload parsers for the frames read whole. Each payload must hold
// exactly its fields: short or long is H3_FRAME_ERROR (RFC 9114 §7.1,
// §10.8).

// maxVarintPayload is the longest payload of a one-varint frame.
const maxVarintPayload = 8

// parseVarintPayload parses the payload of CANCEL_PUSH, GOAWAY or
// MAX_PUSH_ID: one variable-length integer and nothing else.
func parseVarintPayload(p []byte) (uint64, error) {
	v, n, err := wire.ParseVarint(p)
	if err != nil || n != len(p) {
		return 0, connError(ErrCodeFrameError, "malformed frame payload")
	}
	return v, nil
}

// maxPriorityFieldValue bounds the Priority Field Value of a
// PRIORITY_UPDATE we look at; "u=7, i" and a few extension parameters
// take far less. Longer values are skipped.
const maxPriorityFieldValue = 1 << 10

// parsePriorityUpdate parses a PRIORITY_UPDATE payload (RFC 9218 §7.2):
// the Prioritized Element ID, then the Priority Field Value to the end.
func parsePriorityUpdate(p []byte) (id uint64, value []byte, err error) {
	id, n, err := wire.ParseVarint(p)
	if err != nil {
		return 0, nil, connError(ErrCodeFrameError, "malformed PRIORITY_UPDATE frame")
	}
	return id, p[n:], nil
}

// parsePushPromise parses a PUSH_PROMISE payload (RFC 9114 §7.2.5): the
// Push ID, then the encoded field section.
func parsePushPromise(p []byte) (pushID uint64, section []byte, err error) {
	pushID, n, err := wire.ParseVarint(p)
	if err != nil {
		return 0, nil, connError(ErrCodeFrameError, "malformed PUSH_PROMISE frame")
	}
	return pushID, p[n:], nil
}

// readPushPromise reads a PUSH_PROMISE that a client received and returns
// the connection error it calls for. We never send MAX_PUSH_ID, so its
// push ID is above the limit: H3_ID_ERROR (RFC 9114 §7.2.5), once the
// frame is known to be well formed (else H3_FRAME_ERROR).
func (r *frameReader) readPushPromise(length, limit uint64) error {
	errID := connError(ErrCodeIDError, "PUSH_PROMISE, but no push was allowed")
	p, err := r.readPayload(length, limit, errID)
	if err != nil {
		return err
	}
	if _, _, err := parsePushPromise(p); err != nil {
		return err
	}
	return errID
}
