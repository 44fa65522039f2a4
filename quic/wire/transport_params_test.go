package wire

import (
	"bytes"
	"errors"
	"net/netip"
	"reflect"
	"testing"
	"time"
)

// fullServerParams sets every parameter to a non-default value.
func fullServerParams() TransportParameters {
	token := [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	return TransportParameters{
		OriginalDestinationConnectionID: []byte{0x83, 0x94, 0xc8, 0xf0},
		MaxIdleTimeout:                  30 * time.Second,
		StatelessResetToken:             &token,
		MaxUDPPayloadSize:               1452,
		InitialMaxData:                  1 << 30,
		InitialMaxStreamDataBidiLocal:   16383,
		InitialMaxStreamDataBidiRemote:  16384,
		InitialMaxStreamDataUni:         63,
		InitialMaxStreamsBidi:           MaxStreamsLimit,
		InitialMaxStreamsUni:            64,
		AckDelayExponent:                MaxAckDelayExponent,
		MaxAckDelay:                     MaxMaxAckDelay,
		DisableActiveMigration:          true,
		PreferredAddress: &PreferredAddress{
			IPv4:                netip.MustParseAddrPort("192.0.2.1:4433"),
			IPv6:                netip.MustParseAddrPort("[2001:db8::1]:4434"),
			ConnectionID:        []byte{9, 8, 7, 6, 5, 4, 3, 2},
			StatelessResetToken: [16]byte{0xff, 0xee},
		},
		ActiveConnectionIDLimit:   8,
		InitialSourceConnectionID: []byte{0xf0, 0x67},
		RetrySourceConnectionID:   []byte{},
		VersionInformation:        &VersionInformation{ChosenVersion: Version2, AvailableVersions: []Version{Version2, Version1}},
		MaxDatagramFrameSize:      65535,
		HasMaxDatagramFrameSize:   true,
	}
}

func TestTransportParametersRoundTrip(t *testing.T) {
	server := fullServerParams()
	client := fullServerParams()
	client.OriginalDestinationConnectionID = nil
	client.StatelessResetToken = nil
	client.PreferredAddress = nil
	client.RetrySourceConnectionID = nil

	minimal := DefaultTransportParameters()
	minimal.InitialSourceConnectionID = []byte{} // zero-length, but present
	minimalServer := minimal
	minimalServer.OriginalDestinationConnectionID = []byte{1}

	oneFamily := fullServerParams()
	oneFamily.PreferredAddress.IPv4 = netip.AddrPort{}
	zeroDatagram := minimal
	zeroDatagram.HasMaxDatagramFrameSize = true
	zeroValues := minimal
	zeroValues.AckDelayExponent = 0
	zeroValues.MaxAckDelay = 0
	maxIdle := minimal
	maxIdle.MaxIdleTimeout = time.Duration(maxIdleTimeoutMillis) * time.Millisecond

	tests := []struct {
		name     string
		p        TransportParameters
		isServer bool
	}{
		{"server, all parameters", server, true},
		{"client, all parameters", client, false},
		{"client, defaults", minimal, false},
		{"server, defaults", minimalServer, true},
		{"preferred address, IPv6 only", oneFamily, true},
		{"max_datagram_frame_size 0 present", zeroDatagram, false},
		{"zero ack delay exponent and max ack delay", zeroValues, false},
		{"largest idle timeout", maxIdle, false},
	}
	for _, tt := range tests {
		b := tt.p.Append(nil, tt.isServer)
		got, err := ParseTransportParameters(b, tt.isServer)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if !reflect.DeepEqual(got, tt.p) {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.name, got, tt.p)
		}
	}

	// A client's Append leaves out server-only parameters.
	b := server.Append(nil, false)
	got, err := ParseTransportParameters(b, false)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, client) {
		t.Errorf("client encoding of server parameters:\n got %+v\nwant %+v", got, client)
	}
}

// tp encodes one raw transport parameter.
func tp(id uint64, value []byte) []byte {
	return appendBytesParam(nil, id, value)
}

func tpInt(id, v uint64) []byte { return appendIntParam(nil, id, v) }

func concat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func TestTransportParametersSkipUnknown(t *testing.T) {
	iscid := tp(tpInitialSourceConnectionID, []byte{1})
	var b []byte
	for n := uint64(0); n < 5; n++ {
		b = append(b, tp(31*n+27, []byte("grease"))...) // reserved IDs, RFC 9000 §18.1
	}
	b = append(b, tp(0x2ab2, nil)...)                    // grease_quic_bit (RFC 9287): not supported, ignored
	b = append(b, tp(0x3fff_ffff, make([]byte, 300))...) // unknown, long
	b = append(b, tp(0x40, nil)...)                      // unknown, sent twice: not our business
	b = append(b, tp(0x40, nil)...)
	b = append(b, iscid...)
	b = append(b, tpInt(tpInitialMaxData, 1000)...)
	b = append(b, tp(1<<62-1, []byte{1, 2})...)
	got, err := ParseTransportParameters(b, false)
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultTransportParameters()
	want.InitialSourceConnectionID = []byte{1}
	want.InitialMaxData = 1000
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestTransportParametersErrors(t *testing.T) {
	iscid := tp(tpInitialSourceConnectionID, []byte{1})
	odcid := tp(tpOriginalDestinationConnectionID, []byte{2})
	goodPA := fullServerParams().PreferredAddress.append(nil)
	// Preferred address value with a given connection ID length byte.
	pa := func(cidLen int, cid []byte) []byte {
		v := make([]byte, 24)
		v = append(v, byte(cidLen))
		v = append(v, cid...)
		v = append(v, make([]byte, 16)...)
		return tp(tpPreferredAddress, v)
	}
	vi := func(vs ...uint32) []byte {
		var v []byte
		for _, x := range vs {
			v = append(v, byte(x>>24), byte(x>>16), byte(x>>8), byte(x))
		}
		return tp(tpVersionInformation, v)
	}
	tests := []struct {
		name       string
		b          []byte
		fromServer bool
	}{
		{"truncated ID", concat(iscid, []byte{0x40}), false},
		{"truncated length", concat(iscid, []byte{0x01}), false},
		{"value past the end", concat(iscid, []byte{0x04, 0x05, 1, 2}), false},
		{"duplicate", concat(iscid, tpInt(tpInitialMaxData, 1), tpInt(tpInitialMaxData, 1)), false},
		{"duplicate CID", concat(iscid, iscid), false},
		{"integer with trailing byte", concat(iscid, tp(tpInitialMaxData, []byte{0x01, 0x00})), false},
		{"integer truncated", concat(iscid, tp(tpInitialMaxData, []byte{0x40})), false},
		{"empty integer", concat(iscid, tp(tpMaxIdleTimeout, nil)), false},
		{"max_udp_payload_size 1199", concat(iscid, tpInt(tpMaxUDPPayloadSize, 1199)), false},
		{"ack_delay_exponent 21", concat(iscid, tpInt(tpAckDelayExponent, 21)), false},
		{"max_ack_delay 2^14", concat(iscid, tpInt(tpMaxAckDelay, 1<<14)), false},
		{"active_connection_id_limit 1", concat(iscid, tpInt(tpActiveConnectionIDLimit, 1)), false},
		{"active_connection_id_limit 0", concat(iscid, tpInt(tpActiveConnectionIDLimit, 0)), false},
		{"initial_max_streams_bidi 2^60+1", concat(iscid, tpInt(tpInitialMaxStreamsBidi, 1<<60+1)), false},
		{"initial_max_streams_uni 2^60+1", concat(iscid, tpInt(tpInitialMaxStreamsUni, 1<<60+1)), false},
		{"disable_active_migration with a value", concat(iscid, tp(tpDisableActiveMigration, []byte{1})), false},
		{"stateless_reset_token of 15 bytes", concat(iscid, odcid, tp(tpStatelessResetToken, make([]byte, 15))), true},
		{"21-byte initial_source_connection_id", tp(tpInitialSourceConnectionID, make([]byte, 21)), false},
		{"21-byte original_destination_connection_id", concat(iscid, tp(tpOriginalDestinationConnectionID, make([]byte, 21))), true},
		{"21-byte retry_source_connection_id", concat(iscid, odcid, tp(tpRetrySourceConnectionID, make([]byte, 21))), true},
		{"missing initial_source_connection_id", tpInt(tpInitialMaxData, 1), false},
		{"server without original_destination_connection_id", iscid, true},
		{"client sends original_destination_connection_id", concat(iscid, odcid), false},
		{"client sends stateless_reset_token", concat(iscid, tp(tpStatelessResetToken, make([]byte, 16))), false},
		{"client sends preferred_address", concat(iscid, goodPA), false},
		{"client sends retry_source_connection_id", concat(iscid, tp(tpRetrySourceConnectionID, []byte{1})), false},
		{"preferred_address with empty CID", concat(iscid, odcid, pa(0, nil)), true},
		{"preferred_address with 21-byte CID", concat(iscid, odcid, pa(21, make([]byte, 21))), true},
		{"preferred_address too short", concat(iscid, odcid, tp(tpPreferredAddress, make([]byte, 24))), true},
		{"preferred_address CID length past the value", concat(iscid, odcid, pa(8, []byte{1, 2})), true},
		{"preferred_address with trailing byte", concat(iscid, odcid, tp(tpPreferredAddress, append(goodPA[2:], 0))), true},
		{"version_information empty", concat(iscid, vi()), false},
		{"version_information of 6 bytes", concat(iscid, tp(tpVersionInformation, []byte{0, 0, 0, 1, 0, 0})), false},
		{"version_information chosen 0", concat(iscid, odcid, vi(0, Version1)), true},
		{"version_information available 0", concat(iscid, odcid, vi(Version1, Version1, 0)), true},
		{"client's chosen version not available", concat(iscid, vi(Version2, Version1)), false},
		{"client's version_information without available versions", concat(iscid, vi(Version1)), false},
	}
	for _, tt := range tests {
		_, err := ParseTransportParameters(tt.b, tt.fromServer)
		var te *TransportError
		if !errors.As(err, &te) || te.Code != TransportParameterError {
			t.Errorf("%s: err = %v, want TRANSPORT_PARAMETER_ERROR", tt.name, err)
		}
	}

	// The boundary values are fine.
	if _, err := ParseTransportParameters(concat(iscid, odcid, vi(Version1)), true); err != nil {
		t.Errorf("server version_information without available versions: %v", err)
	}
	for _, b := range [][]byte{
		concat(iscid, tpInt(tpMaxUDPPayloadSize, 1200)),
		concat(iscid, tpInt(tpAckDelayExponent, 20)),
		concat(iscid, tpInt(tpMaxAckDelay, 1<<14-1)),
		concat(iscid, tpInt(tpActiveConnectionIDLimit, 2)),
		concat(iscid, tpInt(tpInitialMaxStreamsBidi, 1<<60)),
		concat(iscid, vi(Version1, Version1)),
		concat(iscid, tp(tpMaxUDPPayloadSize, []byte{0x80, 0, 0x04, 0xb0})), // 1200 as a 4-byte varint
	} {
		if _, err := ParseTransportParameters(b, false); err != nil {
			t.Errorf("%x: %v", b, err)
		}
	}
}

// Every strict prefix of a valid encoding either fails or parses to fewer
// parameters; none panics. (A prefix ending between parameters is valid.)
func TestTransportParametersTruncation(t *testing.T) {
	p := fullServerParams()
	b := p.Append(nil, true)
	for i := range len(b) {
		got, err := ParseTransportParameters(b[:i], true)
		if err == nil && reflect.DeepEqual(got, p) {
			t.Errorf("prefix of %d bytes parsed to the full parameters", i)
		}
	}
}

func TestTransportParametersParseCopies(t *testing.T) {
	p := fullServerParams()
	b := p.Append(nil, true)
	got, err := ParseTransportParameters(b, true)
	if err != nil {
		t.Fatal(err)
	}
	for i := range b {
		b[i] = 0xff
	}
	if !reflect.DeepEqual(got, p) {
		t.Errorf("parsed parameters alias the input")
	}
}

// The quic_transport_parameters extension inside the ClientHello of the
// client Initial of RFC 9001 A.2.
func TestTransportParametersRFC9001ClientHello(t *testing.T) {
	b := unhex(t, "0408ffffffffffffffff05048000ffff07048000ffff0801100104800075300901100f088394c8f03e51570806048000ffff")
	got, err := ParseTransportParameters(b, false)
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultTransportParameters()
	want.InitialMaxData = MaxVarint
	want.InitialMaxStreamDataBidiLocal = 0xffff
	want.InitialMaxStreamDataUni = 0xffff
	want.InitialMaxStreamsBidi = 16
	want.MaxIdleTimeout = 30 * time.Second
	want.InitialMaxStreamsUni = 16
	want.InitialSourceConnectionID = unhex(t, vectorDCID)
	want.InitialMaxStreamDataBidiRemote = 0xffff
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	// The same bytes appear in the vector's CRYPTO frame.
	if !bytes.Contains(unhex(t, rfcVectorSets[0].clientPayload), b) {
		t.Errorf("sample not found in the RFC ClientHello")
	}
}
