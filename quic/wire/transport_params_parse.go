package wire

import (
	"encoding/binary"
	"math"
	"net/netip"
	"strconv"
	"time"
)

// tpError returns a TRANSPORT_PARAMETER_ERROR (RFC 9000 §18.2, §20.1).
func tpError(id uint64, reason string) *TransportError {
	return &TransportError{
		Code:   TransportParameterError,
		Reason: "transport parameter 0x" + strconv.FormatUint(id, 16) + ": " + reason,
	}
}

// maxIdleTimeoutMillis is the largest max_idle_timeout a time.Duration
// holds; larger values (up to 2^62-1 ms) are clamped to it.
const maxIdleTimeoutMillis = math.MaxInt64 / int64(time.Millisecond)

// ParseTransportParameters parses the quic_transport_parameters extension
// sent by the peer; fromServer tells its role. Parameters absent from b keep
// their defaults (DefaultTransportParameters). Unknown parameters, among
// them the reserved 31*N+27 ones, are skipped (RFC 9000 §18.1). Every
// violation is a *TransportError of code TRANSPORT_PARAMETER_ERROR:
//   - a truncated encoding or a value whose length does not fit the
//     parameter, and a parameter sent twice (RFC 9000 §18.2);
//   - out-of-range values: max_udp_payload_size below 1200,
//     ack_delay_exponent above 20, max_ack_delay of 2^14 ms or more,
//     active_connection_id_limit below 2, initial_max_streams_* above 2^60
//     (RFC 9000 §4.6), connection IDs over 20 bytes, a zero-length
//     connection ID in preferred_address;
//   - server-only parameters sent by a client (original_destination_connection_id,
//     stateless_reset_token, preferred_address, retry_source_connection_id);
//   - a missing initial_source_connection_id, or a server's missing
//     original_destination_connection_id (RFC 9000 §7.3);
//   - version_information that is empty, not a multiple of 4 bytes long,
//     holds a zero version, or from a client does not list its chosen
//     version among the available ones (RFC 9368 §4, §5).
//
// Byte slices in the result are copies: it does not alias b.
func ParseTransportParameters(b []byte, fromServer bool) (TransportParameters, error) {
	p := DefaultTransportParameters()
	var seen uint64 // bit i: parameter i (all known IDs are below 64)
	for len(b) > 0 {
		id, n, err := ParseVarint(b)
		if err != nil {
			return TransportParameters{}, tpError(0, "truncated parameter ID")
		}
		b = b[n:]
		l, n, err := ParseVarint(b)
		if err != nil {
			return TransportParameters{}, tpError(id, "truncated length")
		}
		b = b[n:]
		if uint64(len(b)) < l {
			return TransportParameters{}, tpError(id, "value runs past the end")
		}
		v := b[:l]
		b = b[l:]
		if id >= 64 || !isKnownTransportParameter(id) {
			continue // unknown or reserved: ignored (RFC 9000 §18.1)
		}
		if seen&(1<<id) != 0 {
			return TransportParameters{}, tpError(id, "sent twice")
		}
		seen |= 1 << id
		if err := p.parseOne(id, v, fromServer); err != nil {
			return TransportParameters{}, err
		}
	}
	if p.InitialSourceConnectionID == nil {
		return TransportParameters{}, tpError(tpInitialSourceConnectionID, "missing")
	}
	if fromServer && p.OriginalDestinationConnectionID == nil {
		return TransportParameters{}, tpError(tpOriginalDestinationConnectionID, "missing from server")
	}
	return p, nil
}

func isKnownTransportParameter(id uint64) bool {
	return id <= tpVersionInformation || id == tpMaxDatagramFrameSize
}

// parseOne sets the parameter id from its value v.
func (p *TransportParameters) parseOne(id uint64, v []byte, fromServer bool) error {
	switch id {
	case tpOriginalDestinationConnectionID, tpStatelessResetToken, tpPreferredAddress, tpRetrySourceConnectionID:
		if !fromServer {
			// RFC 9000 §18.2: only a server sends these.
			return tpError(id, "server-only parameter sent by a client")
		}
	}
	switch id {
	case tpOriginalDestinationConnectionID:
		return parseConnIDParam(id, v, &p.OriginalDestinationConnectionID)
	case tpInitialSourceConnectionID:
		return parseConnIDParam(id, v, &p.InitialSourceConnectionID)
	case tpRetrySourceConnectionID:
		return parseConnIDParam(id, v, &p.RetrySourceConnectionID)
	case tpStatelessResetToken:
		if len(v) != 16 {
			return tpError(id, "length is not 16")
		}
		p.StatelessResetToken = (*[16]byte)(append([]byte(nil), v...))
		return nil
	case tpDisableActiveMigration:
		if len(v) != 0 {
			return tpError(id, "value must be empty")
		}
		p.DisableActiveMigration = true
		return nil
	case tpPreferredAddress:
		pa, err := parsePreferredAddress(v)
		if err != nil {
			return err
		}
		p.PreferredAddress = pa
		return nil
	case tpVersionInformation:
		vi, err := parseVersionInformation(v, fromServer)
		if err != nil {
			return err
		}
		p.VersionInformation = vi
		return nil
	}

	// The rest are integers: one varint filling the whole value.
	x, n, err := ParseVarint(v)
	if err != nil || n != len(v) {
		return tpError(id, "length does not match the integer value")
	}
	switch id {
	case tpMaxIdleTimeout:
		p.MaxIdleTimeout = time.Duration(min(x, uint64(maxIdleTimeoutMillis))) * time.Millisecond
	case tpMaxUDPPayloadSize:
		if x < MinMaxUDPPayloadSize {
			return tpError(id, "below 1200")
		}
		p.MaxUDPPayloadSize = x
	case tpInitialMaxData:
		p.InitialMaxData = x
	case tpInitialMaxStreamDataBidiLocal:
		p.InitialMaxStreamDataBidiLocal = x
	case tpInitialMaxStreamDataBidiRemote:
		p.InitialMaxStreamDataBidiRemote = x
	case tpInitialMaxStreamDataUni:
		p.InitialMaxStreamDataUni = x
	case tpInitialMaxStreamsBidi, tpInitialMaxStreamsUni:
		if x > MaxStreamsLimit {
			// RFC 9000 §4.6: above 2^60 the stream IDs would not fit.
			return tpError(id, "above 2^60")
		}
		if id == tpInitialMaxStreamsBidi {
			p.InitialMaxStreamsBidi = x
		} else {
			p.InitialMaxStreamsUni = x
		}
	case tpAckDelayExponent:
		if x > MaxAckDelayExponent {
			return tpError(id, "above 20")
		}
		p.AckDelayExponent = x
	case tpMaxAckDelay:
		if x >= 1<<14 {
			return tpError(id, "2^14 ms or more")
		}
		p.MaxAckDelay = time.Duration(x) * time.Millisecond
	case tpActiveConnectionIDLimit:
		if x < 2 {
			return tpError(id, "below 2")
		}
		p.ActiveConnectionIDLimit = x
	case tpMaxDatagramFrameSize:
		p.MaxDatagramFrameSize = x
		p.HasMaxDatagramFrameSize = true
	}
	return nil
}

// parseConnIDParam copies a connection ID parameter; a present zero-length
// value becomes a non-nil empty slice.
func parseConnIDParam(id uint64, v []byte, dst *[]byte) error {
	if len(v) > MaxConnIDLen {
		return tpError(id, "connection ID longer than 20 bytes")
	}
	*dst = append([]byte{}, v...)
	return nil
}

// parsePreferredAddress parses the value of preferred_address
// (RFC 9000 §18.2, Figure 22).
func parsePreferredAddress(v []byte) (*PreferredAddress, error) {
	const fixed = 4 + 2 + 16 + 2 + 1
	if len(v) < fixed {
		return nil, tpError(tpPreferredAddress, "too short")
	}
	cidLen := int(v[fixed-1])
	if cidLen == 0 || cidLen > MaxConnIDLen {
		// RFC 9000 §18.2: a zero-length connection ID is not allowed here.
		return nil, tpError(tpPreferredAddress, "connection ID length not in 1..20")
	}
	if len(v) != fixed+cidLen+16 {
		return nil, tpError(tpPreferredAddress, "length does not match the connection ID length")
	}
	pa := &PreferredAddress{
		IPv4: addrPortOrZero(netip.AddrFrom4([4]byte(v[0:4])), binary.BigEndian.Uint16(v[4:6])),
		IPv6: addrPortOrZero(netip.AddrFrom16([16]byte(v[6:22])), binary.BigEndian.Uint16(v[22:24])),
	}
	pa.ConnectionID = append([]byte{}, v[fixed:fixed+cidLen]...)
	copy(pa.StatelessResetToken[:], v[fixed+cidLen:])
	return pa, nil
}

// addrPortOrZero maps the all-zero address and port, which stands for "this
// family not offered", to the zero AddrPort.
func addrPortOrZero(a netip.Addr, port uint16) netip.AddrPort {
	if a.IsUnspecified() && port == 0 {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(a, port)
}

// parseVersionInformation parses version_information (RFC 9368 §5).
func parseVersionInformation(v []byte, fromServer bool) (*VersionInformation, error) {
	if len(v) < 4 || len(v)%4 != 0 {
		return nil, tpError(tpVersionInformation, "length not a positive multiple of 4")
	}
	vi := &VersionInformation{ChosenVersion: binary.BigEndian.Uint32(v)}
	if vi.ChosenVersion == 0 {
		return nil, tpError(tpVersionInformation, "chosen version 0")
	}
	chosenListed := false
	if len(v) > 4 {
		vi.AvailableVersions = make([]Version, 0, len(v)/4-1)
	}
	for i := 4; i < len(v); i += 4 {
		av := binary.BigEndian.Uint32(v[i:])
		if av == 0 {
			return nil, tpError(tpVersionInformation, "available version 0")
		}
		chosenListed = chosenListed || av == vi.ChosenVersion
		vi.AvailableVersions = append(vi.AvailableVersions, av)
	}
	if !fromServer && !chosenListed {
		// RFC 9368 §4: a client's chosen version must be among its
		// available versions.
		return nil, tpError(tpVersionInformation, "client's chosen version not among its available versions")
	}
	return vi, nil
}
