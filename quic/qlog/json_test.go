package qlog

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestAppendString(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", `""`},
		{"plain text", `"plain text"`},
		{`say "hi"`, `"say \"hi\""`},
		{`back\slash`, `"back\\slash"`},
		{"a\nb\rc\td", `"a\nb\rc\td"`},
		{"\x00\x01\x1f\x7f", `"\u0000\u0001\u001f` + "\x7f\""},
		{"héllo, 世界, 🎉", `"héllo, 世界, 🎉"`},
		{"line\u2028para\u2029", `"line\u2028para\u2029"`},
		{"\xff", `"\ufffd"`},
		{"a\xc3", `"a\ufffd"`},                             // truncated 2-byte sequence
		{"\xc3\x28", `"\ufffd("`},                          // bad continuation
		{"\xc0\xaf", `"\ufffd\ufffd"`},                     // overlong '/'
		{"\xe0\x80\xaf", `"\ufffd\ufffd\ufffd"`},           // overlong
		{"\xed\xa0\x80", `"\ufffd\ufffd\ufffd"`},           // surrogate U+D800
		{"\xf4\x90\x80\x80", `"\ufffd\ufffd\ufffd\ufffd"`}, // above U+10FFFF
		{"\xf0\x9f\x8e", `"\ufffd\ufffd\ufffd"`},           // truncated 4-byte sequence
		{"\xef\xbf\xbd", `"` + "\ufffd" + `"`},             // a real U+FFFD is kept
	}
	for _, tt := range tests {
		if got := string(appendString(nil, tt.in)); got != tt.want {
			t.Errorf("appendString(%q) = %s, want %s", tt.in, got, tt.want)
		}
		if got := string(appendString([]byte("x"), []byte(tt.in))); got != "x"+tt.want {
			t.Errorf("appendString([]byte %q) = %s, want x%s", tt.in, got, tt.want)
		}
	}
}

// expectDecoded is what a JSON reader must get back from appendString(s):
// s with every byte that is not part of valid UTF-8 replaced by U+FFFD, as
// ranging over a string decodes it.
func expectDecoded(s string) string {
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(r)
	}
	return b.String()
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "abc", "\"\\\n\x00", "\xff\xfe", "é\u2028", "\xed\xa0\x80", "\xf4\x8f\xbf\xbf"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := appendString(nil, s)
		if !utf8.Valid(out) {
			t.Fatalf("output is not UTF-8: %q", out)
		}
		for _, c := range out {
			if c < 0x20 {
				t.Fatalf("raw control byte in %q", out)
			}
		}
		var got string
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("output %q does not decode: %v", out, err)
		}
		if want := expectDecoded(s); got != want {
			t.Fatalf("decoded %q, want %q", got, want)
		}
	})
}

func TestAppendMillis(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0.000"},
		{time.Microsecond, "0.001"},
		{999 * time.Nanosecond, "0.000"},
		{25 * time.Millisecond, "25.000"},
		{1234567 * time.Microsecond, "1234.567"},
		{-1500 * time.Microsecond, "-1.500"},
		{1<<63 - 1, "9223372036854.775"},
		{-1 << 63, "-9223372036854.775"},
	}
	for _, tt := range tests {
		if got := string(appendMillis(nil, tt.d)); got != tt.want {
			t.Errorf("appendMillis(%v) = %s, want %s", tt.d, got, tt.want)
		}
	}
}

func TestAppendHexAndVersion(t *testing.T) {
	if got := string(appendHex(nil, []byte{0x00, 0xab, 0x7f})); got != `"00ab7f"` {
		t.Errorf("appendHex = %s", got)
	}
	if got := string(appendHex(nil, nil)); got != `""` {
		t.Errorf("appendHex(nil) = %s", got)
	}
	for v, want := range map[uint32]string{1: `"00000001"`, 0x6b3343cf: `"6b3343cf"`, 0: `"00000000"`, 0xffffffff: `"ffffffff"`} {
		if got := string(appendVersion(nil, v)); got != want {
			t.Errorf("appendVersion(%#x) = %s, want %s", v, got, want)
		}
	}
}

func TestSeparators(t *testing.T) {
	b := append([]byte(nil), '{')
	b = fu(b, "a", 1)
	b = arr(b, "l")
	b = appendUint(elem(b), 1)
	b = append(elem(b), '{')
	b = fbool(b, "x", true)
	b = append(b, '}', ']')
	b = obj(b, "o")
	b = fs(b, "s", "v")
	b = fhex(b, "h", []byte{1})
	b = fms(b, "d", time.Millisecond)
	b = append(b, '}', '}')
	want := `{"a":1,"l":[1,{"x":true}],"o":{"s":"v","h":"01","d":1.000}}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
}
