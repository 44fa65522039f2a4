package wire

import (
	"bytes"
	"testing"
)

func TestCryptoFrameRoundTrip(t *testing.T) {
	for _, off := range edgeValues {
		for _, dl := range []int{0, 1, 63, 64, 16383, 16384} {
			if off+uint64(dl) > MaxVarint {
				continue
			}
			checkFrame(t, CryptoFrame{Offset: off, Data: byteSeq(dl)}, ParseCryptoFrame)
		}
	}
	checkNoAllocs(t, CryptoFrame{Offset: 1000, Data: byteSeq(1000)}, ParseCryptoFrame)
}

func TestCryptoFrameGolden(t *testing.T) {
	checkGolden(t, CryptoFrame{Offset: 0, Data: []byte("hello")}, "06 00 05 68656c6c6f", ParseCryptoFrame)
	checkGolden(t, CryptoFrame{Offset: 16384, Data: nil}, "06 80004000 00", ParseCryptoFrame)
	checkGolden(t, CryptoFrame{Offset: MaxVarint}, "06 ffffffffffffffff 00", ParseCryptoFrame)
	f := CryptoFrame{Offset: 300, Data: byteSeq(70)}
	b := AppendCryptoFrameHeader(nil, f.Offset, len(f.Data))
	if len(b) != CryptoFrameHeaderLen(f.Offset, len(f.Data)) || !bytes.Equal(append(b, f.Data...), f.Append(nil)) {
		t.Errorf("header helpers disagree with Append: %x", b)
	}
}

func TestCryptoFrameErrors(t *testing.T) {
	for _, tc := range []struct{ name, hex string }{
		{"empty", ""},
		{"not CRYPTO", "08 00"},
		{"length past the packet", "06 00 03 6869"},
		{"huge length", "06 00 ffffffffffffffff 00"},
		// RFC 9000 §19.6: offset + length must not exceed 2^62-1.
		{"beyond 2^62-1", "06 ffffffffffffffff 01 00"},
		{"beyond 2^62-1 (2)", "06 fffffffffffffff0 4010 " + string(bytes.Repeat([]byte("00"), 16))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, n, err := ParseCryptoFrame(mustHex(t, tc.hex))
			if err == nil {
				t.Fatalf("parsed %+v, %d", f, n)
			}
			checkFrameError(t, err, FrameEncodingError, FrameTypeCrypto, true)
		})
	}
}

func TestCryptoDataFit(t *testing.T) {
	for _, off := range []uint64{0, 63, 64, 16384, 1 << 30} {
		hdr0 := 1 + VarintLen(off)
		for _, base := range []int{0, 63, 16383, 1<<30 - 1} {
			for space := base - 5; space < base+30; space++ {
				for _, want := range []int{-1, 0, 1, base - 1, base, base + 1, base + 2, space - hdr0 - 2, space - hdr0 - 1, space, 1 << 40} {
					n := CryptoDataFit(off, want, space)
					if n < 0 {
						if space >= hdr0+1 {
							t.Fatalf("CryptoDataFit(%d, %d, %d) = %d, but an empty frame fits", off, want, space, n)
						}
						continue
					}
					w := max(want, 0)
					if n > w || CryptoFrameHeaderLen(off, n)+n > space {
						t.Fatalf("CryptoDataFit(%d, %d, %d) = %d does not fit", off, want, space, n)
					}
					if n < w && CryptoFrameHeaderLen(off, n+1)+n+1 <= space {
						t.Fatalf("CryptoDataFit(%d, %d, %d) = %d, but %d fit", off, want, space, n, n+1)
					}
				}
			}
		}
	}
	for _, tc := range []struct {
		off         uint64
		want, space int
		n           int
	}{
		{0, 10, 2, -1},
		{0, 10, 3, 0},
		{0, 10, 13, 10},
		{0, 10, 12, 9},
		{0, 100, 66, 63},
		{64, 100, 68, 63},
		{64, 100, 69, 64},
		{0, 20000, 16388, 16383},
	} {
		if n := CryptoDataFit(tc.off, tc.want, tc.space); n != tc.n {
			t.Errorf("CryptoDataFit(%d, %d, %d) = %d, want %d", tc.off, tc.want, tc.space, n, tc.n)
		}
	}
}
