package http3

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"sync"

	"github.com/tsumugi-quic/tsumugi/quic"
	"github.com/tsumugi-quic/tsumugi/stream"
)

// h3conn is what both roles share on an HTTP/3 connection: our control
// stream and the peer's unidirectional streams (control, push, QPACK).
type h3conn struct {
	qc       *quic.Conn
	isServer bool

	// maxFieldSectionSize is our SETTINGS_MAX_FIELD_SECTION_SIZE: what we
	// advertise and enforce on every field section we decode.
	maxFieldSectionSize uint64

	// onControl handles the control-stream frames after SETTINGS that
	// depend on the role: GOAWAY, MAX_PUSH_ID, CANCEL_PUSH and
	// PRIORITY_UPDATE, given their payloads.
	onControl func(typ uint64, payload []byte) error

	ctrlMu sync.Mutex
	ctrl   *stream.SendStream // our control stream
	ctrlB  []byte

	peerMu   sync.Mutex
	peer     peerSettings
	settings chan struct{} // closed when the peer's SETTINGS arrived

	uniMu   sync.Mutex
	seenUni [4]bool // by stream type: one of each critical stream

	wg sync.WaitGroup // goroutines reading the peer's streams
}

func newH3Conn(qc *quic.Conn, isServer bool, maxFieldSectionSize uint64) *h3conn {
	return &h3conn{
		qc:                  qc,
		isServer:            isServer,
		maxFieldSectionSize: maxFieldSectionSize,
		peer:                defaultPeerSettings(),
		settings:            make(chan struct{}),
	}
}

// start opens our control stream with our SETTINGS (RFC 9114 §6.2.1: as
// soon as the transport can send, without waiting for the peer) and starts
// reading the peer's unidirectional streams.
func (c *h3conn) start(ctx context.Context) error {
	s, err := c.qc.OpenUniStream(ctx)
	if err != nil {
		return err
	}
	// Our dynamic table capacity is 0 (RFC 9204 §3.2.3): peers then never
	// reference it, and we need neither QPACK stream. A reserved setting
	// and, sometimes, a reserved frame exercise the peer's duty to ignore
	// what it does not know (RFC 9114 §7.2.4.1, §7.2.8).
	b := []byte{streamTypeControl}
	b = appendSettingsFrame(b, []setting{
		{settingQPACKMaxTableCapacity, 0},
		{settingQPACKBlockedStreams, 0},
		{settingMaxFieldSectionSize, c.maxFieldSectionSize},
		{greaseValue(), rand.Uint64N(1 << 30)},
	})
	if rand.IntN(2) == 0 {
		b = appendGreaseFrame(b)
	}
	c.ctrlMu.Lock()
	c.ctrl = s
	_, err = s.Write(b)
	c.ctrlMu.Unlock()
	if err != nil {
		return err
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.acceptUniStreams()
	}()
	return nil
}

// writeControl appends a frame to our control stream.
func (c *h3conn) writeControl(appendFrame func([]byte) []byte) error {
	c.ctrlMu.Lock()
	defer c.ctrlMu.Unlock()
	if c.ctrl == nil {
		return errors.New("http3: control stream not open")
	}
	c.ctrlB = appendFrame(c.ctrlB[:0])
	_, err := c.ctrl.Write(c.ctrlB)
	return err
}

// peerSettings returns the peer's settings, or the defaults until its
// SETTINGS frame arrives.
func (c *h3conn) peerSettings() peerSettings {
	c.peerMu.Lock()
	defer c.peerMu.Unlock()
	return c.peer
}

// fail closes the connection with a connection error (RFC 9114 §8).
func (c *h3conn) fail(e *Error) {
	c.qc.CloseWithError(uint64(e.Code), e.Reason)
}

// failIfConnError closes the connection if err is a connection error we
// detected; it reports whether it did.
func (c *h3conn) failIfConnError(err error) bool {
	if e := asConnError(err); e != nil {
		c.fail(e)
		return true
	}
	return false
}

// wait waits for the goroutines reading the peer's streams; they end with
// the connection.
func (c *h3conn) wait() { c.wg.Wait() }

// acceptUniStreams reads the type of each unidirectional stream the peer
// opens and hands it on (RFC 9114 §6.2), each in its own goroutine: the
// QUIC limit on the peer's unidirectional streams bounds them.
func (c *h3conn) acceptUniStreams() {
	for {
		s, err := c.qc.AcceptUniStream(c.qc.Context())
		if err != nil {
			return
		}
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			if err := c.serveUniStream(s); err != nil {
				c.failIfConnError(err)
			}
		}()
	}
}

// serveUniStream reads one unidirectional stream of the peer's.
func (c *h3conn) serveUniStream(s *stream.ReceiveStream) error {
	fr := newFrameReader(s)
	typ, err := readVarint(fr.br)
	if err != nil {
		// Closed or reset before its type: to be tolerated (§6.2).
		return nil
	}
	switch typ {
	case streamTypeControl, streamTypeQPACKEncoder, streamTypeQPACKDecoder:
		c.uniMu.Lock()
		dup := c.seenUni[typ]
		c.seenUni[typ] = true
		c.uniMu.Unlock()
		if dup {
			// RFC 9114 §6.2.1, RFC 9204 §4.2.
			return connError(ErrCodeStreamCreationError, "second stream of a critical type")
		}
	case streamTypePush:
		if c.isServer {
			return connError(ErrCodeStreamCreationError, "push stream from a client") // §6.2.2
		}
		// We never send MAX_PUSH_ID, so every push ID exceeds the limit
		// (§4.6, §7.2.7).
		return connError(ErrCodeIDError, "push stream, but no push was allowed")
	default:
		// Unknown and reserved types: abort reading (§6.2, §9).
		s.CancelRead(uint64(ErrCodeStreamCreationError))
		return nil
	}
	var rerr error
	switch typ {
	case streamTypeControl:
		rerr = c.readControlStream(fr)
	case streamTypeQPACKEncoder:
		rerr = readQPACKEncoderStream(fr.br)
	case streamTypeQPACKDecoder:
		rerr = readQPACKDecoderStream(fr.br)
	}
	return criticalStreamError(rerr)
}

// criticalStreamError maps how reading a critical stream (control, QPACK)
// ended: its clean end or reset is H3_CLOSED_CRITICAL_STREAM (RFC 9114
// §6.2.1, RFC 9204 §4.2); connection errors stay; the connection going away
// under it is no error of its own.
func criticalStreamError(err error) error {
	if err == nil {
		return nil
	}
	if err == io.EOF || err == errTruncatedFrame { // identity: Error.Is matches any FRAME_ERROR
		return connError(ErrCodeClosedCriticalStream, "critical stream closed")
	}
	var se *stream.StreamError
	if errors.As(err, &se) && se.Remote {
		return connError(ErrCodeClosedCriticalStream, "critical stream reset")
	}
	if asConnError(err) != nil {
		return err
	}
	return nil
}

// readControlStream reads the peer's control stream until it fails. The
// first frame must be SETTINGS (§6.2.1); later SETTINGS, and frames that
// belong on request streams, are H3_FRAME_UNEXPECTED (§7.2).
func (c *h3conn) readControlStream(fr *frameReader) error {
	typ, length, err := fr.nextRaw()
	if err != nil {
		return err
	}
	if typ != frameSettings {
		return connError(ErrCodeMissingSettings, "control stream does not start with SETTINGS")
	}
	p, err := fr.readPayload(length, maxSettingsPayload, connError(ErrCodeExcessiveLoad, "SETTINGS frame too large"))
	if err != nil {
		return err
	}
	list, err := parseSettings(p)
	if err != nil {
		return err
	}
	c.peerMu.Lock()
	c.peer.apply(list)
	c.peerMu.Unlock()
	close(c.settings)

	for {
		typ, length, err := fr.next()
		if err != nil {
			return err
		}
		switch typ {
		case frameSettings, frameData, frameHeaders, framePushPromise:
			return connError(ErrCodeFrameUnexpected, "frame not allowed on the control stream")
		case frameGoAway, frameMaxPushID, frameCancelPush:
			p, err := fr.readPayload(length, maxVarintPayload, connError(ErrCodeFrameError, "malformed frame payload"))
			if err != nil {
				return err
			}
			if err := c.onControl(typ, p); err != nil {
				return err
			}
		case framePriorityUpdateRequest, framePriorityUpdatePush:
			// One we will not look at is skipped: priorities are hints.
			if length > maxPriorityFieldValue+8 {
				if err := fr.discard(length); err != nil {
					return err
				}
				continue
			}
			p, err := fr.readPayload(length, length, nil)
			if err != nil {
				return err
			}
			if err := c.onControl(typ, p); err != nil {
				return err
			}
		}
	}
}
