package http3

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

func TestIsReserved(t *testing.T) {
	for _, v := range []uint64{0x21, 0x40, 0x5f, 0x1f*1000 + 0x21, 0x3ffffffffffffffe} {
		if !isReserved(v) {
			t.Errorf("%#x not reserved", v)
		}
	}
	for _, v := range []uint64{0, 0x20, 0x22, 0x41, 0x100, 0xf0700} {
		if isReserved(v) {
			t.Errorf("%#x reserved", v)
		}
	}
	for range 100 {
		if v := greaseValue(); !isReserved(v) || isKnownFrameType(v) {
			t.Fatalf("greaseValue %#x", v)
		}
	}
}

func TestErrCodeString(t *testing.T) {
	tests := map[ErrCode]string{
		ErrCodeNoError:                  "H3_NO_ERROR",
		ErrCodeFrameUnexpected:          "H3_FRAME_UNEXPECTED",
		ErrCodeVersionFallback:          "H3_VERSION_FALLBACK",
		ErrCodeQPACKDecompressionFailed: "QPACK_DECOMPRESSION_FAILED",
		ErrCodeQPACKDecoderStreamError:  "QPACK_DECODER_STREAM_ERROR",
		0x21:                            "H3_GREASE_0x21",
		0x1234:                          "H3_0x1234",
	}
	for c, want := range tests {
		if got := c.String(); got != want {
			t.Errorf("%#x: %q, want %q", uint64(c), got, want)
		}
	}
	// Every RFC 9114 §8.1 code has a name.
	for c := ErrCodeNoError; c <= ErrCodeVersionFallback; c++ {
		if _, ok := errCodeNames[c]; !ok {
			t.Errorf("%#x has no name", uint64(c))
		}
	}
}

// readFrames reads every frame of b the way a stream reader does,
// returning each known frame's type and payload.
func readFrames(b []byte) ([]frameOf, error) {
	fr := newFrameReader(bytes.NewReader(b))
	var out []frameOf
	for {
		typ, l, err := fr.next()
		if err != nil {
			if err == io.EOF {
				return out, nil
			}
			return out, err
		}
		p, err := fr.readPayload(l, 1<<20, errors.New("too large"))
		if err != nil {
			return out, err
		}
		out = append(out, frameOf{typ, append([]byte(nil), p...)})
	}
}

type frameOf struct {
	typ     uint64
	payload []byte
}

func TestFrameRoundTrips(t *testing.T) {
	section := encodeAll([]field{{":status", "200"}})
	settings := []setting{{settingQPACKMaxTableCapacity, 0}, {settingMaxFieldSectionSize, 1 << 20}, {0x1f*7 + 0x21, 42}}
	var b []byte
	b = appendDataFrameHeader(b, 5)
	b = append(b, "hello"...)
	b = appendGreaseFrame(b)
	b = appendFrameHeader(b, frameHeaders, uint64(len(section)))
	b = append(b, section...)
	b = appendVarintFrame(b, frameGoAway, 1<<40)
	b = appendVarintFrame(b, frameMaxPushID, 0)
	b = appendVarintFrame(b, frameCancelPush, 63)
	b = appendSettingsFrame(b, settings)
	b = appendPushPromiseFrame(b, 7, section)
	b = appendPriorityUpdateFrame(b, false, 8, "u=1, i")
	b = appendPriorityUpdateFrame(b, true, 2, "u=5")
	b = appendDataFrameHeader(b, 0)

	frames, err := readFrames(b)
	if err != nil {
		t.Fatal(err)
	}
	wantTypes := []uint64{frameData, frameHeaders, frameGoAway, frameMaxPushID, frameCancelPush,
		frameSettings, framePushPromise, framePriorityUpdateRequest, framePriorityUpdatePush, frameData}
	if len(frames) != len(wantTypes) {
		t.Fatalf("%d frames, want %d", len(frames), len(wantTypes))
	}
	for i, f := range frames {
		if f.typ != wantTypes[i] {
			t.Fatalf("frame %d: type %#x, want %#x", i, f.typ, wantTypes[i])
		}
	}
	if string(frames[0].payload) != "hello" || len(frames[9].payload) != 0 {
		t.Fatal("DATA payloads")
	}
	if !bytes.Equal(frames[1].payload, section) {
		t.Fatal("HEADERS payload")
	}
	for i, want := range map[int]uint64{2: 1 << 40, 3: 0, 4: 63} {
		if v, err := parseVarintPayload(frames[i].payload); err != nil || v != want {
			t.Errorf("frame %d: %d, %v; want %d", i, v, err, want)
		}
	}
	got, err := parseSettings(frames[5].payload)
	if err != nil || len(got) != len(settings) {
		t.Fatalf("settings: %v, %v", got, err)
	}
	for i := range got {
		if got[i] != settings[i] {
			t.Errorf("setting %d: %v, want %v", i, got[i], settings[i])
		}
	}
	if id, s, err := parsePushPromise(frames[6].payload); err != nil || id != 7 || !bytes.Equal(s, section) {
		t.Errorf("PUSH_PROMISE: %d, %x, %v", id, s, err)
	}
	if id, v, err := parsePriorityUpdate(frames[7].payload); err != nil || id != 8 || string(v) != "u=1, i" {
		t.Errorf("PRIORITY_UPDATE: %d, %q, %v", id, v, err)
	}
	if id, v, err := parsePriorityUpdate(frames[8].payload); err != nil || id != 2 || string(v) != "u=5" {
		t.Errorf("PRIORITY_UPDATE push: %d, %q, %v", id, v, err)
	}
}

func wantCode(t *testing.T, err error, code ErrCode) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("err = %v, want %v", err, code)
	}
}

func TestFrameReaderErrors(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		code ErrCode
	}{
		{"HTTP/2 PRIORITY", appendFrameHeader(nil, 0x02, 0), ErrCodeFrameUnexpected},
		{"HTTP/2 PING", append(appendFrameHeader(nil, 0x06, 8), make([]byte, 8)...), ErrCodeFrameUnexpected},
		{"HTTP/2 WINDOW_UPDATE", appendFrameHeader(nil, 0x08, 0), ErrCodeFrameUnexpected},
		{"HTTP/2 CONTINUATION", appendFrameHeader(nil, 0x09, 0), ErrCodeFrameUnexpected},
		{"type cut", []byte{0x40}, ErrCodeFrameError},
		{"no length", []byte{0x01}, ErrCodeFrameError},
		{"length cut", []byte{0x01, 0x80, 0x00}, ErrCodeFrameError},
		{"payload cut", append(appendFrameHeader(nil, frameHeaders, 10), 1, 2, 3), ErrCodeFrameError},
		{"unknown payload cut", append(appendFrameHeader(nil, 0x21, 10), 1, 2, 3), ErrCodeFrameError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readFrames(tt.in)
			wantCode(t, err, tt.code)
		})
	}
	// A frame over the caller's limit is left unread.
	fr := newFrameReader(bytes.NewReader(appendFrameHeader(nil, frameHeaders, 100)))
	_, l, _ := fr.next()
	tooLarge := errors.New("too large")
	if _, err := fr.readPayload(l, 99, tooLarge); err != tooLarge {
		t.Fatalf("limit: %v", err)
	}
}

func TestParseSettingsErrors(t *testing.T) {
	s := func(pairs ...uint64) []byte {
		var b []byte
		for _, v := range pairs {
			b = wire.AppendVarint(b, v)
		}
		return b
	}
	tests := []struct {
		name string
		p    []byte
		code ErrCode
	}{
		{"duplicate", s(6, 100, 1, 0, 6, 100), ErrCodeSettingsError},
		{"HTTP/2 ENABLE_PUSH", s(2, 0), ErrCodeSettingsError},
		{"HTTP/2 MAX_CONCURRENT_STREAMS", s(3, 100), ErrCodeSettingsError},
		{"HTTP/2 INITIAL_WINDOW_SIZE", s(4, 100), ErrCodeSettingsError},
		{"HTTP/2 MAX_FRAME_SIZE", s(5, 100), ErrCodeSettingsError},
		{"H3_DATAGRAM 2", s(0x33, 2), ErrCodeSettingsError},
		{"ENABLE_CONNECT_PROTOCOL 2", s(0x08, 2), ErrCodeSettingsError},
		{"value missing", s(6), ErrCodeFrameError},
		{"value cut", append(s(6), 0x80), ErrCodeFrameError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseSettings(tt.p)
			wantCode(t, err, tt.code)
		})
	}
	// Many distinct settings, then a duplicate far along.
	var many []uint64
	for i := range 40 {
		many = append(many, 0x100+uint64(i), 1)
	}
	if _, err := parseSettings(s(many...)); err != nil {
		t.Fatalf("40 settings: %v", err)
	}
	wantCode(t, func() error { _, err := parseSettings(s(append(many, 0x100+30, 0)...)); return err }(), ErrCodeSettingsError)
	// Unknown and reserved settings are kept for the caller to ignore.
	got, err := parseSettings(s(0x21, 5, 0x00, 1, 0xabcdef, 9))
	if err != nil || len(got) != 3 {
		t.Fatalf("unknown settings: %v, %v", got, err)
	}
	var ps = defaultPeerSettings()
	ps.apply([]setting{{settingMaxFieldSectionSize, 1000}, {settingQPACKMaxTableCapacity, 4096}, {0x21, 7}})
	if ps.maxFieldSectionSize != 1000 || ps.qpackMaxTableCapacity != 4096 {
		t.Fatalf("apply: %+v", ps)
	}
}

func TestVarintPayloadExact(t *testing.T) {
	for _, p := range [][]byte{nil, {0x40}, {0x05, 0x00}, {0x80, 0, 0}} {
		if _, err := parseVarintPayload(p); err == nil {
			t.Errorf("%x accepted", p)
		} else {
			wantCode(t, err, ErrCodeFrameError)
		}
	}
	if _, _, err := parsePriorityUpdate(nil); err == nil {
		t.Error("empty PRIORITY_UPDATE accepted")
	}
	if _, _, err := parsePushPromise([]byte{0x40}); err == nil {
		t.Error("cut PUSH_PROMISE accepted")
	}
}

// FuzzH3Frames reads arbitrary bytes as a stream of frames and parses the
// payloads of every known type: no panic, errors are *Error values with
// H3 codes, and what parses re-encodes to the same bytes.
func FuzzH3Frames(f *testing.F) {
	f.Add(appendSettingsFrame(nil, []setting{{1, 0}, {6, 1 << 16}, {7, 0}, {0x21, 1}}))
	f.Add(appendVarintFrame(appendGreaseFrame(nil), frameGoAway, 4))
	f.Add(append(appendDataFrameHeader(nil, 3), "abc"...))
	f.Add(appendPriorityUpdateFrame(nil, false, 0, "u=0, i"))
	f.Add(appendPushPromiseFrame(nil, 1, encodeAll([]field{{":path", "/"}})))
	f.Add(appendFrameHeader(nil, 0x06, 0))
	f.Add([]byte{0x04, 0x04, 0x06, 0x01, 0x06, 0x02})
	f.Fuzz(func(t *testing.T, b []byte) {
		frames, err := readFrames(b)
		if err != nil && err.Error() != "too large" {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not an *Error", err)
			}
		}
		for _, fr := range frames {
			var again []byte
			switch fr.typ {
			case frameSettings:
				s, err := parseSettings(fr.payload)
				if err != nil {
					continue
				}
				again = appendSettingsFrame(nil, s)
			case frameGoAway, frameMaxPushID, frameCancelPush:
				v, err := parseVarintPayload(fr.payload)
				if err != nil {
					continue
				}
				// Round trip through the shortest encoding.
				got, _ := readFrames(appendVarintFrame(nil, fr.typ, v))
				if w, err := parseVarintPayload(got[0].payload); err != nil || w != v {
					t.Fatalf("varint frame %d: %d, %v", v, w, err)
				}
				continue
			case framePriorityUpdateRequest, framePriorityUpdatePush:
				id, v, err := parsePriorityUpdate(fr.payload)
				if err != nil {
					continue
				}
				parsePriority(string(v), defaultPriority)
				got, _ := readFrames(appendPriorityUpdateFrame(nil, fr.typ == framePriorityUpdatePush, id, string(v)))
				if id2, v2, err := parsePriorityUpdate(got[0].payload); err != nil || id2 != id || !bytes.Equal(v, v2) {
					t.Fatalf("PRIORITY_UPDATE round trip")
				}
				continue
			case framePushPromise:
				if _, s, err := parsePushPromise(fr.payload); err == nil {
					decodeAll(s, 1<<16)
				}
				continue
			case frameHeaders:
				decodeAll(fr.payload, 1<<16)
				continue
			default:
				continue
			}
			got, err := readFrames(again)
			if err != nil || len(got) != 1 {
				t.Fatalf("re-read: %v", err)
			}
			s2, err := parseSettings(got[0].payload)
			if err != nil {
				t.Fatalf("re-parse settings: %v", err)
			}
			s1, _ := parseSettings(fr.payload)
			if len(s1) != len(s2) {
				t.Fatal("settings round trip")
			}
			for i := range s1 {
				if s1[i] != s2[i] {
					t.Fatal("settings round trip")
				}
			}
		}
	})
}
