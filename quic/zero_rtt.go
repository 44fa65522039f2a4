package quic

import (
	"bytes"
	"crypto/tls"
	"time"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

// Session resumption and 0-RTT (RFC 9001 §4.5, §4.6; RFC 9000 §7.4.1).
//
// crypto/tls runs resumption; with session events enabled it lets us put
// our own data in session tickets (SessionState.Extra):
//   - a client stores the server's transport parameters that 0-RTT data
//     must respect (RFC 9000 §7.4.1), and restores them when it resumes;
//   - a server stores its own limits, and refuses 0-RTT if its current
//     limits are lower than those the client will assume.
//
// 0-RTT data can be replayed by an attacker (RFC 9001 §9.2): the server
// accepts it only with Config.Allow0RTT, and applications must only act on
// requests that are safe to repeat.

// Tags of our entries in SessionState.Extra.
var (
	extraClientParams = []byte("tsumugi/c1")
	extraServerParams = []byte("tsumugi/s1")
)

// rememberedParams are the transport parameters that survive into a
// resumed connection's 0-RTT data (RFC 9000 §7.4.1, RFC 9221 §3).
type rememberedParams struct {
	version                                         uint32
	activeConnectionIDLimit, maxData                uint64
	maxStreamDataBidiLocal, maxStreamDataBidiRemote uint64
	maxStreamDataUni, maxStreamsBidi, maxStreamsUni uint64
	maxDatagramFrameSize                            uint64
}

func rememberParams(version uint32, p *wire.TransportParameters) rememberedParams {
	r := rememberedParams{
		version:                 version,
		activeConnectionIDLimit: p.ActiveConnectionIDLimit,
		maxData:                 p.InitialMaxData,
		maxStreamDataBidiLocal:  p.InitialMaxStreamDataBidiLocal,
		maxStreamDataBidiRemote: p.InitialMaxStreamDataBidiRemote,
		maxStreamDataUni:        p.InitialMaxStreamDataUni,
		maxStreamsBidi:          p.InitialMaxStreamsBidi,
		maxStreamsUni:           p.InitialMaxStreamsUni,
	}
	if p.HasMaxDatagramFrameSize {
		r.maxDatagramFrameSize = p.MaxDatagramFrameSize
	}
	return r
}

func (r *rememberedParams) fields() []*uint64 {
	return []*uint64{&r.activeConnectionIDLimit, &r.maxData, &r.maxStreamDataBidiLocal,
		&r.maxStreamDataBidiRemote, &r.maxStreamDataUni, &r.maxStreamsBidi, &r.maxStreamsUni,
		&r.maxDatagramFrameSize}
}

func (r rememberedParams) encode(tag []byte) []byte {
	b := append([]byte(nil), tag...)
	b = wire.AppendVarint(b, uint64(r.version))
	for _, f := range r.fields() {
		b = wire.AppendVarint(b, *f)
	}
	return b
}

// findRemembered decodes our entry with tag from a ticket's Extra.
func findRemembered(extra [][]byte, tag []byte) (rememberedParams, bool) {
	var r rememberedParams
	for _, e := range extra {
		if !bytes.HasPrefix(e, tag) {
			continue
		}
		b := e[len(tag):]
		v, n, err := wire.ParseVarint(b)
		if err != nil {
			return r, false
		}
		r.version = uint32(v)
		b = b[n:]
		for _, f := range r.fields() {
			v, n, err := wire.ParseVarint(b)
			if err != nil {
				return r, false
			}
			*f, b = v, b[n:]
		}
		return r, true
	}
	return r, false
}

// atLeast reports whether limits r are at least those in o: a server that
// promised o may accept 0-RTT data sent under r only if r ≤ now.
func (r rememberedParams) atLeast(o rememberedParams) bool {
	rf, of := r.fields(), o.fields()
	for i := range rf {
		if *rf[i] < *of[i] {
			return false
		}
	}
	return r.version == o.version
}

// onStoreSession (client): keep the server's limits with the ticket.
func (c *Conn) onStoreSession(ss *tls.SessionState) error {
	st := &c.st
	if st.havePeerParams {
		ss.Extra = append(ss.Extra, rememberParams(st.version, &st.peerParams).encode(extraClientParams))
	}
	st.tlsDone = true // one ticket is enough for the next connection
	return st.tls.StoreSession(ss)
}

// onResumeSession handles a ticket being used: a client restores the
// server's remembered limits for 0-RTT; a server checks that it can still
// honour the limits the client will assume, else declines 0-RTT.
func (c *Conn) onResumeSession(ss *tls.SessionState) {
	st := &c.st
	if c.isClient {
		r, ok := findRemembered(ss.Extra, extraClientParams)
		if !ok || r.version != st.version || !c.earlyAllowed {
			ss.EarlyData = false
			return
		}
		st.zeroRTTParams = &r
		return
	}
	r, ok := findRemembered(ss.Extra, extraServerParams)
	lp := st.localParams()
	if !c.config.Allow0RTT || !ok || !rememberParams(st.origVersion, &lp).atLeast(r) {
		ss.EarlyData = false
	}
}

// sendSessionTicket (server): a ticket for resumption, allowing 0-RTT when
// configured, with our current limits attached.
func (c *Conn) sendSessionTicket() error {
	st := &c.st
	lp := st.localParams()
	return st.tls.SendSessionTicket(tls.QUICSessionTicketOptions{
		EarlyData: c.config.Allow0RTT,
		Extra:     [][]byte{rememberParams(st.version, &lp).encode(extraServerParams)},
	})
}

// startZeroRTT (client): 0-RTT keys are ready; apply the remembered limits
// so that streams can be opened and written before the handshake completes.
func (c *Conn) startZeroRTT() {
	st := &c.st
	r := st.zeroRTTParams
	if r == nil {
		return
	}
	st.peerParams.InitialMaxData = r.maxData
	st.peerParams.InitialMaxStreamDataBidiLocal = r.maxStreamDataBidiLocal
	st.peerParams.InitialMaxStreamDataBidiRemote = r.maxStreamDataBidiRemote
	st.peerParams.InitialMaxStreamDataUni = r.maxStreamDataUni
	st.flow.setSendMax(r.maxData)
	c.open.setPeerMaxStreamData(r.maxStreamDataBidiRemote, r.maxStreamDataUni)
	c.open.raise(bidi, r.maxStreamsBidi)
	c.open.raise(uni, r.maxStreamsUni)
	close(c.earlyReady)
}

// onZeroRTTRejected (client): the server refused our 0-RTT data; everything
// sent in 0-RTT goes again in 1-RTT packets (RFC 9001 §4.6.2).
func (c *Conn) onZeroRTTRejected(now time.Time) {
	st := &c.st
	st.zeroRTTRejected = true
	st.app.zeroSeal = nil
	st.rec.OnZeroRTTRejected(now)
}

// checkRememberedParams (client, after 0-RTT was accepted): the server may
// not lower the limits our 0-RTT data relied on (RFC 9000 §7.4.1).
func (c *Conn) checkRememberedParams(p *wire.TransportParameters) error {
	st := &c.st
	if st.zeroRTTParams == nil || st.zeroRTTRejected {
		return nil
	}
	if !rememberParams(st.version, p).atLeast(*st.zeroRTTParams) {
		return &TransportError{Code: wire.ProtocolViolation, Reason: "the server lowered limits that 0-RTT data relied on"}
	}
	return nil
}
