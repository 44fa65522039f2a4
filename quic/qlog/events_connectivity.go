package qlog

import (
	"net/netip"
	"time"
)

// Connectivity events, quic events §4.

// ConnectionStarted logs quic:connection_started (§4.2): the local and
// remote address, and the connection IDs each side is reached by (scid,
// ours; dcid, the peer's) as TupleEndpointInfo (§8.5). An invalid address
// is left out.
func (t *Trace) ConnectionStarted(now time.Time, local, remote netip.AddrPort, scid, dcid []byte) {
	if t == nil || t.off {
		return
	}
	b := t.begin(now, "connection_started")
	b = appendEndpoint(b, "local", local, scid)
	b = appendEndpoint(b, "remote", remote, dcid)
	t.end(b)
}

// appendEndpoint appends a TupleEndpointInfo (§8.5).
func appendEndpoint(b []byte, k string, ap netip.AddrPort, cid []byte) []byte {
	b = obj(b, k)
	if a := ap.Addr(); a.IsValid() {
		ipKey, portKey := "ip_v6", "port_v6"
		if a.Unmap().Is4() {
			ipKey, portKey = "ip_v4", "port_v4"
		}
		b = appendAddr(key(b, ipKey), a)
		b = fu(b, portKey, uint64(ap.Port()))
	}
	if cid != nil {
		b = arr(b, "connection_ids")
		b = appendHex(elem(b), cid)
		b = append(b, ']')
	}
	return append(b, '}')
}

// ConnectionStateUpdated logs quic:connection_state_updated (§4.6). An
// empty old state is left out.
func (t *Trace) ConnectionStateUpdated(now time.Time, old, new ConnectionState) {
	if t == nil || t.off {
		return
	}
	b := t.begin(now, "connection_state_updated")
	if old != "" {
		b = fs(b, "old", string(old))
	}
	b = fs(b, "new", string(new))
	t.end(b)
}

// Close describes the end of a connection for ConnectionClosed.
type Close struct {
	// Initiator is the side that closed the connection; NoInitiator
	// leaves it out.
	Initiator Initiator
	// HasCode tells that the close carried an error code (a
	// CONNECTION_CLOSE frame); an idle timeout or a stateless reset has
	// none.
	HasCode bool
	// App marks Code as an application error code (CONNECTION_CLOSE type
	// 0x1d) rather than a transport error code (RFC 9000 §20.1).
	App  bool
	Code uint64
	// Reason is the reason phrase or an internal explanation; empty leaves
	// it out.
	Reason string
	// Trigger is the cause; empty leaves it out.
	Trigger CloseTrigger
}

// ConnectionClosed logs quic:connection_closed (§4.3): a transport code as
// connection_error (its name, "crypto_error_0x1XX", or "unknown" with
// error_code), an application code as application_error "unknown" with
// error_code (§8.13.25: the draft names no application errors).
func (t *Trace) ConnectionClosed(now time.Time, c Close) {
	if t == nil || t.off {
		return
	}
	b := t.begin(now, "connection_closed")
	if n := c.Initiator.name(); n != "" {
		b = fs(b, "initiator", n)
	}
	if c.HasCode {
		if c.App {
			b = appendAppError(b, "application_error", c.Code)
		} else {
			b = appendTransportError(b, "connection_error", c.Code)
		}
	}
	if c.Reason != "" {
		b = fs(b, "reason", c.Reason)
	}
	if c.Trigger != "" {
		b = fs(b, "trigger", string(c.Trigger))
	}
	t.end(b)
}

// ConnectionIDUpdated logs quic:connection_id_updated (§4.4): Remote when
// the peer's connection ID this endpoint sends to changes, Local when its
// own does. A nil old or new ID is left out.
func (t *Trace) ConnectionIDUpdated(now time.Time, initiator Initiator, old, new []byte) {
	if t == nil || t.off {
		return
	}
	b := t.begin(now, "connection_id_updated")
	if n := initiator.name(); n != "" {
		b = fs(b, "initiator", n)
	}
	if old != nil {
		b = fhex(b, "old", old)
	}
	if new != nil {
		b = fhex(b, "new", new)
	}
	t.end(b)
}

// MTUUpdated logs quic:mtu_updated (§4.8): the path MTU estimate (the
// largest UDP payload) went from old to new; done when discovery stopped.
// An old of 0 is left out.
func (t *Trace) MTUUpdated(now time.Time, old, new uint32, done bool) {
	if t == nil || t.off {
		return
	}
	b := t.begin(now, "mtu_updated")
	if old != 0 {
		b = fu(b, "old", uint64(old))
	}
	b = fu(b, "new", uint64(new))
	if done {
		b = fbool(b, "done", true)
	}
	t.end(b)
}
