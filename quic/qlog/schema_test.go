package qlog

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// A well-formedness check against the draft's field names: the CDDL types
// of draft-ietf-quic-qlog-quic-events (§4-§8) and RawInfo of the main
// schema (§10), written down here member by member (true: required).
// TestSchemaMatchesDraft checks this table against the draft's text when
// the specs are at hand.
var schemaTypes = map[string]map[string]bool{
	// Events.
	"QUICConnectionStarted":      {"local": true, "remote": true},
	"QUICConnectionClosed":       {"initiator": false, "connection_error": false, "application_error": false, "error_code": false, "internal_code": false, "reason": false, "trigger": false},
	"QUICConnectionIDUpdated":    {"initiator": true, "old": false, "new": false},
	"QUICConnectionStateUpdated": {"old": false, "new": true},
	"QUICMTUUpdated":             {"old": false, "new": true, "done": false},
	"QUICVersionInformation":     {"server_versions": false, "client_versions": false, "chosen_version": false},
	"QUICALPNInformation":        {"server_alpns": false, "client_alpns": false, "chosen_alpn": false},
	"QUICParametersSet": {"initiator": false, "resumption_allowed": false, "early_data_enabled": false, "tls_cipher": false,
		"original_destination_connection_id": false, "initial_source_connection_id": false, "retry_source_connection_id": false,
		"stateless_reset_token": false, "disable_active_migration": false, "max_idle_timeout": false, "max_udp_payload_size": false,
		"ack_delay_exponent": false, "max_ack_delay": false, "active_connection_id_limit": false, "initial_max_data": false,
		"initial_max_stream_data_bidi_local": false, "initial_max_stream_data_bidi_remote": false, "initial_max_stream_data_uni": false,
		"initial_max_streams_bidi": false, "initial_max_streams_uni": false, "preferred_address": false, "unknown_parameters": false,
		"max_datagram_frame_size": false, "grease_quic_bit": false, "reset_stream_at": false},
	"QUICParametersRestored": {"disable_active_migration": false, "max_idle_timeout": false, "max_udp_payload_size": false,
		"active_connection_id_limit": false, "initial_max_data": false, "initial_max_stream_data_bidi_local": false,
		"initial_max_stream_data_bidi_remote": false, "initial_max_stream_data_uni": false, "initial_max_streams_bidi": false,
		"initial_max_streams_uni": false, "max_datagram_frame_size": false, "grease_quic_bit": false},
	"QUICPacketSent": {"header": true, "frames": false, "stateless_reset_token": false, "supported_versions": false, "raw": false,
		"datagram_payload_checksum": false, "is_mtu_probe_packet": false, "trigger": false},
	"QUICPacketReceived": {"header": true, "frames": false, "stateless_reset_token": false, "supported_versions": false, "raw": false,
		"datagram_payload_checksum": false, "trigger": false},
	"QUICPacketDropped":          {"header": false, "raw": false, "datagram_payload_checksum": false, "details": false, "trigger": false},
	"QUICPacketBuffered":         {"header": false, "raw": false, "datagram_payload_checksum": false, "trigger": false},
	"QUICPacketsAcked":           {"packet_number_space": false, "packet_numbers": false},
	"QUICUDPDatagramsSent":       {"count": false, "raw": false, "ecn": false, "datagram_payload_checksums": false},
	"QUICUDPDatagramsReceived":   {"count": false, "raw": false, "ecn": false, "datagram_payload_checksums": false},
	"QUICUDPDatagramDropped":     {"raw": false},
	"QUICKeyUpdated":             {"key_type": true, "old": false, "new": false, "key_phase": false, "trigger": false},
	"QUICKeyDiscarded":           {"key_type": true, "key": false, "key_phase": false, "trigger": false},
	"QUICCongestionStateUpdated": {"old": false, "new": true, "trigger": false},
	"QUICPacketLost":             {"header": false, "frames": false, "is_mtu_probe_packet": false, "trigger": false},
	"QUICECNStateUpdated":        {"old": false, "new": true},
	"QUICRecoveryMetricsUpdated": {"min_rtt": false, "smoothed_rtt": false, "latest_rtt": false, "rtt_variance": false,
		"pto_count": false, "congestion_window": false, "bytes_in_flight": false, "ssthresh": false,
		"packets_in_flight": false, "pacing_rate": false},
	// Data types.
	"PacketHeader": {"packet_type": true, "packet_type_bytes": false, "spin_bit": false, "key_phase": false, "key_phase_bit": false,
		"packet_number_length": false, "packet_number": false, "token": false, "length": false, "version": false,
		"scil": false, "dcil": false, "scid": false, "dcid": false},
	"RawInfo":           {"length": false, "payload_length": false, "data": false},
	"TupleEndpointInfo": {"ip_v4": false, "port_v4": false, "ip_v6": false, "port_v6": false, "connection_ids": false},
	"Token":             {"type": false, "details": false, "raw": false},
	"PreferredAddress":  {"ip_v4": false, "port_v4": false, "ip_v6": false, "port_v6": false, "connection_id": true, "stateless_reset_token": true},
	"ALPNIdentifier":    {"byte_value": false, "string_value": false},
	// Frames.
	"PaddingFrame":            {"frame_type": true, "raw": false},
	"PingFrame":               {"frame_type": true, "raw": false},
	"AckFrame":                {"frame_type": true, "ack_delay": false, "acked_ranges": false, "ect1": false, "ect0": false, "ce": false, "raw": false},
	"ResetStreamFrame":        {"frame_type": true, "stream_id": true, "error": true, "error_code": false, "final_size": true, "raw": false},
	"StopSendingFrame":        {"frame_type": true, "stream_id": true, "error": true, "error_code": false, "raw": false},
	"CryptoFrame":             {"frame_type": true, "offset": true, "raw": true},
	"NewTokenFrame":           {"frame_type": true, "token": true, "raw": false},
	"StreamFrame":             {"frame_type": true, "stream_id": true, "offset": false, "fin": false, "raw": false},
	"MaxDataFrame":            {"frame_type": true, "maximum": true, "raw": false},
	"MaxStreamDataFrame":      {"frame_type": true, "stream_id": true, "maximum": true, "raw": false},
	"MaxStreamsFrame":         {"frame_type": true, "stream_type": true, "maximum": true, "raw": false},
	"DataBlockedFrame":        {"frame_type": true, "limit": true, "raw": false},
	"StreamDataBlockedFrame":  {"frame_type": true, "stream_id": true, "limit": true, "raw": false},
	"StreamsBlockedFrame":     {"frame_type": true, "stream_type": true, "limit": true, "raw": false},
	"NewConnectionIDFrame":    {"frame_type": true, "sequence_number": true, "retire_prior_to": true, "connection_id_length": false, "connection_id": true, "stateless_reset_token": false, "raw": false},
	"RetireConnectionIDFrame": {"frame_type": true, "sequence_number": true, "raw": false},
	"PathChallengeFrame":      {"frame_type": true, "data": false, "raw": false},
	"PathResponseFrame":       {"frame_type": true, "data": false, "raw": false},
	"ConnectionCloseFrame":    {"frame_type": true, "error_space": false, "error": false, "error_code": false, "reason": false, "reason_bytes": false, "trigger_frame_type": false, "raw": false},
	"HandshakeDoneFrame":      {"frame_type": true, "raw": false},
	"UnknownFrame":            {"frame_type": true, "frame_type_bytes": true, "raw": false},
	"DatagramFrame":           {"frame_type": true, "raw": false},
}

// eventTypes maps event names (quic events §3) to their data types.
var eventTypes = map[string]string{
	"connection_started": "QUICConnectionStarted", "connection_closed": "QUICConnectionClosed",
	"connection_id_updated": "QUICConnectionIDUpdated", "connection_state_updated": "QUICConnectionStateUpdated",
	"mtu_updated": "QUICMTUUpdated", "version_information": "QUICVersionInformation",
	"alpn_information": "QUICALPNInformation", "parameters_set": "QUICParametersSet",
	"parameters_restored": "QUICParametersRestored", "packet_sent": "QUICPacketSent",
	"packet_received": "QUICPacketReceived", "packet_dropped": "QUICPacketDropped",
	"packet_buffered": "QUICPacketBuffered", "packets_acked": "QUICPacketsAcked",
	"udp_datagrams_sent": "QUICUDPDatagramsSent", "udp_datagrams_received": "QUICUDPDatagramsReceived",
	"udp_datagram_dropped": "QUICUDPDatagramDropped", "key_updated": "QUICKeyUpdated",
	"key_discarded": "QUICKeyDiscarded", "recovery_metrics_updated": "QUICRecoveryMetricsUpdated",
	"congestion_state_updated": "QUICCongestionStateUpdated", "packet_lost": "QUICPacketLost",
	"ecn_state_updated": "QUICECNStateUpdated",
}

// frameTypes maps frame_type values (§8.13) to their types.
var frameTypes = map[string]string{
	"padding": "PaddingFrame", "ping": "PingFrame", "ack": "AckFrame", "reset_stream": "ResetStreamFrame",
	"stop_sending": "StopSendingFrame", "crypto": "CryptoFrame", "new_token": "NewTokenFrame",
	"stream": "StreamFrame", "max_data": "MaxDataFrame", "max_stream_data": "MaxStreamDataFrame",
	"max_streams": "MaxStreamsFrame", "data_blocked": "DataBlockedFrame",
	"stream_data_blocked": "StreamDataBlockedFrame", "streams_blocked": "StreamsBlockedFrame",
	"new_connection_id": "NewConnectionIDFrame", "retire_connection_id": "RetireConnectionIDFrame",
	"path_challenge": "PathChallengeFrame", "path_response": "PathResponseFrame",
	"connection_close": "ConnectionCloseFrame", "handshake_done": "HandshakeDoneFrame",
	"unknown": "UnknownFrame", "datagram": "DatagramFrame",
}

// nestedTypes are the members whose values are objects (or arrays of
// objects) of a known type.
var nestedTypes = map[string]string{
	"header": "PacketHeader", "raw": "RawInfo", "local": "TupleEndpointInfo", "remote": "TupleEndpointInfo",
	"token": "Token", "preferred_address": "PreferredAddress", "server_alpns": "ALPNIdentifier",
	"client_alpns": "ALPNIdentifier", "chosen_alpn": "ALPNIdentifier",
}

// hexMembers hold hexstrings (main schema §1.2): lower-case, even length.
var hexMembers = map[string]bool{
	"scid": true, "dcid": true, "connection_id": true, "connection_ids": true, "stateless_reset_token": true,
	"original_destination_connection_id": true, "initial_source_connection_id": true,
	"retry_source_connection_id": true, "version": true, "chosen_version": true, "server_versions": true,
	"client_versions": true, "supported_versions": true, "data": true, "reason_bytes": true, "byte_value": true,
}

// enumMembers are members with a closed set of values (§8).
var enumMembers = map[string][]string{
	"packet_type":         {"initial", "handshake", "0RTT", "1RTT", "retry", "version_negotiation", "stateless_reset", "unknown"},
	"packet_number_space": {"initial", "handshake", "application_data"},
	"initiator":           {"local", "remote"},
	"key_type": {"server_initial_secret", "client_initial_secret", "server_handshake_secret", "client_handshake_secret",
		"server_0rtt_secret", "client_0rtt_secret", "server_1rtt_secret", "client_1rtt_secret"},
	"stream_type": {"unidirectional", "bidirectional"},
	"error_space": {"transport", "application"},
}

var (
	hexRe         = regexp.MustCompile(`^([0-9a-f]{2})*$`)
	cryptoErrorRe = regexp.MustCompile(`^crypto_error_0x1[0-9a-f][0-9a-f]$`)
	transportErrs = []string{"no_error", "internal_error", "connection_refused", "flow_control_error",
		"stream_limit_error", "stream_state_error", "final_size_error", "frame_encoding_error",
		"transport_parameter_error", "connection_id_limit_error", "protocol_violation", "invalid_token",
		"application_error", "crypto_buffer_exceeded", "key_update_error", "aead_limit_reached",
		"no_viable_path", "unknown"}
)

// checkObject reports every way obj departs from the type typ.
func checkObject(path, typ string, obj map[string]any) []string {
	fields, ok := schemaTypes[typ]
	if !ok {
		return []string{path + ": no schema for " + typ}
	}
	var errs []string
	for name, required := range fields {
		if _, ok := obj[name]; required && !ok {
			errs = append(errs, fmt.Sprintf("%s: %s lacks required %q", path, typ, name))
		}
	}
	for name, v := range obj {
		p := path + "." + name
		if _, ok := fields[name]; !ok {
			errs = append(errs, fmt.Sprintf("%s: %q is not a member of %s", path, name, typ))
			continue
		}
		errs = append(errs, checkValue(p, name, v)...)
	}
	if typ == "ConnectionCloseFrame" || typ == "QUICConnectionClosed" {
		errs = append(errs, checkErrorCode(path, obj)...)
	}
	return errs
}

func checkValue(path, name string, v any) []string {
	var errs []string
	if name == "frames" {
		list, ok := v.([]any)
		if !ok {
			return []string{path + ": frames is not an array"}
		}
		for i, f := range list {
			fo, ok := f.(map[string]any)
			if !ok {
				errs = append(errs, fmt.Sprintf("%s[%d]: not an object", path, i))
				continue
			}
			ft, _ := fo["frame_type"].(string)
			typ, ok := frameTypes[ft]
			if !ok {
				errs = append(errs, fmt.Sprintf("%s[%d]: frame_type %q is not in §8.13", path, i, ft))
				continue
			}
			errs = append(errs, checkObject(fmt.Sprintf("%s[%d]", path, i), typ, fo)...)
		}
		return errs
	}
	if typ, ok := nestedTypes[name]; ok {
		switch x := v.(type) {
		case map[string]any:
			return checkObject(path, typ, x)
		case []any:
			for i, e := range x {
				eo, ok := e.(map[string]any)
				if !ok {
					errs = append(errs, fmt.Sprintf("%s[%d]: not an object", path, i))
					continue
				}
				errs = append(errs, checkObject(fmt.Sprintf("%s[%d]", path, i), typ, eo)...)
			}
			return errs
		}
		return []string{path + ": not an object"}
	}
	if hexMembers[name] {
		for _, s := range stringsOf(v) {
			if !hexRe.MatchString(s) {
				errs = append(errs, fmt.Sprintf("%s: %q is not a hexstring", path, s))
			}
		}
		return errs
	}
	if allowed, ok := enumMembers[name]; ok {
		s, _ := v.(string)
		if !contains(allowed, s) {
			errs = append(errs, fmt.Sprintf("%s: %v is not one of %v", path, v, allowed))
		}
	}
	return errs
}

// checkErrorCode checks the error members of connection_closed and
// CONNECTION_CLOSE (§4.3, §8.13.20, §8.13.24-26).
func checkErrorCode(path string, obj map[string]any) []string {
	var errs []string
	for _, k := range []string{"error", "connection_error", "application_error"} {
		v, ok := obj[k]
		if !ok {
			continue
		}
		s, _ := v.(string)
		switch {
		case k == "application_error" || obj["error_space"] == "application":
			if s != "unknown" {
				errs = append(errs, fmt.Sprintf("%s: application error %q", path, s))
			}
		case !contains(transportErrs, s) && !cryptoErrorRe.MatchString(s):
			errs = append(errs, fmt.Sprintf("%s: transport error %q", path, s))
		}
		if _, ok := obj["error_code"]; s == "unknown" && !ok {
			errs = append(errs, path+": error \"unknown\" without error_code")
		}
	}
	return errs
}

func stringsOf(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, stringsOf(e)...)
		}
		return out
	}
	return []string{fmt.Sprint(v)}
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// checkEvent checks an event record: exactly time, name and data (main
// schema §7), a known quic: name, and data of the event's type.
func checkEvent(ev map[string]any) []string {
	var errs []string
	if len(ev) != 3 {
		errs = append(errs, fmt.Sprintf("event has members %v, want time, name, data", keys(ev)))
	}
	if tm, ok := ev["time"].(json.Number); !ok {
		errs = append(errs, "time is not a number")
	} else if f, err := tm.Float64(); err != nil || f < 0 {
		errs = append(errs, "time is not a non-negative number: "+tm.String())
	}
	name, _ := ev["name"].(string)
	short, ok := strings.CutPrefix(name, "quic:")
	typ, known := eventTypes[short]
	if !ok || !known {
		return append(errs, fmt.Sprintf("unknown event name %q", name))
	}
	data, ok := ev["data"].(map[string]any)
	if !ok {
		return append(errs, name+": data is not an object")
	}
	return append(errs, checkObject(name, typ, data)...)
}

func keys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// TestSchema writes every event and frame and checks each record against
// the draft's types.
func TestSchema(t *testing.T) {
	tr, buf := newTestTrace()
	writeAll(tr, testStart.Add(time.Millisecond))
	evs := events(t, output(t, tr, buf))
	seen := map[string]bool{}
	seenFrames := map[string]bool{}
	for _, ev := range evs {
		for _, e := range checkEvent(ev) {
			t.Error(e)
		}
		name := ev["name"].(string)
		seen[strings.TrimPrefix(name, "quic:")] = true
		if data, ok := ev["data"].(map[string]any); ok {
			if frames, ok := data["frames"].([]any); ok {
				for _, f := range frames {
					seenFrames[f.(map[string]any)["frame_type"].(string)] = true
				}
			}
		}
	}
	for name := range eventTypes {
		if !seen[name] {
			t.Errorf("writeAll logs no %s event", name)
		}
	}
	for ft := range frameTypes {
		if !seenFrames[ft] {
			t.Errorf("writeAll logs no %s frame", ft)
		}
	}
}

// TestSchemaChecker makes sure the checker finds what it should.
func TestSchemaChecker(t *testing.T) {
	tests := []struct {
		name string
		ev   string
	}{
		{"extra member", `{"time":1,"name":"quic:mtu_updated","data":{"new":1,"nwe":2}}`},
		{"missing required", `{"time":1,"name":"quic:mtu_updated","data":{"old":1}}`},
		{"unknown event", `{"time":1,"name":"quic:mtu_changed","data":{"new":1}}`},
		{"no namespace", `{"time":1,"name":"mtu_updated","data":{"new":1}}`},
		{"bad frame member", `{"time":1,"name":"quic:packet_sent","data":{"header":{"packet_type":"1RTT"},"frames":[{"frame_type":"stream","id":0}]}}`},
		{"bad frame type", `{"time":1,"name":"quic:packet_sent","data":{"header":{"packet_type":"1RTT"},"frames":[{"frame_type":"streem"}]}}`},
		{"bad hex", `{"time":1,"name":"quic:packet_sent","data":{"header":{"packet_type":"1RTT","dcid":"ABC"}}}`},
		{"bad enum", `{"time":1,"name":"quic:packet_sent","data":{"header":{"packet_type":"short"}}}`},
		{"bad error", `{"time":1,"name":"quic:connection_closed","data":{"connection_error":"PROTOCOL_VIOLATION"}}`},
		{"unknown without code", `{"time":1,"name":"quic:connection_closed","data":{"application_error":"unknown"}}`},
		{"negative time", `{"time":-1,"name":"quic:mtu_updated","data":{"new":1}}`},
		{"extra top-level", `{"time":1,"name":"quic:mtu_updated","data":{"new":1},"x":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if errs := checkEvent(decode(t, []byte(tt.ev))); len(errs) == 0 {
				t.Errorf("checker accepts %s", tt.ev)
			}
		})
	}
}

// TestSchemaMatchesDraft compares schemaTypes and eventTypes with the CDDL
// and the event table of the draft, when the specs are at hand
// (QLOG_SPECS_DIR, or /work/shared/specs next to the repository).
func TestSchemaMatchesDraft(t *testing.T) {
	dir := os.Getenv("QLOG_SPECS_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "specs")
	}
	quic, err := os.ReadFile(filepath.Join(dir, "draft-ietf-quic-qlog-quic-events.md"))
	if err != nil {
		t.Skipf("draft not found: %v", err)
	}
	main, err := os.ReadFile(filepath.Join(dir, "draft-ietf-quic-qlog-main-schema.md"))
	if err != nil {
		t.Skipf("draft not found: %v", err)
	}
	// The main schema's QUICPacketSent and QUICPacketDropped are
	// illustrations; only RawInfo is taken from it.
	draft := parseCDDL(string(quic))
	draft["RawInfo"] = parseCDDL(string(main))["RawInfo"]
	for typ, want := range schemaTypes {
		got, ok := draft[typ]
		if !ok {
			t.Errorf("the draft defines no %s", typ)
			continue
		}
		for name, req := range want {
			if dreq, ok := got[name]; !ok {
				t.Errorf("%s.%s is not in the draft", typ, name)
			} else if dreq != req {
				t.Errorf("%s.%s: required=%v here, %v in the draft", typ, name, req, dreq)
			}
		}
		for name := range got {
			if _, ok := want[name]; !ok {
				t.Errorf("%s.%s of the draft is missing here", typ, name)
			}
		}
	}
	names := regexp.MustCompile(`(?m)^\|\s*quic:([a-z_0-9]+)\s*\|`).FindAllStringSubmatch(string(quic), -1)
	if len(names) == 0 {
		t.Fatal("no event table found in the draft")
	}
	inDraft := map[string]bool{}
	for _, m := range names {
		inDraft[m[1]] = true
	}
	for name := range eventTypes {
		if !inDraft[name] {
			t.Errorf("event %s is not in the draft's table", name)
		}
	}
}

// parseCDDL extracts the members of every `Name = {` map type in the
// draft's cddl blocks: name -> member -> required.
func parseCDDL(text string) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	start := regexp.MustCompile(`^\s*([A-Za-z][A-Za-z0-9]*)\s*/?=\s*\{`)
	member := regexp.MustCompile(`^\s*(\?\s*)?([a-z_0-9]+)\s*:`)
	var cur map[string]bool
	depth := 0
	for _, line := range strings.Split(text, "\n") {
		if i := strings.Index(line, ";"); i >= 0 {
			line = line[:i]
		}
		if cur == nil {
			if m := start.FindStringSubmatch(line); m != nil {
				cur = map[string]bool{}
				out[m[1]] = cur
				depth = 0
			} else {
				continue
			}
		} else if depth == 1 {
			if m := member.FindStringSubmatch(line); m != nil {
				cur[m[2]] = m[1] == ""
			}
		}
		depth += strings.Count(line, "{") - strings.Count(line, "}")
		if depth <= 0 {
			cur = nil
		}
	}
	return out
}
