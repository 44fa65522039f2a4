package wire

import (
	"bytes"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// Helpers shared by the frame tests.

// edgeValues are varint values at every encoding-length boundary
// (RFC 9000 §16), plus 0 and 1.
var edgeValues = []uint64{0, 1, 63, 64, 16383, 16384, 1<<30 - 1, 1 << 30, MaxVarint}

// appender is what every frame type with a fixed encoding implements.
type appender interface {
	Len() int
	Append([]byte) []byte
}

// checkFrame encodes f and checks everything a frame's encoder and parser
// promise: Len is exact, Append only appends, the parser reads back an equal
// value and consumes exactly the frame (also with bytes after it), and every
// proper prefix of the encoding is a FRAME_ENCODING_ERROR carrying the
// frame type. It returns the encoding.
func checkFrame[F any, P interface {
	*F
	appender
}](t *testing.T, f F, parse func([]byte) (F, int, error)) []byte {
	t.Helper()
	p := P(&f)
	b := p.Append(nil)
	if len(b) != p.Len() {
		t.Fatalf("%+v: Len() = %d, encoding has %d bytes (%x)", f, p.Len(), len(b), b)
	}
	pre := []byte{0xaa, 0xbb}
	b2 := p.Append(pre)
	if !bytes.Equal(b2[:2], []byte{0xaa, 0xbb}) || !bytes.Equal(b2[2:], b) {
		t.Fatalf("%+v: Append to a non-empty slice wrote %x, want aabb%x", f, b2, b)
	}
	got, n, err := parse(b)
	if err != nil {
		t.Fatalf("%+v: parse(%x): %v", f, b, err)
	}
	if n != len(b) {
		t.Fatalf("%+v: parse consumed %d of %d bytes", f, n, len(b))
	}
	if !sameFrame(got, f) {
		t.Fatalf("parse(Append(%+v)) = %+v", f, got)
	}
	tail := append(b[:len(b):len(b)], 0x01, 0x40, 0x00)
	got, n, err = parse(tail)
	if err != nil || n != len(b) || !sameFrame(got, f) {
		t.Fatalf("%+v followed by 3 bytes: parse = %+v, %d, %v; want the frame and %d", f, got, n, err, len(b))
	}
	for i := 0; i < len(b); i++ {
		_, n, err := parse(b[:i:i])
		if err == nil {
			t.Fatalf("%+v: parse of %d-byte prefix %x succeeded (n=%d)", f, i, b[:i], n)
		}
		want := FrameType(0)
		if i > 0 {
			want = FrameType(b[0])
		}
		checkFrameError(t, err, FrameEncodingError, want, i > 0)
		if n != 0 {
			t.Fatalf("%+v: parse of prefix returned n=%d with an error", f, n)
		}
	}
	return b
}

// checkFrameError fails unless err is a *TransportError with the given code
// and (if checkType) frame type.
func checkFrameError(t *testing.T, err error, code ErrorCode, ft FrameType, checkType bool) {
	t.Helper()
	var te *TransportError
	if !errors.As(err, &te) {
		t.Fatalf("error %v (%T) is not a *TransportError", err, err)
	}
	if te.Code != code {
		t.Fatalf("error %v: code %v, want %v", err, te.Code, code)
	}
	if checkType && te.FrameType != ft {
		t.Fatalf("error %v: frame type 0x%x, want 0x%x", err, te.FrameType, ft)
	}
}

// checkGolden checks that f encodes to the hex string want and that want
// parses to f.
func checkGolden[F any, P interface {
	*F
	appender
}](t *testing.T, f F, want string, parse func([]byte) (F, int, error)) {
	t.Helper()
	w := mustHex(t, want)
	if got := P(&f).Append(nil); !bytes.Equal(got, w) {
		t.Errorf("Append(%+v) = %x, want %x", f, got, w)
	}
	got, n, err := parse(w)
	if err != nil || n != len(w) || !sameFrame(got, f) {
		t.Errorf("parse(%x) = %+v, %d, %v; want %+v, %d", w, got, n, err, f, len(w))
	}
}

// checkNoAllocs checks that appending f into a buffer with room and parsing
// it back allocates nothing.
func checkNoAllocs[F any, P interface {
	*F
	appender
}](t *testing.T, f F, parse func([]byte) (F, int, error)) {
	t.Helper()
	buf := make([]byte, 0, 2048)
	allocs := testing.AllocsPerRun(100, func() {
		buf = P(&f).Append(buf[:0])
		if _, _, err := parse(buf); err != nil {
			panic(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%T: append+parse allocates %v times per run", f, allocs)
	}
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sameFrame compares two frames field by field, treating nil and empty
// slices as equal (a parsed empty field aliases the input and is not nil).
func sameFrame(a, b any) bool {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	if va.Type() != vb.Type() {
		return false
	}
	return sameValue(va, vb)
}

func sameValue(a, b reflect.Value) bool {
	switch a.Kind() {
	case reflect.Slice, reflect.Array:
		if a.Len() != b.Len() {
			return false
		}
		for i := range a.Len() {
			if !sameValue(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Struct:
		for i := range a.NumField() {
			if !sameValue(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	default:
		return a.Equal(b)
	}
}

// byteSeq returns n bytes 0, 1, 2, ... (mod 256).
func byteSeq(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}
