package quictest

import (
	"fmt"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

// Frame is anything that appends its encoding: the wire frame types
// (&wire.MaxDataFrame{...}, &wire.PingFrame{}, ...), StreamFrame,
// DatagramFrame and RawFrame.
type Frame interface {
	Append(b []byte) []byte
}

// StreamFrame is a STREAM frame with its Length field, so that other frames
// may follow it in the packet.
type StreamFrame wire.StreamFrame

// Append implements Frame.
func (f *StreamFrame) Append(b []byte) []byte { return (*wire.StreamFrame)(f).Append(b, true) }

// LastStreamFrame is a STREAM frame without a Length field: its data runs
// to the end of the packet, so it must be the packet's last frame.
type LastStreamFrame wire.StreamFrame

// Append implements Frame.
func (f *LastStreamFrame) Append(b []byte) []byte { return (*wire.StreamFrame)(f).Append(b, false) }

// DatagramFrame is a DATAGRAM frame with its Length field.
type DatagramFrame wire.DatagramFrame

// Append implements Frame.
func (f *DatagramFrame) Append(b []byte) []byte { return (*wire.DatagramFrame)(f).Append(b, true) }

// RawFrame is bytes sent as they are: a frame the wire package would not
// encode (a malformed one, an unknown type, ...).
type RawFrame []byte

// Append implements Frame.
func (f RawFrame) Append(b []byte) []byte { return append(b, f...) }

// Packet is a packet the peer received and decrypted.
type Packet struct {
	Type     wire.PacketType
	Number   uint64
	KeyPhase bool   // 1-RTT only
	DstID    []byte // Destination Connection ID
	SrcID    []byte // Source Connection ID (long headers)
	// Frames holds the frames in order, as wire values: wire.AckFrame,
	// wire.StreamFrame, wire.CryptoFrame, wire.PingFrame, ... PADDING
	// frames are left out and counted in Padding.
	Frames       []any
	Padding      int
	Size         int // bytes of this packet
	DatagramSize int // bytes of the datagram that carried it

	// Versions lists the versions of a Version Negotiation packet.
	Versions []wire.Version
	// Token is a Retry packet's token.
	Token []byte
}

// AckEliciting reports whether the packet holds a frame other than ACK,
// PADDING and CONNECTION_CLOSE (RFC 9002 §2).
func (p *Packet) AckEliciting() bool {
	for _, f := range p.Frames {
		switch f.(type) {
		case wire.AckFrame, wire.ConnectionCloseFrame:
		default:
			return true
		}
	}
	return false
}

// FramesOf returns the packet's frames of type T.
func FramesOf[T any](p *Packet) []T {
	var out []T
	for _, f := range p.Frames {
		if v, ok := f.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

// String describes the packet for test logs.
func (p *Packet) String() string {
	s := fmt.Sprintf("%v #%d (%d bytes)", p.Type, p.Number, p.Size)
	for _, f := range p.Frames {
		s += " " + FrameName(f)
	}
	return s
}

// FrameName is the RFC name of a parsed frame, for logs.
func FrameName(f any) string {
	switch f := f.(type) {
	case wire.AckFrame:
		return fmt.Sprintf("ACK%v", f.Ranges)
	case wire.StreamFrame:
		return fmt.Sprintf("STREAM(id=%d off=%d len=%d fin=%v)", f.StreamID, f.Offset, len(f.Data), f.Fin)
	case wire.CryptoFrame:
		return fmt.Sprintf("CRYPTO(off=%d len=%d)", f.Offset, len(f.Data))
	case wire.ConnectionCloseFrame:
		return fmt.Sprintf("CONNECTION_CLOSE(app=%v code=%#x frame=%#x %q)", f.App, f.Code, f.FrameType, f.Reason)
	default:
		return fmt.Sprintf("%T%+v", f, f)
	}
}

// ParseFrames parses a decrypted payload into wire frame values, leaving
// out PADDING (whose byte count it returns). The frames alias payload.
func ParseFrames(payload []byte) (frames []any, padding int, err error) {
	for len(payload) > 0 {
		ft, _, err := wire.ParseFrameType(payload)
		if err != nil {
			return frames, padding, err
		}
		var f any
		var n int
		switch {
		case ft == wire.FrameTypePadding:
			n = wire.ParsePadding(payload)
			padding += n
		case ft == wire.FrameTypePing:
			f, n, err = wire.ParsePingFrame(payload)
		case ft == wire.FrameTypeAck || ft == wire.FrameTypeAckECN:
			f, n, err = wire.ParseAckFrame(payload, nil)
		case ft == wire.FrameTypeResetStream:
			f, n, err = wire.ParseResetStreamFrame(payload)
		case ft == wire.FrameTypeStopSending:
			f, n, err = wire.ParseStopSendingFrame(payload)
		case ft == wire.FrameTypeCrypto:
			f, n, err = wire.ParseCryptoFrame(payload)
		case ft == wire.FrameTypeNewToken:
			f, n, err = wire.ParseNewTokenFrame(payload)
		case wire.IsStreamFrameType(ft):
			f, n, err = wire.ParseStreamFrame(payload)
		case ft == wire.FrameTypeMaxData:
			f, n, err = wire.ParseMaxDataFrame(payload)
		case ft == wire.FrameTypeMaxStreamData:
			f, n, err = wire.ParseMaxStreamDataFrame(payload)
		case ft == wire.FrameTypeMaxStreamsBidi || ft == wire.FrameTypeMaxStreamsUni:
			f, n, err = wire.ParseMaxStreamsFrame(payload)
		case ft == wire.FrameTypeDataBlocked:
			f, n, err = wire.ParseDataBlockedFrame(payload)
		case ft == wire.FrameTypeStreamDataBlocked:
			f, n, err = wire.ParseStreamDataBlockedFrame(payload)
		case ft == wire.FrameTypeStreamsBlockedBidi || ft == wire.FrameTypeStreamsBlockedUni:
			f, n, err = wire.ParseStreamsBlockedFrame(payload)
		case ft == wire.FrameTypeNewConnectionID:
			f, n, err = wire.ParseNewConnectionIDFrame(payload)
		case ft == wire.FrameTypeRetireConnectionID:
			f, n, err = wire.ParseRetireConnectionIDFrame(payload)
		case ft == wire.FrameTypePathChallenge:
			f, n, err = wire.ParsePathChallengeFrame(payload)
		case ft == wire.FrameTypePathResponse:
			f, n, err = wire.ParsePathResponseFrame(payload)
		case ft == wire.FrameTypeConnectionClose || ft == wire.FrameTypeConnectionCloseApp:
			f, n, err = wire.ParseConnectionCloseFrame(payload)
		case ft == wire.FrameTypeHandshakeDone:
			f, n, err = wire.ParseHandshakeDoneFrame(payload)
		case ft == wire.FrameTypeDatagram || ft == wire.FrameTypeDatagramLen:
			f, n, err = wire.ParseDatagramFrame(payload)
		default:
			return frames, padding, fmt.Errorf("quictest: unknown frame type %#x", ft)
		}
		if err != nil {
			return frames, padding, err
		}
		if n <= 0 || n > len(payload) {
			return frames, padding, fmt.Errorf("quictest: frame %#x parsed to length %d", ft, n)
		}
		if f != nil {
			frames = append(frames, f)
		}
		payload = payload[n:]
	}
	return frames, padding, nil
}
