package wire

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

// knownFrameTypes lists every frame type this package parses.
var knownFrameTypes = func() []FrameType {
	var ts []FrameType
	for t := FrameType(0); t <= FrameTypeHandshakeDone; t++ {
		ts = append(ts, t)
	}
	return append(ts, FrameTypeDatagram, FrameTypeDatagramLen)
}()

func TestParseFrameType(t *testing.T) {
	for _, ft := range knownFrameTypes {
		b := []byte{byte(ft), 0xff}
		got, n, err := ParseFrameType(b)
		if err != nil || got != ft || n != 1 {
			t.Errorf("ParseFrameType(%x) = %#x, %d, %v", b, got, n, err)
		}
	}
	for _, tc := range []struct {
		name, hex string
		code      ErrorCode
		ft        FrameType
	}{
		{"empty", "", FrameEncodingError, 0},
		{"truncated", "40", FrameEncodingError, 0},
		{"truncated 8-byte", "c0000000", FrameEncodingError, 0},
		// RFC 9000 §12.4: frame types use the shortest encoding.
		{"PING in 2 bytes", "4001", ProtocolViolation, FrameTypePing},
		{"PADDING in 2 bytes", "4000", ProtocolViolation, FrameTypePadding},
		{"STREAM in 4 bytes", "8000000a", ProtocolViolation, 0x0a},
		{"DATAGRAM in 8 bytes", "c000000000000031", ProtocolViolation, FrameTypeDatagramLen},
		{"unknown 64 in 4 bytes", "80000040", ProtocolViolation, 0x40},
		// Unknown types, RFC 9000 §12.4.
		{"unknown 0x1f", "1f", FrameEncodingError, 0x1f},
		{"unknown 0x2f", "2f", FrameEncodingError, 0x2f},
		{"unknown 0x32", "32", FrameEncodingError, 0x32},
		{"unknown 0x3f", "3f", FrameEncodingError, 0x3f},
		{"unknown 64", "4040", FrameEncodingError, 0x40},
		{"unknown ACK_FREQUENCY", "40af", FrameEncodingError, 0xaf},
		{"unknown 2^62-1", "ffffffffffffffff", FrameEncodingError, MaxVarint},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ft, n, err := ParseFrameType(mustHex(t, tc.hex))
			if err == nil {
				t.Fatalf("parsed %#x, %d", ft, n)
			}
			checkFrameError(t, err, tc.code, tc.ft, true)
		})
	}
}

// table3 is RFC 9000 Table 3 (§12.4), "Pkts" column, typed in from the RFC
// (I: Initial, H: Handshake, 0: 0-RTT, 1: 1-RTT), with 0x1c and 0x1d split
// as the "ih" note says, and DATAGRAM from RFC 9221 §5.
var table3 = map[FrameType]string{
	0x00: "IH01", // PADDING
	0x01: "IH01", // PING
	0x02: "IH_1", // ACK
	0x03: "IH_1",
	0x04: "__01", // RESET_STREAM
	0x05: "__01", // STOP_SENDING
	0x06: "IH_1", // CRYPTO
	0x07: "___1", // NEW_TOKEN
	0x08: "__01", // STREAM
	0x09: "__01",
	0x0a: "__01",
	0x0b: "__01",
	0x0c: "__01",
	0x0d: "__01",
	0x0e: "__01",
	0x0f: "__01",
	0x10: "__01", // MAX_DATA
	0x11: "__01", // MAX_STREAM_DATA
	0x12: "__01", // MAX_STREAMS
	0x13: "__01",
	0x14: "__01", // DATA_BLOCKED
	0x15: "__01", // STREAM_DATA_BLOCKED
	0x16: "__01", // STREAMS_BLOCKED
	0x17: "__01",
	0x18: "__01", // NEW_CONNECTION_ID
	0x19: "__01", // RETIRE_CONNECTION_ID
	0x1a: "__01", // PATH_CHALLENGE
	0x1b: "___1", // PATH_RESPONSE
	0x1c: "IH01", // CONNECTION_CLOSE (transport)
	0x1d: "__01", // CONNECTION_CLOSE (application)
	0x1e: "___1", // HANDSHAKE_DONE
	0x30: "__01", // DATAGRAM
	0x31: "__01",
}

func TestFrameAllowedIn(t *testing.T) {
	column := map[PacketType]int{PacketInitial: 0, PacketHandshake: 1, Packet0RTT: 2, Packet1RTT: 3}
	types := append([]FrameType{0x1f, 0x20, 0x2f, 0x32, 0x3f, 0x40, 0xaf, MaxVarint}, knownFrameTypes...)
	for _, ft := range types {
		for pt := PacketType(0); pt < 10; pt++ {
			want := false
			if pkts, ok := table3[ft]; ok {
				if i, ok := column[pt]; ok {
					want = pkts[i] != '_'
				}
			}
			if got := FrameAllowedIn(ft, pt); got != want {
				t.Errorf("FrameAllowedIn(%#x, %v) = %v, want %v", ft, pt, got, want)
			}
			err := CheckFrameAllowed(ft, pt)
			if want != (err == nil) {
				t.Errorf("CheckFrameAllowed(%#x, %v) = %v", ft, pt, err)
			}
			if err != nil {
				checkFrameError(t, err, ProtocolViolation, ft, true)
			}
		}
	}
	if len(table3) != len(knownFrameTypes) {
		t.Fatalf("table3 has %d types, the package knows %d", len(table3), len(knownFrameTypes))
	}
}

func TestIsAckEliciting(t *testing.T) {
	// RFC 9002 §2: all frames but ACK, PADDING and CONNECTION_CLOSE.
	notEliciting := map[FrameType]bool{0x00: true, 0x02: true, 0x03: true, 0x1c: true, 0x1d: true}
	for _, ft := range knownFrameTypes {
		if got := IsAckEliciting(ft); got == notEliciting[ft] {
			t.Errorf("IsAckEliciting(%#x) = %v", ft, got)
		}
	}
	// RFC 9000 §9.1: probing frames.
	probing := map[FrameType]bool{0x00: true, 0x18: true, 0x1a: true, 0x1b: true}
	for _, ft := range knownFrameTypes {
		if got := IsProbingFrame(ft); got != probing[ft] {
			t.Errorf("IsProbingFrame(%#x) = %v", ft, got)
		}
	}
}

func TestFrameTypeName(t *testing.T) {
	for ft, want := range map[FrameType]string{
		0x00: "padding", 0x03: "ack", 0x08: "stream", 0x0f: "stream", 0x10: "max_data",
		0x13: "max_streams", 0x17: "streams_blocked", 0x1d: "connection_close",
		0x1e: "handshake_done", 0x30: "datagram", 0x31: "datagram", 0x1f: "unknown", 0x40: "unknown",
	} {
		if got := FrameTypeName(ft); got != want {
			t.Errorf("FrameTypeName(%#x) = %q, want %q", ft, got, want)
		}
	}
	for _, ft := range knownFrameTypes {
		if name := FrameTypeName(ft); name == "unknown" || (name == "stream") != IsStreamFrameType(ft) {
			t.Errorf("FrameTypeName(%#x) = %q", ft, FrameTypeName(ft))
		}
	}
}

func anyFrame[F any](f F, n int, err error) (any, int, error) { return f, n, err }

// parseAnyFrame parses the frame at the start of b the way a connection
// does: ParseFrameType, then the parser for that type.
func parseAnyFrame(b []byte) (FrameType, any, int, error) {
	ft, _, err := ParseFrameType(b)
	if err != nil {
		return 0, nil, 0, err
	}
	var f any
	var n int
	switch {
	case ft == FrameTypePadding:
		f, n, err = anyFrame(ParsePaddingFrame(b))
	case ft == FrameTypePing:
		f, n, err = anyFrame(ParsePingFrame(b))
	case ft == FrameTypeAck || ft == FrameTypeAckECN:
		f, n, err = anyFrame(ParseAckFrame(b, nil))
	case ft == FrameTypeResetStream:
		f, n, err = anyFrame(ParseResetStreamFrame(b))
	case ft == FrameTypeStopSending:
		f, n, err = anyFrame(ParseStopSendingFrame(b))
	case ft == FrameTypeCrypto:
		f, n, err = anyFrame(ParseCryptoFrame(b))
	case ft == FrameTypeNewToken:
		f, n, err = anyFrame(ParseNewTokenFrame(b))
	case IsStreamFrameType(ft):
		f, n, err = anyFrame(ParseStreamFrame(b))
	case ft == FrameTypeMaxData:
		f, n, err = anyFrame(ParseMaxDataFrame(b))
	case ft == FrameTypeMaxStreamData:
		f, n, err = anyFrame(ParseMaxStreamDataFrame(b))
	case ft == FrameTypeMaxStreamsBidi || ft == FrameTypeMaxStreamsUni:
		f, n, err = anyFrame(ParseMaxStreamsFrame(b))
	case ft == FrameTypeDataBlocked:
		f, n, err = anyFrame(ParseDataBlockedFrame(b))
	case ft == FrameTypeStreamDataBlocked:
		f, n, err = anyFrame(ParseStreamDataBlockedFrame(b))
	case ft == FrameTypeStreamsBlockedBidi || ft == FrameTypeStreamsBlockedUni:
		f, n, err = anyFrame(ParseStreamsBlockedFrame(b))
	case ft == FrameTypeNewConnectionID:
		f, n, err = anyFrame(ParseNewConnectionIDFrame(b))
	case ft == FrameTypeRetireConnectionID:
		f, n, err = anyFrame(ParseRetireConnectionIDFrame(b))
	case ft == FrameTypePathChallenge:
		f, n, err = anyFrame(ParsePathChallengeFrame(b))
	case ft == FrameTypePathResponse:
		f, n, err = anyFrame(ParsePathResponseFrame(b))
	case ft == FrameTypeConnectionClose || ft == FrameTypeConnectionCloseApp:
		f, n, err = anyFrame(ParseConnectionCloseFrame(b))
	case ft == FrameTypeHandshakeDone:
		f, n, err = anyFrame(ParseHandshakeDoneFrame(b))
	case ft == FrameTypeDatagram || ft == FrameTypeDatagramLen:
		f, n, err = anyFrame(ParseDatagramFrame(b))
	default:
		panic("ParseFrameType returned an unknown type")
	}
	return ft, f, n, err
}

// checkReencode encodes a parsed frame again, checks Len, parses the
// encoding and checks it reads back equal. STREAM and DATAGRAM frames are
// checked both with and without their Length field.
func checkReencode(t *testing.T, f any) {
	t.Helper()
	var encs [][]byte
	switch f := f.(type) {
	case StreamFrame:
		for _, wl := range []bool{true, false} {
			b := f.Append(nil, wl)
			if len(b) != f.Len(wl) {
				t.Fatalf("%+v: Len(%v) = %d, encoding %d bytes", f, wl, f.Len(wl), len(b))
			}
			encs = append(encs, b)
		}
	case DatagramFrame:
		for _, wl := range []bool{true, false} {
			b := f.Append(nil, wl)
			if len(b) != f.Len(wl) {
				t.Fatalf("%+v: Len(%v) = %d, encoding %d bytes", f, wl, f.Len(wl), len(b))
			}
			encs = append(encs, b)
		}
	default:
		p := reflect.New(reflect.TypeOf(f))
		p.Elem().Set(reflect.ValueOf(f))
		a := p.Interface().(appender)
		b := a.Append(nil)
		if len(b) != a.Len() {
			t.Fatalf("%+v: Len() = %d, encoding %d bytes", f, a.Len(), len(b))
		}
		encs = append(encs, b)
	}
	for _, b := range encs {
		_, g, n, err := parseAnyFrame(b)
		if err != nil || n != len(b) || !sameFrame(g, f) {
			t.Fatalf("re-encoded %+v as %x: parsed %+v, %d, %v", f, b, g, n, err)
		}
		// Our own encoding is canonical: encoding g gives the same bytes.
		if _, ok := f.(PaddingFrame); !ok && len(encs) == 1 {
			p := reflect.New(reflect.TypeOf(g))
			p.Elem().Set(reflect.ValueOf(g))
			if b2 := p.Interface().(appender).Append(nil); !bytes.Equal(b2, b) {
				t.Fatalf("%+v: encodings differ: %x then %x", f, b, b2)
			}
		}
	}
}

// parsePayload parses a packet payload frame by frame until its end or an
// error, checking every frame parsed, and returns the frames.
func parsePayload(t *testing.T, p []byte) (frames []any, err error) {
	t.Helper()
	for len(p) > 0 {
		ft, f, n, err := parseAnyFrame(p)
		if err != nil {
			var te *TransportError
			if !errors.As(err, &te) || (te.Code != FrameEncodingError && te.Code != ProtocolViolation) {
				t.Fatalf("error %v (%T) is not FRAME_ENCODING_ERROR or PROTOCOL_VIOLATION", err, err)
			}
			return frames, err
		}
		if n <= 0 || n > len(p) {
			t.Fatalf("frame %#x consumed %d of %d bytes", ft, n, len(p))
		}
		for pt := PacketInitial; pt <= Packet1RTT; pt++ {
			_ = FrameAllowedIn(ft, pt)
		}
		checkReencode(t, f)
		frames = append(frames, f)
		p = p[n:]
	}
	return frames, nil
}

// framesSeedPayloads are payloads of several frames each, for the fuzz
// corpus and TestParsePayload.
var framesSeedPayloads = []string{
	// ACK, STREAM with Length, STREAM without Length
	"02 0a 00 01 02 01 03  0b 04 02 6869  08 08 616263",
	// Initial: CRYPTO, PADDING
	"06 00 05 68656c6c6f 0000000000",
	// ACK_ECN, MAX_DATA, MAX_STREAM_DATA, MAX_STREAMS, PING
	"03 0a 00 01 02 01 03 01 00 4040  10 9d7f3e7d  11 7bbd 25  12 4064  01",
	// RESET_STREAM, STOP_SENDING, DATA_BLOCKED, STREAM_DATA_BLOCKED, STREAMS_BLOCKED
	"04 04 5234 80004000  05 03 00  14 c2197c5eff14e88c  15 00 3f  16 4040  17 00",
	// NEW_CONNECTION_ID, RETIRE_CONNECTION_ID, PATH_CHALLENGE, PATH_RESPONSE
	"18 01 00 04 01020304 000102030405060708090a0b0c0d0e0f  19 02  1a 0001020304050607  1b 0001020304050607",
	// NEW_TOKEN, HANDSHAKE_DONE, DATAGRAM with and without Length
	"07 03 616263  1e  31 02 6869  30 6869",
	// CONNECTION_CLOSE transport and application
	"1c 0a 08 03 626164  1d 4100 00",
	// errors: bad ACK, non-minimal type, unknown type
	"02 05 00 00 06",
	"4001",
	"1f",
	"0e 04 ffffffffffffffff 01 00",
}

func TestParsePayload(t *testing.T) {
	wantFrames := []int{3, 2, 5, 6, 4, 4, 2, 0, 0, 0, 0}
	for i, s := range framesSeedPayloads {
		frames, err := parsePayload(t, mustHex(t, s))
		if len(frames) != wantFrames[i] || (err != nil) != (i >= 7) {
			t.Errorf("payload %d: %d frames, %v; want %d", i, len(frames), err, wantFrames[i])
		}
	}
}

func FuzzParseFrames(f *testing.F) {
	for _, s := range framesSeedPayloads {
		f.Add(mustHex(f, s))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		parsePayload(t, p)
	})
}
