package quic

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"

	"github.com/tsumugi-quic/tsumugi/internal/quictest"
	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

// Protocol violations by the peer: our server closes the connection with
// the error code RFC 9000 names, which the scripted peer receives in
// CONNECTION_CLOSE, and the application sees the same error (local) as
// the Context's cause.

// errorCase is one violation.
type errorCase struct {
	name   string
	conf   *Config
	params func(*wire.TransportParameters)
	// setup runs after the handshake, before frames are sent.
	setup  func(t *testing.T, p *quictest.Peer, sc *Conn)
	frames []quictest.Frame // each sent in its own 1-RTT packet
	code   wire.ErrorCode
	ft     uint64 // the Frame Type the close must name; 0: not checked
}

func streamF(id, off uint64, data string, fin bool) *quictest.StreamFrame {
	return &quictest.StreamFrame{StreamID: id, Offset: off, Data: []byte(data), Fin: fin}
}

func raw(b ...byte) quictest.RawFrame { return quictest.RawFrame(b) }

// openServerUni makes our server open unidirectional stream 3 and send on
// it.
func openServerUni(t *testing.T, p *quictest.Peer, sc *Conn) {
	s, err := sc.OpenUniStream(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	s.Write([]byte("server data"))
	if _, _, err := quictest.ExpectFrame(testCtx(t), p, func(f wire.StreamFrame) bool { return f.StreamID == 3 }); err != nil {
		t.Fatal(err)
	}
}

var errorCases = []errorCase{
	// Frames a client may not send (RFC 9000 §19.7, §19.20).
	{name: "handshake-done-from-client", frames: []quictest.Frame{&wire.HandshakeDoneFrame{}},
		code: wire.ProtocolViolation, ft: wire.FrameTypeHandshakeDone},
	{name: "new-token-from-client", frames: []quictest.Frame{&wire.NewTokenFrame{Token: []byte("t")}},
		code: wire.ProtocolViolation, ft: wire.FrameTypeNewToken},
	// Stream direction (RFC 9000 §19.4, §19.5, §19.8, §19.10, §19.13).
	{name: "stream-on-our-send-only-stream", setup: openServerUni, frames: []quictest.Frame{streamF(3, 0, "x", false)},
		code: wire.StreamStateError},
	{name: "stream-on-our-unopened-send-only-stream", frames: []quictest.Frame{streamF(7, 0, "x", false)},
		code: wire.StreamStateError},
	{name: "reset-stream-on-our-send-only-stream", setup: openServerUni,
		frames: []quictest.Frame{&wire.ResetStreamFrame{StreamID: 3, Code: 1, FinalSize: 0}},
		code:   wire.StreamStateError, ft: wire.FrameTypeResetStream},
	{name: "stream-data-blocked-on-our-send-only-stream", setup: openServerUni,
		frames: []quictest.Frame{&wire.StreamDataBlockedFrame{StreamID: 3, Limit: 10}},
		code:   wire.StreamStateError, ft: wire.FrameTypeStreamDataBlocked},
	{name: "max-stream-data-on-our-receive-only-stream", setup: func(t *testing.T, p *quictest.Peer, sc *Conn) {
		p.SendFrames(wire.Packet1RTT, streamF(2, 0, "x", false))
	}, frames: []quictest.Frame{&wire.MaxStreamDataFrame{StreamID: 2, Max: 1000}},
		code: wire.StreamStateError, ft: wire.FrameTypeMaxStreamData},
	{name: "stop-sending-on-our-receive-only-stream", setup: func(t *testing.T, p *quictest.Peer, sc *Conn) {
		p.SendFrames(wire.Packet1RTT, streamF(2, 0, "x", false))
	}, frames: []quictest.Frame{&wire.StopSendingFrame{StreamID: 2, Code: 1}},
		code: wire.StreamStateError, ft: wire.FrameTypeStopSending},
	{name: "stream-on-our-unopened-bidi-stream", frames: []quictest.Frame{streamF(1, 0, "x", false)},
		code: wire.StreamStateError},
	{name: "max-stream-data-on-our-unopened-bidi-stream", frames: []quictest.Frame{&wire.MaxStreamDataFrame{StreamID: 5, Max: 1}},
		code: wire.StreamStateError, ft: wire.FrameTypeMaxStreamData},
	// Stream limits (RFC 9000 §4.6).
	{name: "beyond-max-streams-bidi", conf: &Config{MaxIncomingStreams: 2},
		frames: []quictest.Frame{streamF(8, 0, "x", false)}, code: wire.StreamLimitError},
	{name: "beyond-max-streams-uni", conf: &Config{MaxIncomingUniStreams: 1},
		frames: []quictest.Frame{streamF(6, 0, "x", false)}, code: wire.StreamLimitError},
	{name: "beyond-max-streams-by-reset", conf: &Config{MaxIncomingStreams: 1},
		frames: []quictest.Frame{&wire.ResetStreamFrame{StreamID: 4}}, code: wire.StreamLimitError, ft: wire.FrameTypeResetStream},
	{name: "no-streams-allowed", conf: &Config{MaxIncomingStreams: -1},
		frames: []quictest.Frame{streamF(0, 0, "x", false)}, code: wire.StreamLimitError},
	// Flow control (RFC 9000 §4.1).
	{name: "beyond-stream-window", conf: &Config{InitialStreamReceiveWindow: 1000},
		frames: []quictest.Frame{streamF(0, 999, "xy", false)}, code: wire.FlowControlError},
	{name: "beyond-connection-window", conf: &Config{InitialStreamReceiveWindow: 1000, InitialConnectionReceiveWindow: 1500},
		frames: []quictest.Frame{streamF(0, 0, string(make([]byte, 900)), false), streamF(4, 0, string(make([]byte, 700)), false)},
		code:   wire.FlowControlError},
	{name: "beyond-connection-window-by-offset", conf: &Config{InitialStreamReceiveWindow: 1000, InitialConnectionReceiveWindow: 1500},
		frames: []quictest.Frame{streamF(0, 999, "x", false), streamF(4, 600, "x", false)},
		code:   wire.FlowControlError},
	{name: "reset-final-size-beyond-window", conf: &Config{InitialStreamReceiveWindow: 1000},
		frames: []quictest.Frame{&wire.ResetStreamFrame{StreamID: 0, FinalSize: 1001}}, code: wire.FlowControlError, ft: wire.FrameTypeResetStream},
	// Final size (RFC 9000 §4.5).
	{name: "data-beyond-final-size", frames: []quictest.Frame{streamF(0, 0, "abc", true), streamF(0, 3, "d", false)},
		code: wire.FinalSizeError},
	{name: "fin-below-received-data", frames: []quictest.Frame{streamF(0, 0, "abcdef", false), streamF(0, 0, "ab", true)},
		code: wire.FinalSizeError},
	{name: "second-fin-elsewhere", frames: []quictest.Frame{streamF(0, 0, "abc", true), streamF(0, 0, "abcd", true)},
		code: wire.FinalSizeError},
	{name: "reset-final-size-differs", frames: []quictest.Frame{streamF(0, 0, "abc", true), &wire.ResetStreamFrame{StreamID: 0, FinalSize: 5}},
		code: wire.FinalSizeError, ft: wire.FrameTypeResetStream},
	{name: "reset-final-size-below-received", frames: []quictest.Frame{streamF(0, 0, "abcdef", false), &wire.ResetStreamFrame{StreamID: 0, FinalSize: 2}},
		code: wire.FinalSizeError, ft: wire.FrameTypeResetStream},
	// Encoding (RFC 9000 §12.4, §19).
	{name: "unknown-frame-type", frames: []quictest.Frame{raw(0x21)}, code: wire.FrameEncodingError},
	// An 8-byte varint cut short (PADDING after it would complete a
	// shorter one).
	{name: "truncated-frame", frames: []quictest.Frame{raw(byte(wire.FrameTypeMaxData), 0xc0, 0, 0)}, code: wire.FrameEncodingError},
	{name: "max-streams-above-2^60", frames: []quictest.Frame{raw(byte(wire.FrameTypeMaxStreamsBidi), 0xd0, 0, 0, 0, 0, 0, 0, 1)},
		code: wire.FrameEncodingError},
	{name: "datagram-not-negotiated", frames: []quictest.Frame{&quictest.DatagramFrame{Data: []byte("d")}},
		code: wire.ProtocolViolation},
	// CRYPTO data far beyond what TLS has read (RFC 9000 §7.5).
	{name: "crypto-far-ahead", frames: []quictest.Frame{&wire.CryptoFrame{Offset: 1 << 20, Data: []byte("x")}},
		code: wire.CryptoBufferExceeded, ft: wire.FrameTypeCrypto},
	// Acknowledgments (RFC 9000 §13.1).
	{name: "ack-of-unsent-packet", frames: []quictest.Frame{&wire.AckFrame{Ranges: []wire.AckRange{{Smallest: 0, Largest: 5000}}}},
		code: wire.ProtocolViolation, ft: wire.FrameTypeAck},
	// Connection IDs (RFC 9000 §5.1.1, §19.15, §19.16).
	{name: "retire-unissued-connection-id", frames: []quictest.Frame{&wire.RetireConnectionIDFrame{Seq: 100}},
		code: wire.ProtocolViolation, ft: wire.FrameTypeRetireConnectionID},
	{name: "retire-connection-id-in-use", frames: []quictest.Frame{&wire.RetireConnectionIDFrame{Seq: 0}},
		code: wire.ProtocolViolation, ft: wire.FrameTypeRetireConnectionID},
	{name: "new-connection-ids-beyond-limit", frames: []quictest.Frame{
		newCID(1), newCID(2), newCID(3), newCID(4),
	}, code: wire.ConnectionIDLimitError, ft: wire.FrameTypeNewConnectionID},
	{name: "new-connection-id-seq-reused", frames: []quictest.Frame{
		newCID(1), &wire.NewConnectionIDFrame{Seq: 1, ConnID: []byte{9, 9, 9, 9, 9, 9, 9, 9}},
	}, code: wire.ProtocolViolation, ft: wire.FrameTypeNewConnectionID},
}

func newCID(seq uint64) *wire.NewConnectionIDFrame {
	return &wire.NewConnectionIDFrame{Seq: seq, ConnID: []byte{byte(seq), 1, 2, 3, 4, 5, 6, 7}, ResetToken: [16]byte{byte(seq)}}
}

func TestProtocolErrors(t *testing.T) {
	for _, tc := range errorCases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tn := newTestNet(t)
				params := quictest.DefaultParams()
				if tc.params != nil {
					tc.params(&params)
				}
				p, sc, _ := tn.peerPair(tc.conf, params)
				if tc.setup != nil {
					tc.setup(t, p, sc)
				}
				for _, f := range tc.frames {
					if err := p.SendFrames(wire.Packet1RTT, f); err != nil {
						t.Fatal(err)
					}
				}
				cc := expectClose(t, p, false, uint64(tc.code))
				if tc.ft != 0 && cc.FrameType != tc.ft {
					t.Errorf("CONNECTION_CLOSE names frame type %#x, want %#x", cc.FrameType, tc.ft)
				}
				<-sc.Context().Done()
				var te *TransportError
				if cause := context.Cause(sc.Context()); !errors.As(cause, &te) || te.Code != tc.code || te.Remote {
					t.Errorf("Context cause %v, want a local %v", cause, tc.code)
				}
			})
		})
	}
}

// TestFrameNotAllowedInPacketType: frames outside their packet types
// (RFC 9000 §12.4, Table 3) are a PROTOCOL_VIOLATION, answered in the
// same packet type.
func TestFrameNotAllowedInPacketType(t *testing.T) {
	tests := []struct {
		name  string
		pt    wire.PacketType
		frame quictest.Frame
	}{
		{"stream-in-initial", wire.PacketInitial, streamF(0, 0, "x", false)},
		{"max-data-in-initial", wire.PacketInitial, &wire.MaxDataFrame{Max: 1}},
		{"handshake-done-in-initial", wire.PacketInitial, &wire.HandshakeDoneFrame{}},
		{"new-connection-id-in-initial", wire.PacketInitial, newCID(1)},
		{"stream-in-handshake", wire.PacketHandshake, streamF(0, 0, "x", false)},
		{"max-streams-in-handshake", wire.PacketHandshake, &wire.MaxStreamsFrame{Bidi: true, Max: 5}},
		{"path-challenge-in-handshake", wire.PacketHandshake, &wire.PathChallengeFrame{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tn := newTestNet(t)
				tn.listen(nil)
				p, _ := tn.peer(quictest.DefaultParams())
				ctx := testCtx(t)
				if err := p.StartTLS(ctx); err != nil {
					t.Fatal(err)
				}
				if tt.pt == wire.PacketHandshake {
					// Get as far as the server's Handshake keys.
					if err := p.Flush(); err != nil {
						t.Fatal(err)
					}
					for p.SealKeys(wire.PacketHandshake) == nil {
						if _, err := p.ReadPacket(ctx); err != nil {
							t.Fatal(err)
						}
					}
				}
				if err := p.SendFrames(tt.pt, tt.frame); err != nil {
					t.Fatal(err)
				}
				// Before the handshake is confirmed the close may go
				// out in several packet types (RFC 9000 §10.2.3); one
				// must be the offending packet's.
				for {
					cc, pkt, err := quictest.ExpectFrame[wire.ConnectionCloseFrame](ctx, p, nil)
					if err != nil {
						t.Fatalf("no CONNECTION_CLOSE in a %v packet: %v", tt.pt, err)
					}
					if cc.App || cc.Code != uint64(wire.ProtocolViolation) {
						t.Fatalf("CONNECTION_CLOSE %s, want PROTOCOL_VIOLATION", quictest.FrameName(cc))
					}
					if pkt.Type == tt.pt {
						break
					}
				}
			})
		})
	}
}

// forgeShort builds a 1-RTT packet by hand with the peer's keys: mutate
// may change the first byte before protection, pnLen is the packet number
// length.
func forgeShort(p *quictest.Peer, pnLen int, mutate func(b0 *byte), frames ...quictest.Frame) []byte {
	keys := p.SealKeys(wire.Packet1RTT)
	pn := p.NextPacketNumber(wire.Packet1RTT)
	b := wire.AppendShortHeader(nil, p.DstConnID(), pnLen, p.KeyPhase(), false)
	if mutate != nil {
		mutate(&b[0])
	}
	pnOff := len(b)
	b = wire.AppendPacketNumber(b, pn, pnLen)
	start := len(b)
	for _, f := range frames {
		b = f.Append(b)
	}
	if pad := wire.MinPayloadLen(pnLen) - (len(b) - start); pad > 0 {
		b = wire.AppendPadding(b, pad)
	}
	return keys.Seal(b, pnOff, pnLen, pn)
}

// TestForgedPackets: packets the peer's keys authenticate but whose
// contents break RFC 9000's packet rules.
func TestForgedPackets(t *testing.T) {
	tests := []struct {
		name string
		pkt  func(p *quictest.Peer) []byte
		code wire.ErrorCode
	}{
		// RFC 9000 §17.3.1: reserved bits must be 0 once protection is
		// removed.
		{"reserved-bits-set", func(p *quictest.Peer) []byte {
			return forgeShort(p, 2, func(b0 *byte) { *b0 |= 0x18 }, &wire.PingFrame{})
		}, wire.ProtocolViolation},
		// RFC 9000 §12.4: a packet must hold at least one frame (a
		// 4-byte packet number leaves room for an empty payload).
		{"no-frames", func(p *quictest.Peer) []byte {
			return forgeShort(p, 4, nil)
		}, wire.ProtocolViolation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tn := newTestNet(t)
				p, _, _ := tn.peerPair(nil, quictest.DefaultParams())
				p.SendRaw(tt.pkt(p))
				expectClose(t, p, false, uint64(tt.code))
			})
		})
	}
}
