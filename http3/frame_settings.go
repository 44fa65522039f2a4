package http3

import (
	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

// SETTINGS, RFC 9114 §7.2.4.

// Setting identifiers we know.
const (
	settingQPACKMaxTableCapacity = 0x01 // RFC 9204 §5
	settingMaxFieldSectionSize   = 0x06 // RFC 9114 §7.2.4.1
	settingQPACKBlockedStreams   = 0x07 // RFC 9204 §5
	settingEnableConnectProtocol = 0x08 // RFC 9220 §5
	settingH3Datagram            = 0x33 // RFC 9297 §2.1.1
)

// maxSettingsPayload bounds a SETTINGS frame we accept. A handful of
// settings take a few dozen bytes; 16 KiB leaves room for any GREASE.
const maxSettingsPayload = 16 << 10

// setting is one identifier and value.
type setting struct {
	id, value uint64
}

// appendSettingsFrame appends a SETTINGS frame holding s, in order.
func appendSettingsFrame(b []byte, s []setting) []byte {
	n := 0
	for _, e := range s {
		n += wire.VarintLen(e.id) + wire.VarintLen(e.value)
	}
	b = appendFrameHeader(b, frameSettings, uint64(n))
	for _, e := range s {
		b = wire.AppendVarint(b, e.id)
		b = wire.AppendVarint(b, e.value)
	}
	return b
}

// parseSettings parses a SETTINGS payload. A truncated setting is
// H3_FRAME_ERROR (§7.1); a repeated identifier, or one HTTP/2 defined
// without an HTTP/3 equivalent (0x02-0x05), is H3_SETTINGS_ERROR
// (§7.2.4, §7.2.4.1, §11.2.2). So are values out of range for the
// boolean settings of RFC 9220 and RFC 9297. Unknown identifiers are kept:
// the caller ignores them.
func parseSettings(p []byte) ([]setting, error) {
	var out []setting
	var seen map[uint64]struct{} // past a few settings, for duplicates
	for len(p) > 0 {
		id, n, err := wire.ParseVarint(p)
		if err != nil {
			return nil, connError(ErrCodeFrameError, "truncated SETTINGS frame")
		}
		p = p[n:]
		v, n, err := wire.ParseVarint(p)
		if err != nil {
			return nil, connError(ErrCodeFrameError, "truncated SETTINGS frame")
		}
		p = p[n:]
		if id >= 0x02 && id <= 0x05 {
			return nil, connError(ErrCodeSettingsError, "HTTP/2 setting in SETTINGS")
		}
		if (id == settingEnableConnectProtocol || id == settingH3Datagram) && v > 1 {
			return nil, connError(ErrCodeSettingsError, "boolean setting out of range")
		}
		if seen != nil {
			if _, dup := seen[id]; dup {
				return nil, connError(ErrCodeSettingsError, "duplicate setting")
			}
			seen[id] = struct{}{}
		} else {
			for _, e := range out {
				if e.id == id {
					return nil, connError(ErrCodeSettingsError, "duplicate setting")
				}
			}
			if len(out) == 16 {
				seen = make(map[uint64]struct{}, 64)
				for _, e := range out {
					seen[e.id] = struct{}{}
				}
				seen[id] = struct{}{}
			}
		}
		out = append(out, setting{id, v})
	}
	return out, nil
}

// peerSettings is what we use of the peer's SETTINGS. Its QPACK settings
// do not matter to our encoder, which never uses the dynamic table; we
// keep the capacity for tests and diagnostics.
type peerSettings struct {
	maxFieldSectionSize   uint64 // unlimited (MaxUint64) by default
	qpackMaxTableCapacity uint64
}

// defaultPeerSettings are the values before the peer's SETTINGS arrive
// (§7.2.4.2).
func defaultPeerSettings() peerSettings {
	return peerSettings{maxFieldSectionSize: ^uint64(0)}
}

// apply fills s from a parsed SETTINGS frame.
func (s *peerSettings) apply(list []setting) {
	for _, e := range list {
		switch e.id {
		case settingMaxFieldSectionSize:
			s.maxFieldSectionSize = e.value
		case settingQPACKMaxTableCapacity:
			s.qpackMaxTableCapacity = e.value
		}
	}
}
