package quic

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"github.com/tsumugi-quic/tsumugi/quic/qlog"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
	"github.com/tsumugi-quic/tsumugi/sched"
)

// startTLS creates the crypto/tls QUIC connection and starts the handshake
// (RFC 9001 §4). The TLS stack runs its own goroutine inside crypto/tls;
// QUICConn.Close at the end of the connection waits for it.
func (c *Conn) startTLS() error {
	st := &c.st
	qc := &tls.QUICConfig{TLSConfig: c.tlsConf, EnableSessionEvents: true}
	if c.isClient {
		st.tls = tls.QUICClient(qc)
	} else {
		st.tls = tls.QUICServer(qc)
	}
	// A server sends its transport parameters once it has seen the
	// client's when they may name another version than the one of the
	// client's Initial (RFC 9368 §5: a compatible version switch). When
	// the Initial is in our most preferred version there is nothing to
	// switch to, and they are set before the handshake starts: crypto/tls
	// then needs no round trip to ask for them in the middle of the
	// ClientHello.
	st.paramsPreset = !c.isClient && st.version == c.config.preferredVersion()
	if c.isClient || st.paramsPreset {
		params := st.localParams()
		st.tls.SetTransportParameters(params.Append(nil, !c.isClient))
	}
	if err := st.tls.Start(c.ctx); err != nil {
		return tlsError(err)
	}
	return c.handleTLSEvents()
}

// localParams are the transport parameters we send (RFC 9000 §18.2).
func (st *connState) localParams() wire.TransportParameters {
	cfg := st.c.config
	p := wire.DefaultTransportParameters()
	p.MaxIdleTimeout = cfg.MaxIdleTimeout
	p.MaxUDPPayloadSize = maxPacketBufferSize
	p.InitialMaxData = cfg.InitialConnectionReceiveWindow
	p.InitialMaxStreamDataBidiLocal = cfg.InitialStreamReceiveWindow
	p.InitialMaxStreamDataBidiRemote = cfg.InitialStreamReceiveWindow
	p.InitialMaxStreamDataUni = cfg.InitialStreamReceiveWindow
	p.InitialMaxStreamsBidi = uint64(cfg.MaxIncomingStreams)
	p.InitialMaxStreamsUni = uint64(cfg.MaxIncomingUniStreams)
	p.AckDelayExponent = ackDelayExponent
	p.MaxAckDelay = maxAckDelay
	p.ActiveConnectionIDLimit = activeConnectionIDLimit
	p.InitialSourceConnectionID = append([]byte{}, st.cids.scid()...)
	// RFC 9368 §5: our chosen version and every version we speak.
	p.VersionInformation = &wire.VersionInformation{ChosenVersion: st.version, AvailableVersions: cfg.Versions}
	if cfg.EnableDatagrams {
		p.MaxDatagramFrameSize, p.HasMaxDatagramFrameSize = ourMaxDatagramFrameSize, true
	}
	if !st.c.isClient {
		p.OriginalDestinationConnectionID = append([]byte{}, st.odcid...)
		if st.retrySCID != nil {
			p.RetrySourceConnectionID = append([]byte{}, st.retrySCID...)
		}
		p.PreferredAddress = st.preferredAddressParam()
		p.DisableActiveMigration = cfg.DisableActiveMigration
		tok := st.cids.local[0].token
		p.StatelessResetToken = &tok
	}
	return p
}

// handleTLSEvents drains crypto/tls's events: keys, handshake bytes to send,
// the peer's transport parameters, completion.
func (c *Conn) handleTLSEvents() error {
	st := &c.st
	if st.tls == nil {
		return nil
	}
	defer c.maybeReleaseTLS()
	for {
		ev := st.tls.NextEvent()
		switch ev.Kind {
		case tls.QUICNoEvent:
			return nil
		case tls.QUICSetReadSecret, tls.QUICSetWriteSecret:
			if err := c.installSecret(ev); err != nil {
				return err
			}
		case tls.QUICWriteData:
			sp, ok := spaceOf(ev.Level)
			if !ok {
				return &TransportError{Code: wire.InternalError, Reason: "TLS data at 0-RTT level"}
			}
			st.levels[sp].cryptoOut.Write(ev.Data)
		case tls.QUICTransportParameters:
			if err := c.handlePeerParams(ev.Data); err != nil {
				return err
			}
		case tls.QUICTransportParametersRequired:
			params := st.localParams()
			st.tls.SetTransportParameters(params.Append(nil, !c.isClient))
		case tls.QUICHandshakeDone:
			if err := c.onHandshakeComplete(); err != nil {
				return err
			}
		case tls.QUICErrorEvent:
			return tlsError(ev.Err)
		case tls.QUICResumeSession:
			c.onResumeSession(ev.SessionState)
		case tls.QUICStoreSession:
			if err := c.onStoreSession(ev.SessionState); err != nil {
				return tlsError(err)
			}
		case tls.QUICRejectedEarlyData:
			c.onZeroRTTRejected(st.now)
		}
	}
}

// maybeReleaseTLS drops the TLS connection once the handshake needs no more
// of it (a server after its session ticket, a client after storing one or
// without a session cache): its buffers and transcript are a large part of
// an idle connection's memory.
func (c *Conn) maybeReleaseTLS() {
	st := &c.st
	if st.tlsDone && st.tls != nil {
		st.tls.Close()
		st.tls = nil
	}
}

// spaceOf maps a TLS encryption level to a packet number space.
func spaceOf(l tls.QUICEncryptionLevel) (sched.Space, bool) {
	switch l {
	case tls.QUICEncryptionLevelInitial:
		return sched.Initial, true
	case tls.QUICEncryptionLevelHandshake:
		return sched.Handshake, true
	case tls.QUICEncryptionLevelApplication:
		return sched.AppData, true
	}
	return 0, false
}

// installSecret derives packet protection keys from a TLS secret.
func (c *Conn) installSecret(ev tls.QUICEvent) error {
	st := &c.st
	keys, err := wire.NewKeys(st.version, ev.Suite, ev.Data)
	if err != nil {
		return &TransportError{Code: wire.InternalError, Reason: err.Error()}
	}
	read := ev.Kind == tls.QUICSetReadSecret
	if ev.Level == tls.QUICEncryptionLevelEarly {
		// RFC 9001 §4.6: 0-RTT keys, for the client's early data.
		if read {
			st.app.zeroOpen = keys
		} else {
			st.app.zeroSeal = keys
			c.startZeroRTT()
		}
		return nil
	}
	sp, _ := spaceOf(ev.Level)
	if sp == sched.AppData {
		if read {
			st.app.installRead(keys)
		} else {
			st.app.installWrite(keys)
		}
		return nil
	}
	l := &st.levels[sp]
	if read {
		l.open = keys
	} else {
		l.seal = keys
	}
	return nil
}

// handlePeerParams checks and applies the peer's transport parameters
// (RFC 9000 §7.3, §18.2).
func (c *Conn) handlePeerParams(data []byte) error {
	st := &c.st
	p, err := wire.ParseTransportParameters(data, c.isClient)
	if err != nil {
		return localTransportError(err)
	}
	bad := func(reason string) error {
		return &TransportError{Code: wire.TransportParameterError, Reason: reason}
	}
	// RFC 9000 §7.3: authenticate the connection IDs of the handshake.
	if p.InitialSourceConnectionID == nil || !bytes.Equal(p.InitialSourceConnectionID, st.cids.peerInitialSCID) {
		return bad("initial_source_connection_id does not match the peer's Source Connection ID")
	}
	if c.isClient {
		if p.OriginalDestinationConnectionID == nil || !bytes.Equal(p.OriginalDestinationConnectionID, st.odcid) {
			return bad("original_destination_connection_id does not match")
		}
		// RFC 9000 §7.3: retry_source_connection_id is present exactly
		// when we processed a Retry, and names its Source Connection ID.
		if st.gotRetry != (p.RetrySourceConnectionID != nil) || !bytes.Equal(p.RetrySourceConnectionID, st.retrySCID) {
			return bad("retry_source_connection_id does not match the Retry")
		}
		if p.StatelessResetToken != nil {
			st.cids.setPeerResetToken(*p.StatelessResetToken)
		}
		if p.PreferredAddress != nil && !st.cids.zeroLengthPeer() {
			if err := c.onPreferredAddress(p.PreferredAddress); err != nil {
				return err
			}
		}
	}
	if err := c.negotiateVersion(&p); err != nil {
		return err
	}
	if c.isClient {
		if err := c.checkRememberedParams(&p); err != nil {
			return err
		}
	}
	st.peerParams = p
	st.havePeerParams = true
	if st.trace != nil {
		st.trace.ParametersSet(st.now, qlog.Remote, &p)
	}
	if p.MaxIdleTimeout > 0 && p.MaxIdleTimeout < st.idleTimeout {
		st.idleTimeout = p.MaxIdleTimeout
	}
	if int(p.MaxUDPPayloadSize) < st.mtu {
		st.setMTU(max(int(p.MaxUDPPayloadSize), minInitialPacketSize))
	}
	if p.HasMaxDatagramFrameSize && c.config.EnableDatagrams {
		c.peerDatagramLimit.Store(p.MaxDatagramFrameSize)
	}
	st.rec.SetPeerMaxAckDelay(p.MaxAckDelay)
	st.flow.setSendMax(p.InitialMaxData)
	c.open.setPeerMaxStreamData(p.InitialMaxStreamDataBidiRemote, p.InitialMaxStreamDataUni)
	c.open.raise(bidi, p.InitialMaxStreamsBidi)
	c.open.raise(uni, p.InitialMaxStreamsUni)
	return nil
}

// onHandshakeComplete runs when TLS reports the handshake done (RFC 9001
// §4.1.1). A server's handshake is then also confirmed (§4.1.2): it sends
// HANDSHAKE_DONE and drops its Handshake keys.
func (c *Conn) onHandshakeComplete() error {
	st := &c.st
	if !st.havePeerParams {
		return &TransportError{Code: wire.TransportParameterError, Reason: "missing quic_transport_parameters"}
	}
	st.handshakeComplete = true
	st.phase = phaseEstablished
	c.tlsState = st.tls.ConnectionState()
	c.version = st.version
	if c.isClient {
		c.used0RTT = st.zeroRTTSent && !st.zeroRTTRejected
	} else {
		// crypto/tls installs 0-RTT read keys only when it accepts early
		// data; we count it once a 0-RTT packet was processed with them.
		c.used0RTT = st.zeroRTTReceived
	}
	st.app.zeroSeal = nil // RFC 9001 §4.9.3: 1-RTT from now on
	if c.tlsState.NegotiatedProtocol == "" {
		// crypto/tls enforces ALPN for QUIC (RFC 9001 §8.1); be explicit.
		return &TransportError{Code: wire.CryptoErrorBase + 120, Reason: "no application protocol negotiated"}
	}
	st.cids.issueUpTo(st.peerParams.ActiveConnectionIDLimit)
	close(c.handshakeDone)
	st.metrics.HandshakeDone(st.now.Sub(c.created))
	if !c.isClient {
		c.ep.handshakeFinished(c)
		st.control.handshakeDone = true
		// A token for the client's next connection (RFC 9000 §8.1.3).
		st.control.newToken = c.ep.tokens().seal(token{kind: tokenNewToken, issued: st.now}, st.remote)
		c.confirmHandshake()
		if l := c.ep.listener; l == nil || !l.enqueue(c) {
			return errServerBusy
		}
		// Offer a session ticket for resumption (RFC 9001 §4.6.1).
		if err := c.sendSessionTicket(); err != nil {
			return tlsError(err)
		}
		// A server needs nothing more from TLS once its ticket is out.
		st.tlsDone = true
	}
	return nil
}

// confirmHandshake: RFC 9001 §4.1.2 and §4.9.2 — the handshake is
// confirmed; Handshake keys are discarded.
func (c *Conn) confirmHandshake() {
	st := &c.st
	if st.handshakeConfirm {
		return
	}
	st.handshakeConfirm = true
	st.app.zeroOpen = nil
	st.app.deriveNext()
	if c.isClient && c.tlsConf.ClientSessionCache == nil {
		// No session cache: tickets would be dropped anyway.
		st.tlsDone = true
	}
	st.pmtud.init(st.mtu, c.pmtudLimit())
	if c.isClient {
		c.startPreferredValidation(st.now)
	}
	st.rec.SetHandshakeConfirmed()
	c.discardLevel(sched.Handshake)
}

// discardLevel drops a packet number space's keys and state (RFC 9001 §4.9).
func (c *Conn) discardLevel(sp sched.Space) {
	l := &c.st.levels[sp]
	if l.discarded {
		return
	}
	l.discarded = true
	l.seal, l.open = nil, nil
	c.st.rec.DiscardSpace(sp, c.st.now)
	l.cryptoOut.Release()
	l.cryptoIn.Release()
}

// tlsError maps a crypto/tls error to a CRYPTO_ERROR (RFC 9001 §4.8).
func tlsError(err error) error {
	var alert tls.AlertError
	if errors.As(err, &alert) {
		return &TransportError{Code: wire.CryptoErrorBase + wire.ErrorCode(alert), Reason: err.Error()}
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	return &TransportError{Code: wire.CryptoErrorBase + 80, Reason: fmt.Sprintf("TLS: %v", err)} // internal_error alert
}

// versionNegotiationError is VERSION_NEGOTIATION_ERROR, RFC 9368 §10.2.
const versionNegotiationError = wire.ErrorCode(0x11)

// negotiateVersion checks the peer's version_information (RFC 9368 §5). A
// server also picks the negotiated version: the first of ours that the
// client offers, and switches to it before it sends anything protected
// with TLS keys (RFC 9369 §4).
func (c *Conn) negotiateVersion(p *wire.TransportParameters) error {
	st := &c.st
	vi := p.VersionInformation
	fail := func(reason string) error {
		return &TransportError{Code: versionNegotiationError, Reason: reason}
	}
	if c.isClient {
		if vi == nil {
			if st.version != st.origVersion {
				return fail("the server switched versions without version_information")
			}
			return nil
		}
		if vi.ChosenVersion != st.version {
			return fail("the server's chosen version is not the one in use")
		}
		return nil
	}
	if vi == nil {
		return nil // a client that speaks only this version
	}
	if vi.ChosenVersion != st.origVersion {
		return fail("the client's chosen version is not the one of its Initial")
	}
	if st.paramsPreset {
		return nil // the Initial is in our most preferred version: we stay on it
	}
	for _, v := range c.config.Versions {
		if !wire.IsSupportedVersion(v) {
			continue
		}
		for _, o := range vi.AvailableVersions {
			if o != v {
				continue
			}
			if v != st.version {
				st.origInitialOpen = st.levels[sched.Initial].open
				st.version = v
				st.installInitialKeys(st.initialDCID)
			}
			return nil
		}
	}
	return nil
}
