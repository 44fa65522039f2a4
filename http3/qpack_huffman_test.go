package http3

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"golang.org/x/net/http2/hpack"
)

// TestHuffmanTableCanonical checks the typed-in table for internal
// consistency: codes fit their lengths, the lengths satisfy Kraft's
// equality (a complete prefix code), and the codes are exactly the
// canonical assignment for those lengths, as RFC 7541 Appendix B's are.
func TestHuffmanTableCanonical(t *testing.T) {
	var kraft uint64 // in units of 2^-30
	for s := range huffmanCode {
		l := huffmanLen[s]
		if l < 5 || l > 30 {
			t.Fatalf("symbol %d: length %d", s, l)
		}
		if huffmanCode[s]>>l != 0 {
			t.Fatalf("symbol %d: code %#x does not fit %d bits", s, huffmanCode[s], l)
		}
		kraft += 1 << (30 - l)
	}
	if kraft != 1<<30 {
		t.Fatalf("Kraft sum %d/2^30, want 1", kraft)
	}
	code, prevLen := uint32(0), huffmanLen[huffSorted[0]]
	for i, s := range huffSorted {
		l := huffmanLen[s]
		if i > 0 {
			code = (code + 1) << (l - prevLen)
		}
		prevLen = l
		if huffmanCode[s] != code {
			t.Fatalf("symbol %d: code %#x, canonical %#x", s, huffmanCode[s], code)
		}
	}
	if huffmanCode[huffmanEOS] != 1<<30-1 || huffmanLen[huffmanEOS] != 30 {
		t.Fatal("EOS is not 30 ones")
	}
}

// RFC 7541 Appendix C.4 and C.6: Huffman-coded literals.
var huffmanVectors = []struct{ in, hex string }{
	{"www.example.com", "f1e3c2e5f23a6ba0ab90f4ff"},
	{"no-cache", "a8eb10649cbf"},
	{"custom-key", "25a849e95ba97d7f"},
	{"custom-value", "25a849e95bb8e8b4bf"},
	{"302", "6402"},
	{"307", "640eff"},
	{"private", "aec3771a4b"},
	{"Mon, 21 Oct 2013 20:13:21 GMT", "d07abe941054d444a8200595040b8166e082a62d1bff"},
	{"Mon, 21 Oct 2013 20:13:22 GMT", "d07abe941054d444a8200595040b8166e084a62d1bff"},
	{"https://www.example.com", "9d29ad171863c78f0b97c8e9ae82ae43d3"},
	{"gzip", "9bd9ab"},
	{"foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
		"94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007"},
	{"", ""},
}

func TestHuffmanVectors(t *testing.T) {
	for _, v := range huffmanVectors {
		want, _ := hex.DecodeString(v.hex)
		got := appendHuffman(nil, v.in)
		if !bytes.Equal(got, want) {
			t.Errorf("encode %q = %x, want %x", v.in, got, want)
		}
		if n := huffmanEncodedLen(v.in); n != len(want) {
			t.Errorf("huffmanEncodedLen(%q) = %d, want %d", v.in, n, len(want))
		}
		dec, err := appendHuffmanDecode(nil, want, 1<<20)
		if err != nil || string(dec) != v.in {
			t.Errorf("decode %x = %q, %v; want %q", want, dec, err, v.in)
		}
	}
}

// TestHuffmanAgainstHPACK compares every single byte and random strings
// with golang.org/x/net/http2/hpack, an independent implementation of the
// same table: a typo in one of our 257 entries cannot hide from it.
func TestHuffmanAgainstHPACK(t *testing.T) {
	for c := 0; c < 256; c++ {
		s := strings.Repeat(string([]byte{byte(c)}), 3)
		if got, want := appendHuffman(nil, s), hpack.AppendHuffmanString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("byte %#x: %x, hpack %x", c, got, want)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		b := make([]byte, r.IntN(64))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		s := string(b)
		enc := appendHuffman(nil, s)
		if want := hpack.AppendHuffmanString(nil, s); !bytes.Equal(enc, want) {
			t.Fatalf("%x: %x, hpack %x", b, enc, want)
		}
		dec, err := appendHuffmanDecode(nil, enc, 1<<20)
		if err != nil || string(dec) != s {
			t.Fatalf("round trip %x: %x, %v", b, dec, err)
		}
	}
}

func TestHuffmanDecodeErrors(t *testing.T) {
	eos := appendHuffman(nil, "a") // 00011 + 111 padding
	tests := []struct {
		name string
		in   []byte
		max  int
		err  error
	}{
		// 8 bits of padding: a whole byte of ones after a complete code.
		{"padding of 8 ones", []byte{eos[0], 0xff}, 100, errHuffman},
		// 'a' then padding of zeros instead of ones.
		{"padding not ones", []byte{0x18}, 100, errHuffman},
		// The 30-bit EOS symbol, then 2 bits of ones.
		{"EOS in string", []byte{0xff, 0xff, 0xff, 0xff}, 100, errHuffman},
		// A truncated code: 11111110 starts '!' (11111110 00).
		{"truncated code", []byte{0xfe}, 100, errHuffman},
		{"over the limit", appendHuffman(nil, "abcdef"), 5, errFieldSectionTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := appendHuffmanDecode(nil, tt.in, tt.max)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
		})
	}
	// The limit is exact: six bytes fit in six.
	if out, err := appendHuffmanDecode(nil, appendHuffman(nil, "abcdef"), 6); err != nil || string(out) != "abcdef" {
		t.Fatalf("limit 6: %q, %v", out, err)
	}
}

func BenchmarkHuffmanEncode(b *testing.B) {
	s := "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
	buf := make([]byte, 0, 256)
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	for b.Loop() {
		buf = appendHuffman(buf[:0], s)
	}
}

func BenchmarkHuffmanDecode(b *testing.B) {
	s := "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
	enc := appendHuffman(nil, s)
	buf := make([]byte, 0, 256)
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = appendHuffmanDecode(buf[:0], enc, 1<<20)
	}
}
