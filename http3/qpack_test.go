package http3

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

type field struct{ name, value string }

func decodeAll(b []byte, maxSize uint64) ([]field, error) {
	var out []field
	err := decodeFieldSection(b, maxSize, func(n, v string) error {
		out = append(out, field{n, v})
		return nil
	})
	return out, err
}

func encodeAll(fields []field) []byte {
	b := appendFieldSectionPrefix(nil)
	for _, f := range fields {
		b = appendFieldLine(b, f.name, f.value, false)
	}
	return b
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestStaticTable(t *testing.T) {
	if len(staticTable) != 99 {
		t.Fatalf("%d entries, want 99", len(staticTable))
	}
	// Spot checks against RFC 9204 Appendix A.
	for idx, want := range map[int]staticEntry{
		0:  {":authority", ""},
		1:  {":path", "/"},
		17: {":method", "GET"},
		25: {":status", "200"},
		31: {"accept-encoding", "gzip, deflate, br"},
		52: {"content-type", "text/html; charset=utf-8"},
		85: {"content-security-policy", "script-src 'none'; object-src 'none'; base-uri 'none'"},
		98: {"x-frame-options", "sameorigin"},
	} {
		if staticTable[idx] != want {
			t.Errorf("entry %d = %q, want %q", idx, staticTable[idx], want)
		}
	}
	for i, e := range staticTable {
		if e.name != strings.ToLower(e.name) {
			t.Errorf("entry %d: name %q not lowercase", i, e.name)
		}
	}
}

// TestQPACKAppendixB uses RFC 9204 Appendix B. B.1 references only the
// static table and must decode; B.2 and B.4 reference the dynamic table,
// which we never allow (capacity 0), so they must fail with
// QPACK_DECOMPRESSION_FAILED.
func TestQPACKAppendixB(t *testing.T) {
	b1 := unhex(t, "0000 510b 2f69 6e64 6578 2e68 746d 6c")
	got, err := decodeAll(b1, 1<<16)
	if err != nil || len(got) != 1 || got[0] != (field{":path", "/index.html"}) {
		t.Fatalf("B.1: %v, %v", got, err)
	}
	// Our encoding of the same line: same representation (static name
	// index 1), but the value Huffman-coded because that is shorter.
	enc := encodeAll([]field{{":path", "/index.html"}})
	want := append(unhex(t, "0000 51 88"), appendHuffman(nil, "/index.html")...)
	if !bytes.Equal(enc, want) {
		t.Fatalf("encode B.1 = %x, want %x", enc, want)
	}
	for name, s := range map[string]string{
		"B.2 stream 4": "0381 10 11",
		"B.4 stream 8": "0500 80 c1 81",
	} {
		_, err := decodeAll(unhex(t, s), 1<<16)
		var e *Error
		if !errors.As(err, &e) || e.Code != ErrCodeQPACKDecompressionFailed || !e.Connection {
			t.Errorf("%s: %v, want connection error QPACK_DECOMPRESSION_FAILED", name, err)
		}
	}
}

func TestQPACKEncodeRepresentations(t *testing.T) {
	tests := []struct {
		name, value string
		hex         string
	}{
		{":method", "GET", "d1"},             // indexed, static 17
		{":status", "200", "d9"},             // indexed, static 25
		{":path", "/", "c1"},                 // indexed, static 1
		{":status", "418", "5f09 03 343138"}, // name ref 24, raw value
		{":authority", "a", "50 01 61"},      // name ref 0, short value stays raw
		{"x-a", "b", "23 782d61 01 62"},      // literal name, raw
	}
	for _, tt := range tests {
		got := appendFieldLine(nil, tt.name, tt.value, false)
		if want := unhex(t, tt.hex); !bytes.Equal(got, want) {
			t.Errorf("%s: %s = %x, want %x", tt.name, tt.value, got, want)
		}
	}
	// The N bit.
	if got := appendFieldLine(nil, "authorization", "x", true); got[0]&0x20 == 0 {
		t.Errorf("name ref with N: %x", got)
	}
	if got := appendFieldLine(nil, "x-secret", "x", true); got[0]&0x10 == 0 {
		t.Errorf("literal name with N: %x", got)
	}
}

func TestQPACKRoundTrip(t *testing.T) {
	fields := []field{
		{":status", "200"},
		{":status", "299"},
		{"content-type", "text/html; charset=utf-8"},
		{"content-type", "application/x-tsumugi"},
		{"server", ""},
		{"x-long", strings.Repeat("0123456789abcdef", 100)},
		{"x-binary-ish", "\x01\x7f\xfe\xff"},
		{"cookie", "a=b; c=d"},
		{"", ""},
	}
	enc := encodeAll(fields)
	got, err := decodeAll(enc, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(fields) {
		t.Fatalf("%d fields, want %d", len(got), len(fields))
	}
	for i := range fields {
		if got[i] != fields[i] {
			t.Errorf("field %d = %q, want %q", i, got[i], fields[i])
		}
	}
}

func TestQPACKDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		hex  string
	}{
		{"empty", ""},
		{"no base", "00"},
		{"negative base", "0080"},
		{"RIC 1", "0100"},
		{"indexed dynamic", "0000 80"},
		{"name ref dynamic", "0000 40 00"},
		{"post-base indexed", "0000 10"},
		{"post-base name ref", "0000 00 00"},
		{"static index 99", "0000 ff24"},
		{"name ref index 99", "0000 5f54 00"},
		{"truncated value", "0000 51 05 2f"},
		{"truncated literal name", "0000 23 78"},
		{"bad huffman", "0000 51 81 00"},
		{"truncated index", "0000 ff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeAll(unhex(t, tt.hex), 1<<16)
			var e *Error
			if !errors.As(err, &e) || e.Code != ErrCodeQPACKDecompressionFailed || !e.Connection {
				t.Fatalf("err = %v, want QPACK_DECOMPRESSION_FAILED", err)
			}
		})
	}
}

func TestQPACKSizeLimit(t *testing.T) {
	fields := []field{{":path", "/abc"}, {"x-y", "zz"}}
	enc := encodeAll(fields)
	exact := fieldLineSize(":path", "/abc") + fieldLineSize("x-y", "zz")
	if _, err := decodeAll(enc, exact); err != nil {
		t.Fatalf("at the limit: %v", err)
	}
	if _, err := decodeAll(enc, exact-1); !errors.Is(err, errFieldSectionTooLarge) {
		t.Fatalf("one under: %v", err)
	}
	// A huge literal is refused before it is materialised: the Huffman
	// decoder stops at the budget.
	big := encodeAll([]field{{"x", strings.Repeat("a", 100000)}})
	if _, err := decodeAll(big, 1000); !errors.Is(err, errFieldSectionTooLarge) {
		t.Fatalf("big: %v", err)
	}
	// Indexed lines count too.
	many := appendFieldSectionPrefix(nil)
	for range 100 {
		many = appendFieldLine(many, ":method", "GET", false)
	}
	if _, err := decodeAll(many, 100*42-1); !errors.Is(err, errFieldSectionTooLarge) {
		t.Fatalf("many indexed: %v", err)
	}
}

// FuzzQPACKDecode decodes arbitrary field sections: no panic, and whatever
// decodes must survive our encoder and decode again to the same lines.
func FuzzQPACKDecode(f *testing.F) {
	f.Add(unhex(f, "0000 510b 2f69 6e64 6578 2e68 746d 6c"))
	f.Add(unhex(f, "0381 10 11"))
	f.Add(unhex(f, "0500 80 c1 81"))
	f.Add(unhex(f, "0000 d1 d7 50 8c f1e3c2e5f23a6ba0ab90f4ff c1"))
	f.Add(encodeAll([]field{{":status", "200"}, {"content-type", "text/plain"}, {"x-custom", "value"}}))
	f.Add(unhex(f, "0000 ff24"))
	f.Add(unhex(f, "0000 2f ff ff ff ff ff ff ff ff 0f"))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := decodeAll(b, 1<<16)
		if err != nil {
			return
		}
		again, err := decodeAll(encodeAll(got), 1<<16)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if len(again) != len(got) {
			t.Fatalf("re-decode: %d fields, want %d", len(again), len(got))
		}
		for i := range got {
			if again[i] != got[i] {
				t.Fatalf("field %d: %q, want %q", i, again[i], got[i])
			}
		}
	})
}

func BenchmarkQPACKEncode(b *testing.B) {
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = appendFieldSectionPrefix(buf[:0])
		buf = appendFieldLine(buf, ":status", "200", false)
		buf = appendFieldLine(buf, "content-type", "text/html; charset=utf-8", false)
		buf = appendFieldLine(buf, "content-length", "5242880", false)
		buf = appendFieldLine(buf, "date", "Mon, 21 Oct 2013 20:13:21 GMT", false)
		buf = appendFieldLine(buf, "x-request-id", "7c1e0f4e-1b2a-4c55-9d7a-2f8e", false)
	}
}

func BenchmarkQPACKDecode(b *testing.B) {
	enc := encodeAll([]field{
		{":method", "GET"}, {":scheme", "https"}, {":authority", "www.example.com"},
		{":path", "/index.html"}, {"user-agent", "Mozilla/5.0 (X11; Linux x86_64)"},
		{"accept", "*/*"}, {"accept-encoding", "gzip, deflate, br"},
	})
	b.ReportAllocs()
	for b.Loop() {
		decodeFieldSection(enc, 1<<16, func(string, string) error { return nil })
	}
}
