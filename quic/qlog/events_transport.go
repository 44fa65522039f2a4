package qlog

import (
	"time"
	"unicode/utf8"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

// Transport events about the connection's setup, quic events §5.1-§5.4.

// VersionInformation logs quic:version_information (§5.1). A nil list or a
// zero chosen version is left out; the draft's "intended use" says which to
// set when.
func (t *Trace) VersionInformation(now time.Time, server, client []wire.Version, chosen wire.Version) {
	if t == nil || t.off {
		return
	}
	b := t.begin(now, "version_information")
	if server != nil {
		b = appendVersions(b, "server_versions", server)
	}
	if client != nil {
		b = appendVersions(b, "client_versions", client)
	}
	if chosen != 0 {
		b = appendVersion(key(b, "chosen_version"), chosen)
	}
	t.end(b)
}

func appendVersions(b []byte, k string, vs []wire.Version) []byte {
	b = arr(b, k)
	for _, v := range vs {
		b = appendVersion(elem(b), v)
	}
	return append(b, ']')
}

// ALPNInformation logs quic:alpn_information (§5.2). A nil list or an empty
// chosen protocol is left out. Each ALPNIdentifier is written as
// string_value when it is valid UTF-8, else as byte_value.
func (t *Trace) ALPNInformation(now time.Time, server, client []string, chosen string) {
	if t == nil || t.off {
		return
	}
	b := t.begin(now, "alpn_information")
	if server != nil {
		b = appendALPNs(b, "server_alpns", server)
	}
	if client != nil {
		b = appendALPNs(b, "client_alpns", client)
	}
	if chosen != "" {
		b = appendALPN(key(b, "chosen_alpn"), chosen)
	}
	t.end(b)
}

func appendALPNs(b []byte, k string, protos []string) []byte {
	b = arr(b, k)
	for _, p := range protos {
		b = appendALPN(elem(b), p)
	}
	return append(b, ']')
}

func appendALPN(b []byte, p string) []byte {
	b = append(b, '{')
	if utf8.ValidString(p) {
		b = fs(b, "string_value", p)
	} else {
		b = key(b, "byte_value")
		b = append(b, '"')
		for i := 0; i < len(p); i++ {
			b = append(b, hexDigits[p[i]>>4], hexDigits[p[i]&0xf])
		}
		b = append(b, '"')
	}
	return append(b, '}')
}

// ParametersSet logs quic:parameters_set (§5.3) with the transport
// parameters one side sent: Local for ours, Remote for the peer's. Every
// RFC 9000 §18.2 parameter is written with the value in effect (defaults
// included, as wire.TransportParameters holds them); connection IDs, the
// stateless reset token and the preferred address only when present;
// max_datagram_frame_size only when sent (RFC 9221 §3).
//
// It also remembers ack_delay_exponent, so that Packet.Frames scales the
// ACK Delay of ACK frames sent (Local) and received (Remote).
func (t *Trace) ParametersSet(now time.Time, initiator Initiator, p *wire.TransportParameters) {
	if t == nil || t.off || p == nil {
		return
	}
	if p.AckDelayExponent <= wire.MaxAckDelayExponent {
		switch initiator {
		case Local:
			t.ackExpLocal = uint8(p.AckDelayExponent)
		case Remote:
			t.ackExpRemote = uint8(p.AckDelayExponent)
		}
	}
	b := t.begin(now, "parameters_set")
	if n := initiator.name(); n != "" {
		b = fs(b, "initiator", n)
	}
	if p.OriginalDestinationConnectionID != nil {
		b = fhex(b, "original_destination_connection_id", p.OriginalDestinationConnectionID)
	}
	if p.InitialSourceConnectionID != nil {
		b = fhex(b, "initial_source_connection_id", p.InitialSourceConnectionID)
	}
	if p.RetrySourceConnectionID != nil {
		b = fhex(b, "retry_source_connection_id", p.RetrySourceConnectionID)
	}
	if p.StatelessResetToken != nil {
		b = fhex(b, "stateless_reset_token", p.StatelessResetToken[:])
	}
	b = appendFlowParams(b, p)
	b = fu(b, "ack_delay_exponent", p.AckDelayExponent)
	b = fu(b, "max_ack_delay", uint64(p.MaxAckDelay.Milliseconds()))
	if pa := p.PreferredAddress; pa != nil {
		b = obj(b, "preferred_address")
		if a := pa.IPv4; a.Addr().IsValid() {
			b = appendAddr(key(b, "ip_v4"), a.Addr())
			b = fu(b, "port_v4", uint64(a.Port()))
		}
		if a := pa.IPv6; a.Addr().IsValid() {
			b = appendAddr(key(b, "ip_v6"), a.Addr())
			b = fu(b, "port_v6", uint64(a.Port()))
		}
		b = fhex(b, "connection_id", pa.ConnectionID)
		b = fhex(b, "stateless_reset_token", pa.StatelessResetToken[:])
		b = append(b, '}')
	}
	t.end(b)
}

// appendFlowParams appends the parameters parameters_set and
// parameters_restored (§5.4) share.
func appendFlowParams(b []byte, p *wire.TransportParameters) []byte {
	b = fbool(b, "disable_active_migration", p.DisableActiveMigration)
	b = fu(b, "max_idle_timeout", uint64(p.MaxIdleTimeout.Milliseconds()))
	b = fu(b, "max_udp_payload_size", p.MaxUDPPayloadSize)
	b = fu(b, "active_connection_id_limit", p.ActiveConnectionIDLimit)
	b = fu(b, "initial_max_data", p.InitialMaxData)
	b = fu(b, "initial_max_stream_data_bidi_local", p.InitialMaxStreamDataBidiLocal)
	b = fu(b, "initial_max_stream_data_bidi_remote", p.InitialMaxStreamDataBidiRemote)
	b = fu(b, "initial_max_stream_data_uni", p.InitialMaxStreamDataUni)
	b = fu(b, "initial_max_streams_bidi", p.InitialMaxStreamsBidi)
	b = fu(b, "initial_max_streams_uni", p.InitialMaxStreamsUni)
	if p.HasMaxDatagramFrameSize {
		b = fu(b, "max_datagram_frame_size", p.MaxDatagramFrameSize)
	}
	return b
}

// ParametersRestored logs quic:parameters_restored (§5.4): the server's
// parameters a client remembered from an earlier connection and uses for
// 0-RTT (RFC 9000 §7.4.1).
func (t *Trace) ParametersRestored(now time.Time, p *wire.TransportParameters) {
	if t == nil || t.off || p == nil {
		return
	}
	b := t.begin(now, "parameters_restored")
	b = appendFlowParams(b, p)
	t.end(b)
}

// TLSParametersSet logs quic:parameters_set (§5.3) with the TLS outcome,
// without an initiator: the cipher suite (as crypto/tls names it, e.g.
// tls.CipherSuiteName; empty leaves it out), whether a session was resumed
// and whether early data was accepted.
func (t *Trace) TLSParametersSet(now time.Time, cipher string, resumed, earlyData bool) {
	if t == nil || t.off {
		return
	}
	b := t.begin(now, "parameters_set")
	b = fbool(b, "resumption_allowed", resumed)
	b = fbool(b, "early_data_enabled", earlyData)
	if cipher != "" {
		b = fs(b, "tls_cipher", cipher)
	}
	t.end(b)
}
