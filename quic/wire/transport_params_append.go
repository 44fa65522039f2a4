package wire

import (
	"encoding/binary"
	"time"
)

// Append appends the encoding of p (RFC 9000 §18) in parameter ID order.
// The server-only parameters (original_destination_connection_id,
// stateless_reset_token, preferred_address, retry_source_connection_id) are
// written only when isServer. Integer parameters equal to their default and
// absent (nil) optional parameters are left out; parsing the result yields
// p again. Append does not check values: start from
// DefaultTransportParameters and keep them within the limits
// ParseTransportParameters enforces.
func (p *TransportParameters) Append(b []byte, isServer bool) []byte {
	if isServer && p.OriginalDestinationConnectionID != nil {
		b = appendBytesParam(b, tpOriginalDestinationConnectionID, p.OriginalDestinationConnectionID)
	}
	if p.MaxIdleTimeout > 0 {
		b = appendIntParam(b, tpMaxIdleTimeout, uint64(p.MaxIdleTimeout/time.Millisecond))
	}
	if isServer && p.StatelessResetToken != nil {
		b = appendBytesParam(b, tpStatelessResetToken, p.StatelessResetToken[:])
	}
	if p.MaxUDPPayloadSize != DefaultMaxUDPPayloadSize {
		b = appendIntParam(b, tpMaxUDPPayloadSize, p.MaxUDPPayloadSize)
	}
	b = appendNonZeroParam(b, tpInitialMaxData, p.InitialMaxData)
	b = appendNonZeroParam(b, tpInitialMaxStreamDataBidiLocal, p.InitialMaxStreamDataBidiLocal)
	b = appendNonZeroParam(b, tpInitialMaxStreamDataBidiRemote, p.InitialMaxStreamDataBidiRemote)
	b = appendNonZeroParam(b, tpInitialMaxStreamDataUni, p.InitialMaxStreamDataUni)
	b = appendNonZeroParam(b, tpInitialMaxStreamsBidi, p.InitialMaxStreamsBidi)
	b = appendNonZeroParam(b, tpInitialMaxStreamsUni, p.InitialMaxStreamsUni)
	if p.AckDelayExponent != DefaultAckDelayExponent {
		b = appendIntParam(b, tpAckDelayExponent, p.AckDelayExponent)
	}
	if p.MaxAckDelay != DefaultMaxAckDelay {
		b = appendIntParam(b, tpMaxAckDelay, uint64(max(p.MaxAckDelay, 0)/time.Millisecond))
	}
	if p.DisableActiveMigration {
		b = appendBytesParam(b, tpDisableActiveMigration, nil)
	}
	if isServer && p.PreferredAddress != nil {
		b = p.PreferredAddress.append(b)
	}
	if p.ActiveConnectionIDLimit != DefaultActiveConnectionIDLimit {
		b = appendIntParam(b, tpActiveConnectionIDLimit, p.ActiveConnectionIDLimit)
	}
	if p.InitialSourceConnectionID != nil {
		b = appendBytesParam(b, tpInitialSourceConnectionID, p.InitialSourceConnectionID)
	}
	if isServer && p.RetrySourceConnectionID != nil {
		b = appendBytesParam(b, tpRetrySourceConnectionID, p.RetrySourceConnectionID)
	}
	if vi := p.VersionInformation; vi != nil {
		b = AppendVarint(b, tpVersionInformation)
		b = AppendVarint(b, uint64(4+4*len(vi.AvailableVersions)))
		b = binary.BigEndian.AppendUint32(b, vi.ChosenVersion)
		for _, v := range vi.AvailableVersions {
			b = binary.BigEndian.AppendUint32(b, v)
		}
	}
	if p.HasMaxDatagramFrameSize {
		b = appendIntParam(b, tpMaxDatagramFrameSize, p.MaxDatagramFrameSize)
	}
	return b
}

func appendIntParam(b []byte, id, v uint64) []byte {
	b = AppendVarint(b, id)
	b = AppendVarint(b, uint64(VarintLen(v)))
	return AppendVarint(b, v)
}

func appendNonZeroParam(b []byte, id, v uint64) []byte {
	if v == 0 {
		return b
	}
	return appendIntParam(b, id, v)
}

func appendBytesParam(b []byte, id uint64, v []byte) []byte {
	b = AppendVarint(b, id)
	b = AppendVarint(b, uint64(len(v)))
	return append(b, v...)
}

// append writes the preferred_address parameter; an address family that is
// not offered is written as all zeros (RFC 9000 §18.2).
func (pa *PreferredAddress) append(b []byte) []byte {
	b = AppendVarint(b, tpPreferredAddress)
	b = AppendVarint(b, uint64(4+2+16+2+1+len(pa.ConnectionID)+16))
	var a4 [4]byte
	var port4 uint16
	if pa.IPv4.IsValid() && pa.IPv4.Addr().Is4() {
		a4, port4 = pa.IPv4.Addr().As4(), pa.IPv4.Port()
	}
	b = append(b, a4[:]...)
	b = binary.BigEndian.AppendUint16(b, port4)
	var a6 [16]byte
	var port6 uint16
	if pa.IPv6.IsValid() && pa.IPv6.Addr().Is6() {
		a6, port6 = pa.IPv6.Addr().As16(), pa.IPv6.Port()
	}
	b = append(b, a6[:]...)
	b = binary.BigEndian.AppendUint16(b, port6)
	b = append(b, byte(len(pa.ConnectionID)))
	b = append(b, pa.ConnectionID...)
	return append(b, pa.StatelessResetToken[:]...)
}
