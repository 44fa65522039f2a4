package quic

import (
	"crypto/tls"
	"sync"
	"time"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
	"github.com/tsumugi-quic/tsumugi/sched"
	"github.com/tsumugi-quic/tsumugi/stream"
)

// handleFrames processes a decrypted payload frame by frame and reports
// whether it was ack-eliciting. Any error is a connection error to close
// with (RFC 9000 §12.4: frames must be allowed in their packet type).
func (c *Conn) handleFrames(sp sched.Space, pt wire.PacketType, p []byte, dcid []byte, now time.Time) (ackEliciting, probing bool, err error) {
	st := &c.st
	if len(p) == 0 {
		// RFC 9000 §12.4: a packet with no frames is a PROTOCOL_VIOLATION.
		return false, false, &wire.TransportError{Code: wire.ProtocolViolation, Reason: "packet without frames"}
	}
	probing = true
	for len(p) > 0 {
		ft, _, err := wire.ParseFrameType(p)
		if err != nil {
			return false, false, err
		}
		if err := wire.CheckFrameAllowed(ft, pt); err != nil {
			return false, false, err
		}
		if wire.IsAckEliciting(ft) {
			ackEliciting = true
		}
		if !wire.IsProbingFrame(ft) {
			probing = false
		}
		var n int
		switch {
		case ft == wire.FrameTypePadding:
			n = wire.ParsePadding(p)
		case ft == wire.FrameTypePing:
			n = 1
		case ft == wire.FrameTypeAck || ft == wire.FrameTypeAckECN:
			var f wire.AckFrame
			f, n, err = wire.ParseAckFrame(p, st.ackRanges[:0])
			if err == nil {
				st.ackRanges = f.Ranges
				err = c.handleAck(sp, &f, now)
			}
		case ft == wire.FrameTypeCrypto:
			var f wire.CryptoFrame
			f, n, err = wire.ParseCryptoFrame(p)
			if err == nil {
				err = c.handleCrypto(sp, &f)
			}
		case wire.IsStreamFrameType(ft):
			var f wire.StreamFrame
			f, n, err = wire.ParseStreamFrame(p)
			if err == nil {
				err = c.handleStreamFrame(&f, ft)
			}
		case ft == wire.FrameTypeResetStream:
			var f wire.ResetStreamFrame
			f, n, err = wire.ParseResetStreamFrame(p)
			if err == nil {
				err = c.handleResetStream(&f)
			}
		case ft == wire.FrameTypeStopSending:
			var f wire.StopSendingFrame
			f, n, err = wire.ParseStopSendingFrame(p)
			if err == nil {
				err = c.handleStopSending(&f)
			}
		case ft == wire.FrameTypeMaxData:
			var f wire.MaxDataFrame
			f, n, err = wire.ParseMaxDataFrame(p)
			if err == nil {
				st.flow.setSendMax(f.Max)
			}
		case ft == wire.FrameTypeMaxStreamData:
			var f wire.MaxStreamDataFrame
			f, n, err = wire.ParseMaxStreamDataFrame(p)
			if err == nil {
				err = c.handleMaxStreamData(&f)
			}
		case ft == wire.FrameTypeMaxStreamsBidi || ft == wire.FrameTypeMaxStreamsUni:
			var f wire.MaxStreamsFrame
			f, n, err = wire.ParseMaxStreamsFrame(p)
			if err == nil {
				d := uni
				if f.Bidi {
					d = bidi
				}
				c.open.raise(d, f.Max)
			}
		case ft == wire.FrameTypeDataBlocked:
			_, n, err = wire.ParseDataBlockedFrame(p)
			st.metrics.Blocked(true)
		case ft == wire.FrameTypeStreamDataBlocked:
			var f wire.StreamDataBlockedFrame
			f, n, err = wire.ParseStreamDataBlockedFrame(p)
			if err == nil {
				err = c.checkStreamFrame(stream.ID(f.StreamID), ft, false)
			}
		case ft == wire.FrameTypeStreamsBlockedBidi || ft == wire.FrameTypeStreamsBlockedUni:
			_, n, err = wire.ParseStreamsBlockedFrame(p)
		case ft == wire.FrameTypeNewConnectionID:
			var f wire.NewConnectionIDFrame
			f, n, err = wire.ParseNewConnectionIDFrame(p)
			if err == nil {
				err = st.cids.handleNewConnectionID(&f)
			}
		case ft == wire.FrameTypeRetireConnectionID:
			var f wire.RetireConnectionIDFrame
			f, n, err = wire.ParseRetireConnectionIDFrame(p)
			if err == nil {
				err = st.cids.handleRetireConnectionID(f.Seq, dcid)
			}
		case ft == wire.FrameTypePathChallenge:
			var f wire.PathChallengeFrame
			f, n, err = wire.ParsePathChallengeFrame(p)
			if err == nil && (st.rxAddr != st.remote || st.rxSock != st.sock) {
				// Answer on the path the challenge came from (§8.2.2).
				c.sendPathResponse(st.rxAddr, f.Data, st.rxBytes, now)
			} else if err == nil {
				q := &st.control.pathResponses
				if len(*q) >= maxPathResponses {
					*q = (*q)[1:]
				}
				*q = append(*q, f.Data)
			}
		case ft == wire.FrameTypePathResponse:
			// An unsolicited response is ignored (RFC 9000 §19.18 makes
			// the error optional).
			var f wire.PathResponseFrame
			f, n, err = wire.ParsePathResponseFrame(p)
			if err == nil && !c.onMigrationResponse(f.Data, now) && !c.onPreferredResponse(f.Data, now) {
				c.onPathResponse(f.Data)
			}
		case ft == wire.FrameTypeNewToken:
			if !c.isClient {
				return false, false, &wire.TransportError{Code: wire.ProtocolViolation, FrameType: ft, Reason: "NEW_TOKEN from a client"}
			}
			var f wire.NewTokenFrame
			f, n, err = wire.ParseNewTokenFrame(p)
			if err == nil && c.config.TokenStore != nil {
				c.config.TokenStore.put(st.tokenKey, f.Token)
			}
		case ft == wire.FrameTypeConnectionClose || ft == wire.FrameTypeConnectionCloseApp:
			var f wire.ConnectionCloseFrame
			f, n, err = wire.ParseConnectionCloseFrame(p)
			if err == nil {
				c.enterDraining(peerCloseError(&f), now)
				return ackEliciting, probing, nil
			}
		case ft == wire.FrameTypeHandshakeDone:
			if !c.isClient {
				return false, false, &wire.TransportError{Code: wire.ProtocolViolation, FrameType: ft, Reason: "HANDSHAKE_DONE from a client"}
			}
			n = 1
			c.confirmHandshake()
			c.maybeReleaseTLS()
		case ft == wire.FrameTypeDatagram || ft == wire.FrameTypeDatagramLen:
			var f wire.DatagramFrame
			f, n, err = wire.ParseDatagramFrame(p)
			if err == nil {
				err = c.handleDatagramFrame(&f, ft)
			}
		default:
			// Any frame type we don't know.
			return false, false, &wire.TransportError{Code: wire.ProtocolViolation, FrameType: ft, Reason: "unexpected frame type"}
		}
		if err != nil {
			return false, false, err
		}
		p = p[n:]
	}
	return ackEliciting, probing, nil
}

// peerCloseError turns the peer's CONNECTION_CLOSE into the error the
// application sees.
func peerCloseError(f *wire.ConnectionCloseFrame) error {
	if f.App {
		return &ApplicationError{Code: f.Code, Reason: string(f.Reason), Remote: true}
	}
	return &TransportError{Code: wire.ErrorCode(f.Code), FrameType: f.FrameType, Reason: string(f.Reason), Remote: true}
}

// handleAck processes an ACK frame (RFC 9002 §6 through the recovery).
func (c *Conn) handleAck(sp sched.Space, f *wire.AckFrame, now time.Time) error {
	st := &c.st
	exp := uint8(ackDelayExponent)
	if sp == sched.AppData && st.havePeerParams {
		exp = uint8(st.peerParams.AckDelayExponent)
	} else if sp != sched.AppData {
		// RFC 9000 §19.3: ack delay is not meaningful before 1-RTT;
		// the default exponent applies.
		exp = 3
	}
	if err := st.rec.OnAckReceived(sp, f, exp, now); err != nil {
		return err
	}
	l := &st.levels[sp]
	if largest := f.Ranges[0].Largest; !l.hasAcked || largest > l.largestAcked {
		l.largestAcked, l.hasAcked = largest, true
	}
	c.srtt.Store(int64(st.rec.SmoothedRTT()))
	c.ecnMarking.Store(st.rec.ECNMarking())
	c.spurious.Store(st.rec.SpuriousLosses())
	st.metrics.RecoveryState(st.rec.SmoothedRTT(), st.rec.MinRTT(), st.rec.CongestionWindow())
	st.traceRecovery()
	if c.isClient && sp == sched.Handshake {
		// RFC 9002 Appendix A.6: the server validated our address.
		st.rec.SetPeerAddressValidated()
	}
	return nil
}

// handleCrypto reassembles CRYPTO data and feeds what is in order to TLS.
func (c *Conn) handleCrypto(sp sched.Space, f *wire.CryptoFrame) error {
	st := &c.st
	l := &st.levels[sp]
	if l.discarded {
		return nil // late retransmission for keys we dropped
	}
	if c.isClient && sp == sched.Initial {
		// RFC 9369 §4: the server's CRYPTO data fixes the version.
		st.versionSettled = true
	}
	if err := l.cryptoIn.Push(f.Offset, f.Data); err != nil {
		return &wire.TransportError{Code: wire.CryptoBufferExceeded, FrameType: wire.FrameTypeCrypto, Reason: "CRYPTO data too far ahead"}
	}
	// crypto/tls keeps a reference to what HandleData is given until it
	// returns, so a buffer on the stack would move to the heap on every
	// call: take one from a pool.
	bp := cryptoReadPool.Get().(*[cryptoReadSize]byte)
	defer cryptoReadPool.Put(bp)
	if st.tls == nil {
		// The handshake is over and needs nothing more.
		for l.cryptoIn.Read(bp[:]) > 0 {
		}
		return nil
	}
	for {
		n := wholeMessages(l.cryptoIn, len(bp), &l.cryptoMsgLeft)
		if n == 0 {
			break
		}
		l.cryptoIn.Read(bp[:n])
		if err := st.tls.HandleData(tlsLevel(sp), bp[:n]); err != nil {
			return tlsError(err)
		}
	}
	return c.handleTLSEvents()
}

// wholeMessages returns how many bytes at the read offset of b make up
// whole TLS handshake messages (RFC 8446 §4: a type byte and a 24-bit
// length, then the body), at most max; or max when a message longer than
// max has at least max bytes there, which then go to TLS in pieces: *left
// counts the bytes of that message still to come, which go as they arrive.
//
// Each HandleData call is a round trip to crypto/tls's handshake
// goroutine: handing it a message cut by a packet boundary (a ClientHello
// with its ML-KEM key share fills more than one Initial) costs a round trip
// that only buffers. So CRYPTO data waits here until its message is whole.
// It cannot wait for long: a message of more than max bytes goes in pieces,
// and TLS bounds message sizes.
func wholeMessages(b *stream.RecvBuffer, max int, left *int32) int {
	avail := b.Readable()
	if *left > 0 {
		n := min(int(*left), avail, max)
		*left -= int32(n)
		return n
	}
	n := 0
	var h [4]byte
	for avail-n >= len(h) {
		b.Peek(n, h[:])
		m := len(h) + (int(h[1])<<16 | int(h[2])<<8 | int(h[3]))
		if n+m > max {
			if n == 0 && avail >= max {
				*left = int32(m - max)
				return max
			}
			break
		}
		if n+m > avail {
			break
		}
		n += m
	}
	return n
}

// cryptoReadSize is how much CRYPTO data goes to TLS at a time: whole
// messages up to this size go in one call.
const cryptoReadSize = 8192

var cryptoReadPool = sync.Pool{New: func() any { return new([cryptoReadSize]byte) }}

func tlsLevel(sp sched.Space) tls.QUICEncryptionLevel {
	switch sp {
	case sched.Initial:
		return tls.QUICEncryptionLevelInitial
	case sched.Handshake:
		return tls.QUICEncryptionLevelHandshake
	}
	return tls.QUICEncryptionLevelApplication
}

// checkStreamFrame enforces the stream-direction rules of RFC 9000 §19:
// receiving-side frames (STREAM, RESET_STREAM, STREAM_DATA_BLOCKED) are
// wrong on our send-only streams, sending-side frames (MAX_STREAM_DATA,
// STOP_SENDING) on our receive-only streams.
func (c *Conn) checkStreamFrame(id stream.ID, ft uint64, sendingSide bool) error {
	t := id.Type()
	if sendingSide && !t.CanSend(c.isClient) || !sendingSide && !t.CanReceive(c.isClient) {
		return &wire.TransportError{Code: wire.StreamStateError, FrameType: ft, Reason: "frame not allowed in this stream's direction"}
	}
	return nil
}

func (c *Conn) handleStreamFrame(f *wire.StreamFrame, ft uint64) error {
	id := stream.ID(f.StreamID)
	if err := c.checkStreamFrame(id, ft, false); err != nil {
		return err
	}
	core, err := c.streamFor(id, ft)
	if core == nil {
		return err
	}
	grow, err := core.HandleStream(*f)
	if err != nil {
		return err
	}
	return c.st.flow.onReceived(grow, ft)
}

func (c *Conn) handleResetStream(f *wire.ResetStreamFrame) error {
	id := stream.ID(f.StreamID)
	if err := c.checkStreamFrame(id, wire.FrameTypeResetStream, false); err != nil {
		return err
	}
	core, err := c.streamFor(id, wire.FrameTypeResetStream)
	if core == nil {
		return err
	}
	grow, err := core.HandleResetStream(f.Code, f.FinalSize)
	if err != nil {
		return err
	}
	c.st.metrics.StreamReset()
	c.streamWoke(core)
	return c.st.flow.onReceived(grow, wire.FrameTypeResetStream)
}

func (c *Conn) handleStopSending(f *wire.StopSendingFrame) error {
	id := stream.ID(f.StreamID)
	if err := c.checkStreamFrame(id, wire.FrameTypeStopSending, true); err != nil {
		return err
	}
	core, err := c.streamFor(id, wire.FrameTypeStopSending)
	if core == nil {
		return err
	}
	if err := core.HandleStopSending(f.Code); err != nil {
		return err
	}
	c.streamWoke(core)
	return nil
}

func (c *Conn) handleMaxStreamData(f *wire.MaxStreamDataFrame) error {
	id := stream.ID(f.StreamID)
	if err := c.checkStreamFrame(id, wire.FrameTypeMaxStreamData, true); err != nil {
		return err
	}
	core, err := c.streamFor(id, wire.FrameTypeMaxStreamData)
	if core == nil {
		return err
	}
	if err := core.HandleMaxStreamData(f.Max); err != nil {
		return err
	}
	c.streamWoke(core)
	return nil
}
