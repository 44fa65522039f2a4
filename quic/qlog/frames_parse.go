package qlog

import (
	"math"
	"time"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

// Frames logs every frame of a packet's plaintext payload (the frames after
// the header, before protection or after removing it), parsed with package
// wire: one call logs a packet in full. It costs a parse of the payload,
// paid only when tracing is on.
//
// ACK Delay fields are scaled by the ack_delay_exponent of the side that
// sent the ACK, as learned from ParametersSet (3 until then, the RFC 9000
// §18.2 default).
//
// The payload may be hostile: at a frame type that is unknown or badly
// encoded, or a frame that does not parse, Frames logs an UnknownFrame
// (§8.13.22) with that type in frame_type_bytes and the bytes left in
// raw.length, and stops. It never panics, and it allocates nothing once the
// trace's buffers have grown to the packet sizes seen.
func (p Packet) Frames(payload []byte) {
	if p.buf() == nil {
		return
	}
	for len(payload) > 0 {
		ft, tn, err := wire.ParseFrameType(payload)
		if err != nil {
			v, _, verr := wire.ParseVarint(payload)
			if verr != nil {
				v = uint64(payload[0]) // a truncated varint: its first byte
			}
			p.unparsed(v, len(payload))
			return
		}
		n, err := p.parseFrame(ft, tn, payload)
		if err != nil || n <= 0 || n > len(payload) {
			p.unparsed(ft, len(payload))
			return
		}
		payload = payload[n:]
	}
}

// unparsed logs the rest of a payload that did not parse, from a frame of
// type ft on, as an UnknownFrame.
func (p Packet) unparsed(ft uint64, rest int) {
	b := p.frame("unknown")
	b = fu(b, "frame_type_bytes", ft)
	p.done(appendRaw(b, rest))
}

// parseFrame logs the frame of type ft (its type field tn bytes long) at the
// start of b and returns its length.
func (p Packet) parseFrame(ft wire.FrameType, tn int, b []byte) (int, error) {
	switch {
	case ft == wire.FrameTypePadding:
		n := wire.ParsePadding(b)
		p.Padding(n)
		return n, nil
	case ft == wire.FrameTypePing:
		p.Ping()
		return tn, nil
	case ft == wire.FrameTypeHandshakeDone:
		p.HandshakeDone()
		return tn, nil
	case ft == wire.FrameTypeAck || ft == wire.FrameTypeAckECN:
		return p.parseAck(b)
	case ft == wire.FrameTypeCrypto:
		f, n, err := wire.ParseCryptoFrame(b)
		if err == nil {
			p.Crypto(f.Offset, uint64(len(f.Data)))
		}
		return n, err
	case wire.IsStreamFrameType(ft):
		f, n, err := wire.ParseStreamFrame(b)
		if err == nil {
			p.Stream(f.StreamID, f.Offset, uint64(len(f.Data)), f.Fin)
		}
		return n, err
	case ft == wire.FrameTypeDatagram || ft == wire.FrameTypeDatagramLen:
		f, n, err := wire.ParseDatagramFrame(b)
		if err == nil {
			p.Datagram(uint64(len(f.Data)))
		}
		return n, err
	}
	return p.parseControlFrame(ft, b)
}

// parseAck logs an ACK frame, its ranges parsed into the trace's scratch
// slice.
func (p Packet) parseAck(b []byte) (int, error) {
	t := p.t
	f, n, err := wire.ParseAckFrame(b, t.ackRanges[:0])
	if err != nil {
		return n, err
	}
	if cap(f.Ranges) <= maxKeptBuffer/16 {
		t.ackRanges = f.Ranges[:0]
	}
	delay := ackDelay(f.AckDelay, t.pkt.ackExp)
	if f.ECN {
		p.AckECN(f.Ranges, delay, f.ECT0, f.ECT1, f.ECNCE)
	} else {
		p.Ack(f.Ranges, delay)
	}
	return n, nil
}

// ackDelay decodes an ACK Delay field: raw × 2^exp microseconds (RFC 9000
// §19.3), saturating at the largest Duration.
func ackDelay(raw uint64, exp uint8) time.Duration {
	limit := uint64(math.MaxInt64/int64(time.Microsecond)) >> exp
	if raw > limit {
		return math.MaxInt64
	}
	return time.Duration(raw<<exp) * time.Microsecond
}

// parseControlFrame logs the frames that carry no data.
func (p Packet) parseControlFrame(ft wire.FrameType, b []byte) (int, error) {
	switch ft {
	case wire.FrameTypeResetStream:
		f, n, err := wire.ParseResetStreamFrame(b)
		if err == nil {
			p.ResetStream(f.StreamID, f.Code, f.FinalSize)
		}
		return n, err
	case wire.FrameTypeStopSending:
		f, n, err := wire.ParseStopSendingFrame(b)
		if err == nil {
			p.StopSending(f.StreamID, f.Code)
		}
		return n, err
	case wire.FrameTypeNewToken:
		f, n, err := wire.ParseNewTokenFrame(b)
		if err == nil {
			p.NewToken(len(f.Token))
		}
		return n, err
	case wire.FrameTypeMaxData:
		f, n, err := wire.ParseMaxDataFrame(b)
		if err == nil {
			p.MaxData(f.Max)
		}
		return n, err
	case wire.FrameTypeMaxStreamData:
		f, n, err := wire.ParseMaxStreamDataFrame(b)
		if err == nil {
			p.MaxStreamData(f.StreamID, f.Max)
		}
		return n, err
	case wire.FrameTypeMaxStreamsBidi, wire.FrameTypeMaxStreamsUni:
		f, n, err := wire.ParseMaxStreamsFrame(b)
		if err == nil {
			p.MaxStreams(f.Bidi, f.Max)
		}
		return n, err
	case wire.FrameTypeDataBlocked:
		f, n, err := wire.ParseDataBlockedFrame(b)
		if err == nil {
			p.DataBlocked(f.Limit)
		}
		return n, err
	case wire.FrameTypeStreamDataBlocked:
		f, n, err := wire.ParseStreamDataBlockedFrame(b)
		if err == nil {
			p.StreamDataBlocked(f.StreamID, f.Limit)
		}
		return n, err
	case wire.FrameTypeStreamsBlockedBidi, wire.FrameTypeStreamsBlockedUni:
		f, n, err := wire.ParseStreamsBlockedFrame(b)
		if err == nil {
			p.StreamsBlocked(f.Bidi, f.Limit)
		}
		return n, err
	case wire.FrameTypeNewConnectionID:
		f, n, err := wire.ParseNewConnectionIDFrame(b)
		if err == nil {
			p.NewConnectionID(f.Seq, f.RetirePriorTo, f.ConnID, &f.ResetToken)
		}
		return n, err
	case wire.FrameTypeRetireConnectionID:
		f, n, err := wire.ParseRetireConnectionIDFrame(b)
		if err == nil {
			p.RetireConnectionID(f.Seq)
		}
		return n, err
	case wire.FrameTypePathChallenge:
		f, n, err := wire.ParsePathChallengeFrame(b)
		if err == nil {
			p.PathChallenge(f.Data)
		}
		return n, err
	case wire.FrameTypePathResponse:
		f, n, err := wire.ParsePathResponseFrame(b)
		if err == nil {
			p.PathResponse(f.Data)
		}
		return n, err
	case wire.FrameTypeConnectionClose, wire.FrameTypeConnectionCloseApp:
		f, n, err := wire.ParseConnectionCloseFrame(b)
		if err == nil {
			p.ConnectionClose(f.App, f.Code, f.FrameType, f.Reason)
		}
		return n, err
	}
	// ParseFrameType accepts no other type; should one appear, log it by
	// type and stop rather than guess its length.
	return 0, nil
}
