package stream

import "strconv"

// ID is a stream ID, RFC 9000 §2.1. Its two low bits are its Type; the rest
// is the stream's sequence number among the streams of that type.
type ID uint64

// Type is one of the four stream types, the two low bits of an ID
// (RFC 9000 §2.1, Table 1).
type Type uint8

// The four stream types.
const (
	ClientBidi Type = 0 // client-initiated, bidirectional: IDs 4n
	ServerBidi Type = 1 // server-initiated, bidirectional: IDs 4n+1
	ClientUni  Type = 2 // client-initiated, unidirectional: IDs 4n+2
	ServerUni  Type = 3 // server-initiated, unidirectional: IDs 4n+3
)

// MaxCount is the largest number of streams of one type that a MAX_STREAMS
// frame or transport parameter may allow: 2^60, RFC 9000 §4.6. Stream IDs of
// all types then stay below 2^62.
const MaxCount = 1 << 60

// String returns the type's name, such as "client-bidi".
func (t Type) String() string {
	switch t & 3 {
	case ClientBidi:
		return "client-bidi"
	case ServerBidi:
		return "server-bidi"
	case ClientUni:
		return "client-uni"
	}
	return "server-uni"
}

// IsClientInitiated reports whether streams of type t are opened by the
// client (bit 0x01 clear, RFC 9000 §2.1).
func (t Type) IsClientInitiated() bool { return t&1 == 0 }

// IsBidi reports whether streams of type t are bidirectional (bit 0x02
// clear, RFC 9000 §2.1).
func (t Type) IsBidi() bool { return t&2 == 0 }

// IsUni reports whether streams of type t are unidirectional.
func (t Type) IsUni() bool { return t&2 != 0 }

// Local reports whether streams of type t are opened by this endpoint, which
// is the client when isClient is set.
func (t Type) Local(isClient bool) bool { return t.IsClientInitiated() == isClient }

// CanSend reports whether this endpoint may send on streams of type t: every
// bidirectional stream, and the unidirectional streams it opens (RFC 9000
// §2.1). A STREAM frame received for a stream we cannot receive on, or a
// MAX_STREAM_DATA or STOP_SENDING frame for one we cannot send on, is a
// STREAM_STATE_ERROR (RFC 9000 §19.5, §19.8, §19.10).
func (t Type) CanSend(isClient bool) bool { return t.IsBidi() || t.Local(isClient) }

// CanReceive reports whether this endpoint may receive on streams of type t:
// every bidirectional stream, and the unidirectional streams its peer opens.
func (t Type) CanReceive(isClient bool) bool { return t.IsBidi() || !t.Local(isClient) }

// IDFor returns the ID of the n-th stream (counting from 0) of type t.
func IDFor(t Type, n uint64) ID { return ID(n<<2 | uint64(t&3)) }

// Type returns the stream's type.
func (id ID) Type() Type { return Type(id & 3) }

// IsClientInitiated reports whether the client opened the stream.
func (id ID) IsClientInitiated() bool { return id.Type().IsClientInitiated() }

// IsBidi reports whether the stream is bidirectional.
func (id ID) IsBidi() bool { return id.Type().IsBidi() }

// IsUni reports whether the stream is unidirectional.
func (id ID) IsUni() bool { return id.Type().IsUni() }

// Num returns the stream's sequence number n among streams of its type:
// id = 4n + type.
func (id ID) Num() uint64 { return uint64(id) >> 2 }

// String returns the ID in decimal.
func (id ID) String() string { return strconv.FormatUint(uint64(id), 10) }

// CountFor returns how many streams of id's type exist once id is open:
// opening a stream implicitly opens every lower-numbered stream of its type
// (RFC 9000 §3.2), so this is id.Num()+1. The connection compares it with the
// count it allowed in MAX_STREAMS: a peer opening a stream with CountFor(id)
// above that limit commits a STREAM_LIMIT_ERROR (RFC 9000 §4.6).
func CountFor(id ID) uint64 { return id.Num() + 1 }
