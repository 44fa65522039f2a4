package wire

import (
	"bytes"
	"testing"
)

func TestParseVarintRFCExamples(t *testing.T) {
	// RFC 9000 Appendix A.1.
	for _, tc := range []struct {
		hex string
		v   uint64
	}{
		{"c2197c5eff14e88c", 151288809941952652},
		{"9d7f3e7d", 494878333},
		{"7bbd", 15293},
		{"25", 37},
		{"4025", 37},
	} {
		b := mustHex(t, tc.hex)
		v, n, err := ParseVarint(append(b, 0xff)) // a following byte is not read
		if err != nil || v != tc.v || n != len(b) {
			t.Errorf("ParseVarint(%s) = %d, %d, %v; want %d, %d", tc.hex, v, n, err, tc.v, len(b))
		}
		if n == VarintLen(tc.v) {
			if got := AppendVarint(nil, tc.v); !bytes.Equal(got, b) {
				t.Errorf("AppendVarint(%d) = %x, want %s", tc.v, got, tc.hex)
			}
		}
		if got := AppendVarintN(nil, tc.v, len(b)); !bytes.Equal(got, b) {
			t.Errorf("AppendVarintN(%d, %d) = %x, want %s", tc.v, len(b), got, tc.hex)
		}
	}
}

func TestVarintBoundaries(t *testing.T) {
	for _, tc := range []struct {
		v   uint64
		n   int
		hex string
	}{
		{0, 1, "00"},
		{63, 1, "3f"},
		{64, 2, "4040"},
		{16383, 2, "7fff"},
		{16384, 4, "80004000"},
		{1<<30 - 1, 4, "bfffffff"},
		{1 << 30, 8, "c000000040000000"},
		{MaxVarint, 8, "ffffffffffffffff"},
	} {
		if l := VarintLen(tc.v); l != tc.n {
			t.Errorf("VarintLen(%d) = %d, want %d", tc.v, l, tc.n)
		}
		want := mustHex(t, tc.hex)
		b := AppendVarint([]byte{0x99}, tc.v)
		if !bytes.Equal(b[1:], want) || b[0] != 0x99 {
			t.Errorf("AppendVarint(%d) = %x, want 99%x", tc.v, b, want)
		}
		v, n, err := ParseVarint(want)
		if err != nil || v != tc.v || n != tc.n {
			t.Errorf("ParseVarint(%x) = %d, %d, %v", want, v, n, err)
		}
		// Every proper prefix is truncated.
		for i := 0; i < len(want); i++ {
			if _, n, err := ParseVarint(want[:i]); err == nil || n != 0 {
				t.Errorf("ParseVarint(%x) did not fail (n=%d)", want[:i], n)
			} else {
				checkFrameError(t, err, FrameEncodingError, 0, false)
			}
		}
		// Every longer length also holds the value and parses back.
		for _, l := range []int{1, 2, 4, 8} {
			if l < tc.n {
				continue
			}
			b := AppendVarintN(nil, tc.v, l)
			v, n, err := ParseVarint(b)
			if len(b) != l || err != nil || v != tc.v || n != l {
				t.Errorf("AppendVarintN(%d, %d) = %x: parses as %d, %d, %v", tc.v, l, b, v, n, err)
			}
		}
	}
	if l := VarintLen(MaxVarint + 1); l != 8 {
		t.Errorf("VarintLen(2^62) = %d", l)
	}
}

func mustPanic(t *testing.T, name string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s did not panic", name)
		}
	}()
	f()
}

func TestVarintEncodePanics(t *testing.T) {
	mustPanic(t, "AppendVarint(2^62)", func() { AppendVarint(nil, MaxVarint+1) })
	mustPanic(t, "AppendVarint(2^64-1)", func() { AppendVarint(nil, ^uint64(0)) })
	for _, tc := range []struct {
		v uint64
		n int
	}{
		{64, 1}, {16384, 2}, {1 << 30, 4}, {MaxVarint + 1, 8}, {0, 0}, {0, 3}, {0, 5}, {0, 16}, {0, -1},
	} {
		mustPanic(t, "AppendVarintN", func() { AppendVarintN(nil, tc.v, tc.n) })
	}
	mustPanic(t, "PutVarintN into a short slice", func() { PutVarintN(make([]byte, 1, 8), 5, 2) })
	mustPanic(t, "PutVarintN too large", func() { PutVarintN(make([]byte, 2), 16384, 2) })
}

func TestPutVarintN(t *testing.T) {
	// Reserve a 2-byte Length, write after it, then fill it in.
	b := []byte{0xaa}
	b = AppendVarintN(b, 0, 2)
	b = append(b, "payload"...)
	PutVarintN(b[1:], 7, 2)
	if want := mustHex(t, "aa 4007 7061796c6f6164"); !bytes.Equal(b, want) {
		t.Errorf("got %x, want %x", b, want)
	}
	for _, l := range []int{1, 2, 4, 8} {
		buf := bytes.Repeat([]byte{0xee}, 10)
		PutVarintN(buf[1:1+l], 37, l)
		v, n, err := ParseVarint(buf[1:])
		if err != nil || v != 37 || n != l || buf[0] != 0xee || buf[1+l] != 0xee {
			t.Errorf("PutVarintN(37, %d): %x", l, buf)
		}
	}
	if allocs := testing.AllocsPerRun(100, func() { PutVarintN(b[1:], 9, 2) }); allocs != 0 {
		t.Errorf("PutVarintN allocates %v", allocs)
	}
}

func TestMaxPrefixedLen(t *testing.T) {
	for avail := -1; avail < 20000; avail++ {
		n := maxPrefixedLen(avail)
		if avail < 1 {
			if n != -1 {
				t.Fatalf("maxPrefixedLen(%d) = %d, want -1", avail, n)
			}
			continue
		}
		if n < 0 || n+VarintLen(uint64(n)) > avail || (n+1)+VarintLen(uint64(n+1)) <= avail {
			t.Fatalf("maxPrefixedLen(%d) = %d is not the largest fit", avail, n)
		}
	}
	for _, avail := range []int{1<<30 - 1, 1 << 30, 1<<30 + 3, 1<<30 + 4, 1<<30 + 8, 1 << 40} {
		n := maxPrefixedLen(avail)
		if n+VarintLen(uint64(n)) > avail || (n+1)+VarintLen(uint64(n+1)) <= avail {
			t.Fatalf("maxPrefixedLen(%d) = %d is not the largest fit", avail, n)
		}
	}
}

func FuzzParseVarint(f *testing.F) {
	for _, s := range []string{"", "25", "4025", "7bbd", "9d7f3e7d", "c2197c5eff14e88c", "c0", "ff", "8000"} {
		f.Add(mustHex(f, s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, n, err := ParseVarint(b)
		if err != nil {
			if len(b) > 0 && len(b) >= 1<<(b[0]>>6) {
				t.Fatalf("ParseVarint(%x) failed with enough bytes: %v", b, err)
			}
			return
		}
		if v > MaxVarint || n != 1<<(b[0]>>6) || n > len(b) {
			t.Fatalf("ParseVarint(%x) = %d, %d", b, v, n)
		}
		if re := AppendVarintN(nil, v, n); !bytes.Equal(re, b[:n]) {
			t.Fatalf("AppendVarintN(%d, %d) = %x, input %x", v, n, re, b[:n])
		}
		if re := AppendVarint(nil, v); len(re) != VarintLen(v) || len(re) > n {
			t.Fatalf("AppendVarint(%d) = %x", v, re)
		}
	})
}
