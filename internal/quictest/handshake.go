package quictest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

// resendAfter is how long Handshake waits for a packet before it sends
// its CRYPTO data again (the peer has no loss detection of its own).
const resendAfter = time.Second

// CloseError is returned by Handshake when the other side closed the
// connection.
type CloseError struct {
	PacketType wire.PacketType
	Frame      wire.ConnectionCloseFrame
}

func (e *CloseError) Error() string {
	return fmt.Sprintf("quictest: connection closed by the other side in a %v packet: %s", e.PacketType, FrameName(e.Frame))
}

// StartTLS starts the TLS handshake: after it, a client has its
// ClientHello queued for Flush. Handshake calls it if the test did not.
func (p *Peer) StartTLS(ctx context.Context) error {
	if p.started {
		return nil
	}
	p.started = true
	conf := p.tlsConf.Clone()
	if conf.MinVersion < tls.VersionTLS13 {
		conf.MinVersion = tls.VersionTLS13 // crypto/tls insists for QUIC
	}
	qc := &tls.QUICConfig{TLSConfig: conf}
	if p.params.InitialSourceConnectionID == nil {
		p.params.InitialSourceConnectionID = p.scid
	}
	if p.isClient {
		p.tls = tls.QUICClient(qc)
	} else {
		if p.params.OriginalDestinationConnectionID == nil {
			p.params.OriginalDestinationConnectionID = p.odcid
		}
		p.tls = tls.QUICServer(qc)
	}
	p.tls.SetTransportParameters(p.params.Append(nil, !p.isClient))
	if err := p.tls.Start(context.WithoutCancel(ctx)); err != nil {
		p.tlsErr = err
		return err
	}
	p.handleTLSEvents()
	return p.tlsErr
}

// handleTLSEvents drains crypto/tls's events; an error lands in p.tlsErr.
func (p *Peer) handleTLSEvents() {
	for {
		ev := p.tls.NextEvent()
		switch ev.Kind {
		case tls.QUICNoEvent:
			return
		case tls.QUICSetReadSecret, tls.QUICSetWriteSecret:
			sp, ok := levelSpace(ev.Level)
			if !ok {
				continue // 0-RTT keys: not used
			}
			keys, err := wire.NewKeys(p.keyVersion(), ev.Suite, ev.Data)
			if err != nil {
				p.tlsErr = err
				return
			}
			l := &p.levels[sp]
			if ev.Kind == tls.QUICSetWriteSecret {
				l.seal = keys
			} else {
				l.open = keys
				if sp == spaceApp {
					p.nextOpen = keys.Next()
				}
			}
		case tls.QUICWriteData:
			sp, ok := levelSpace(ev.Level)
			if !ok {
				continue
			}
			l := &p.levels[sp]
			l.cryptoOut = append(l.cryptoOut, ev.Data...)
			l.cryptoAll = append(l.cryptoAll, ev.Data...)
		case tls.QUICTransportParameters:
			params, err := wire.ParseTransportParameters(ev.Data, p.isClient)
			if err != nil {
				p.peerParamsErr = err
				continue
			}
			p.peerParams, p.havePeerParams = params, true
		case tls.QUICTransportParametersRequired:
			p.tls.SetTransportParameters(p.params.Append(nil, !p.isClient))
		case tls.QUICHandshakeDone:
			p.complete = true
		case tls.QUICErrorEvent:
			p.tlsErr = ev.Err
			return
		}
	}
}

// keyVersion is the version whose key derivation labels apply.
func (p *Peer) keyVersion() wire.Version {
	if wire.IsSupportedVersion(p.version) {
		return p.version
	}
	return wire.Version1
}

func levelSpace(l tls.QUICEncryptionLevel) (space, bool) {
	switch l {
	case tls.QUICEncryptionLevelInitial:
		return spaceInitial, true
	case tls.QUICEncryptionLevelHandshake:
		return spaceHandshake, true
	case tls.QUICEncryptionLevelApplication:
		return spaceApp, true
	}
	return 0, false
}

// PeerParamsError returns the error parsing the other side's transport
// parameters, if they did not parse.
func (p *Peer) PeerParamsError() error { return p.peerParamsErr }

// Handshake runs the handshake to its end: a client sends its Initial,
// answers and acknowledges what arrives until TLS completes and
// HANDSHAKE_DONE arrives; a server (after Accept) answers until TLS
// completes and sends HANDSHAKE_DONE. Every packet read on the way is
// processed as ReadPacket does and then dropped (NEW_CONNECTION_ID frames
// stay in PeerConnIDs). If nothing arrives for a second, the CRYPTO data
// sent so far is sent again. A CONNECTION_CLOSE ends it with a *CloseError.
func (p *Peer) Handshake(ctx context.Context) error {
	if err := p.StartTLS(ctx); err != nil {
		return err
	}
	for !(p.complete && p.confirmed) {
		if len(p.rest) == 0 {
			if err := p.Flush(); err != nil {
				return err
			}
			if p.complete && p.confirmed {
				break // a server's HANDSHAKE_DONE just went out
			}
		}
		rctx, cancel := context.WithTimeout(ctx, resendAfter)
		pkt, err := p.ReadPacket(rctx)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			p.resendCrypto()
			continue
		}
		if err != nil {
			return fmt.Errorf("quictest: handshake: %w", err)
		}
		if p.tlsErr != nil {
			return fmt.Errorf("quictest: handshake: TLS: %w", p.tlsErr)
		}
		for _, f := range pkt.Frames {
			if cc, ok := f.(wire.ConnectionCloseFrame); ok {
				return &CloseError{PacketType: pkt.Type, Frame: cc}
			}
		}
	}
	if p.peerParamsErr != nil {
		return fmt.Errorf("quictest: handshake: transport parameters: %w", p.peerParamsErr)
	}
	return p.Flush()
}

// resendCrypto queues every CRYPTO byte sent so far again, in each space
// that still has keys.
func (p *Peer) resendCrypto() {
	for sp := spaceInitial; sp < numSpaces; sp++ {
		l := &p.levels[sp]
		if l.seal != nil && len(l.cryptoAll) > 0 {
			l.cryptoOut = append([]byte(nil), l.cryptoAll...)
			l.cryptoOutOff = 0
		}
	}
}

// Accept makes a server peer wait for a client's first Initial (at least
// 1200 bytes, RFC 9000 §14.1) and start the connection: the client's
// connection IDs, Initial keys and TLS. The Initial itself is processed by
// the next read (Handshake or ReadPacket).
func (p *Peer) Accept(ctx context.Context) error {
	if p.isClient || p.started {
		return errors.New("quictest: Accept on a client or a started server")
	}
	for {
		d, from, err := p.ReadDatagram(ctx)
		if err != nil {
			return err
		}
		if len(d) < MinInitialDatagramSize || !wire.IsLongHeader(d[0]) {
			continue
		}
		hdr, err := wire.ParseLongHeader(d)
		if err != nil || hdr.Type != wire.PacketInitial {
			continue
		}
		p.remote = from
		p.version = hdr.Version
		p.odcid = append([]byte(nil), hdr.DstConnID...)
		p.dcid = append([]byte(nil), hdr.SrcConnID...)
		p.installInitialKeys()
		p.rest, p.restFrom, p.restSize, p.restDCID = d, from, len(d), nil
		return p.StartTLS(ctx)
	}
}
