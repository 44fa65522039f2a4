package quic

import (
	"errors"
	"net/netip"
	"time"

	"github.com/tsumugi-quic/tsumugi/quic/qlog"
	"github.com/tsumugi-quic/tsumugi/quic/wire"
	"github.com/tsumugi-quic/tsumugi/sched"
)

// qlog tracing (draft-ietf-quic-qlog): with Config.QlogDir set, each
// connection writes <ODCID>_<role>.sqlog there. The connection goroutine
// owns its trace; every call on a nil *qlog.Trace is free, so the hooks
// below run unconditionally.

// startTrace opens the connection's trace, if tracing is on.
func (st *connState) startTrace(now time.Time) {
	c := st.c
	if c.config.QlogDir == "" {
		return
	}
	t, err := qlog.Create(c.config.QlogDir, st.odcid, c.isClient, now)
	if err != nil {
		return // tracing is best effort: the connection goes on without it
	}
	st.trace = t
	var local netip.AddrPort
	if ua := c.localAddr.Load(); ua != nil {
		local = ua.AddrPort()
	}
	t.ConnectionStarted(now, local, st.remote, st.cids.scid(), st.cids.peerCurrent())
}

// tracePacket logs a sent or received packet whose payload is in plain
// text, with every frame in it.
func (st *connState) tracePacket(now time.Time, sent bool, pt wire.PacketType, pn uint64, payload []byte, size int) {
	if st.trace == nil {
		return
	}
	hdr := qlog.PacketHeader{Type: pt, PacketNumber: pn}
	if pt != wire.Packet1RTT {
		hdr.Version = st.version
	}
	p := st.trace.BeginPacket(now, sent, hdr)
	p.Frames(payload)
	p.End(size)
}

// traceLost logs a packet declared lost.
func (st *connState) traceLost(rec *sched.Record) {
	if st.trace == nil {
		return
	}
	pt := wire.Packet1RTT
	switch rec.Space {
	case sched.Initial:
		pt = wire.PacketInitial
	case sched.Handshake:
		pt = wire.PacketHandshake
	}
	st.trace.PacketLost(st.now, qlog.PacketHeader{Type: pt, PacketNumber: rec.PacketNumber}, "")
}

// traceRecovery logs the recovery metrics after an ACK; only changed ones
// are written.
func (st *connState) traceRecovery() {
	if st.trace == nil {
		return
	}
	r := st.rec
	st.trace.RecoveryMetricsUpdated(st.now, qlog.RecoveryMetrics{
		MinRTT: r.MinRTT(), SmoothedRTT: r.SmoothedRTT(), LatestRTT: r.LatestRTT(),
		PTOCount: uint64(r.PTOCount()), CongestionWindow: uint64(r.CongestionWindow()),
		BytesInFlight: uint64(r.BytesInFlight()), SSThresh: uint64(r.SlowStartThreshold()),
		Fields: qlog.MetricMinRTT | qlog.MetricSmoothedRTT | qlog.MetricLatestRTT | qlog.MetricPTOCount |
			qlog.MetricCongestionWindow | qlog.MetricBytesInFlight | qlog.MetricSSThresh,
	})
}

// traceClosed logs the end of the connection and closes the trace.
func (st *connState) traceClosed(now time.Time, cause error) {
	if st.trace == nil {
		return
	}
	cl := qlog.Close{Reason: cause.Error()}
	var app *ApplicationError
	var te *TransportError
	switch {
	case errors.As(cause, &app):
		cl.HasCode, cl.App, cl.Code, cl.Reason = true, true, app.Code, app.Reason
		cl.Initiator, cl.Trigger = initiator(app.Remote), qlog.CloseApplication
	case errors.As(cause, &te):
		cl.HasCode, cl.Code, cl.Reason = true, uint64(te.Code), te.Reason
		cl.Initiator, cl.Trigger = initiator(te.Remote), qlog.CloseError
	case errors.Is(cause, ErrIdleTimeout):
		cl.Initiator, cl.Trigger = qlog.Local, qlog.CloseIdleTimeout
	case errors.Is(cause, ErrStatelessReset):
		cl.Initiator, cl.Trigger = qlog.Remote, qlog.CloseStatelessReset
	default:
		cl.Initiator, cl.Trigger = qlog.Local, qlog.CloseAborted
	}
	st.trace.ConnectionClosed(now, cl)
	st.trace.Close()
	st.trace = nil
}

func initiator(remote bool) qlog.Initiator {
	if remote {
		return qlog.Remote
	}
	return qlog.Local
}
