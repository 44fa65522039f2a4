package http3

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"testing"
)

func TestPrefixedInt(t *testing.T) {
	tests := []struct {
		n     uint8
		flags byte
		v     uint64
		hex   string
	}{
		// RFC 7541 C.1.1-C.1.3.
		{5, 0, 10, "0a"},
		{5, 0, 1337, "1f9a0a"},
		{8, 0, 42, "2a"},
		// Prefix boundaries: 2^N-2 fits, 2^N-1 takes a zero continuation.
		{5, 0xe0, 30, "fe"},
		{5, 0xe0, 31, "ff00"},
		{5, 0, 31 + 127, "1f7f"},
		{5, 0, 31 + 128, "1f8001"},
		{8, 0, 254, "fe"},
		{8, 0, 255, "ff00"},
		{1, 0xfe, 0, "fe"},
		{1, 0xfe, 1, "ff00"},
		{6, 0xc0, 98, "ff23"},
		// 62 bits, the most QPACK must handle (RFC 9204 §4.1.1).
		{8, 0, maxQPACKInt, "ff80feffffffffffff3f"},
		{3, 0, maxQPACKInt, "07f8ffffffffffffff3f"},
	}
	for _, tt := range tests {
		want, _ := hex.DecodeString(tt.hex)
		got := appendPrefixedInt(nil, tt.flags, tt.n, tt.v)
		if !bytes.Equal(got, want) {
			t.Errorf("append(%d, N=%d) = %x, want %x", tt.v, tt.n, got, want)
		}
		v, n, err := parsePrefixedInt(append(want, 0xaa), tt.n)
		if err != nil || v != tt.v || n != len(want) {
			t.Errorf("parse %x N=%d = %d, %d, %v; want %d, %d", want, tt.n, v, n, err, tt.v, len(want))
		}
		br := bufio.NewReader(bytes.NewReader(want[1:]))
		if v, err := readPrefixedInt(want[0], tt.n, br); err != nil || v != tt.v {
			t.Errorf("read %x N=%d = %d, %v", want, tt.n, v, err)
		}
	}
}

func TestPrefixedIntErrors(t *testing.T) {
	tests := []struct {
		name string
		hex  string
		n    uint8
		err  error
	}{
		{"empty", "", 5, errIntTruncated},
		{"no continuation", "1f", 5, errIntTruncated},
		{"continuation cut", "1f8080", 5, errIntTruncated},
		{"2^62", "ff81feffffffffffff3f", 8, errIntOverflow},
		{"64-bit", "ff80ffffffffffffffff01", 8, errIntOverflow},
		// Leading zero groups: ten continuation bytes are too many even
		// though the value is small.
		{"overlong", "1f80808080808080808000", 5, errIntOverflow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, _ := hex.DecodeString(tt.hex)
			if _, _, err := parsePrefixedInt(b, tt.n); !errors.Is(err, tt.err) {
				t.Fatalf("parse: %v, want %v", err, tt.err)
			}
			if len(b) == 0 {
				return
			}
			want := tt.err
			if want == errIntTruncated {
				want = io.EOF
			}
			if _, err := readPrefixedInt(b[0], tt.n, bufio.NewReader(bytes.NewReader(b[1:]))); !errors.Is(err, want) {
				t.Fatalf("read: %v, want %v", err, want)
			}
		})
	}
}
