package wire

// FrameType is a QUIC frame type, RFC 9000 §12.4 and §19, RFC 9221 §4.
type FrameType = uint64

// Frame types.
const (
	FrameTypePadding            FrameType = 0x00
	FrameTypePing               FrameType = 0x01
	FrameTypeAck                FrameType = 0x02
	FrameTypeAckECN             FrameType = 0x03
	FrameTypeResetStream        FrameType = 0x04
	FrameTypeStopSending        FrameType = 0x05
	FrameTypeCrypto             FrameType = 0x06
	FrameTypeNewToken           FrameType = 0x07
	FrameTypeStream             FrameType = 0x08 // 0x08..0x0f: the low bits are OFF, LEN, FIN
	FrameTypeMaxData            FrameType = 0x10
	FrameTypeMaxStreamData      FrameType = 0x11
	FrameTypeMaxStreamsBidi     FrameType = 0x12
	FrameTypeMaxStreamsUni      FrameType = 0x13
	FrameTypeDataBlocked        FrameType = 0x14
	FrameTypeStreamDataBlocked  FrameType = 0x15
	FrameTypeStreamsBlockedBidi FrameType = 0x16
	FrameTypeStreamsBlockedUni  FrameType = 0x17
	FrameTypeNewConnectionID    FrameType = 0x18
	FrameTypeRetireConnectionID FrameType = 0x19
	FrameTypePathChallenge      FrameType = 0x1a
	FrameTypePathResponse       FrameType = 0x1b
	FrameTypeConnectionClose    FrameType = 0x1c // transport error
	FrameTypeConnectionCloseApp FrameType = 0x1d // application error
	FrameTypeHandshakeDone      FrameType = 0x1e
	FrameTypeDatagram           FrameType = 0x30 // RFC 9221: no Length field
	FrameTypeDatagramLen        FrameType = 0x31 // RFC 9221: with Length field
)

// STREAM frame type bits, RFC 9000 §19.8.
const (
	streamBitFin = 0x01
	streamBitLen = 0x02
	streamBitOff = 0x04
)

// IsStreamFrameType reports whether t is one of the eight STREAM frame types.
func IsStreamFrameType(t FrameType) bool { return t >= 0x08 && t <= 0x0f }

// frameTypeNames holds the name of each frame type 0x00..0x1e, as the qlog
// QUIC event schema spells them (lower-case RFC 9000 §19 names).
var frameTypeNames = [...]string{
	"padding", "ping", "ack", "ack", "reset_stream", "stop_sending", "crypto",
	"new_token", "stream", "stream", "stream", "stream", "stream", "stream",
	"stream", "stream", "max_data", "max_stream_data", "max_streams",
	"max_streams", "data_blocked", "stream_data_blocked", "streams_blocked",
	"streams_blocked", "new_connection_id", "retire_connection_id",
	"path_challenge", "path_response", "connection_close", "connection_close",
	"handshake_done",
}

// FrameTypeName returns the name of frame type t for logs and qlog
// ("stream", "ack", "datagram", ...), or "unknown".
func FrameTypeName(t FrameType) string {
	switch {
	case t < uint64(len(frameTypeNames)):
		return frameTypeNames[t]
	case t == FrameTypeDatagram || t == FrameTypeDatagramLen:
		return "datagram"
	}
	return "unknown"
}
