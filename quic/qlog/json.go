package qlog

import (
	"net/netip"
	"strconv"
	"time"
)

// Hand-written JSON: every helper appends to b and returns it, allocating
// nothing once b has room. Object members and array elements are separated
// by sep, which looks at the last byte written: after '{', '[' or ':' no
// comma is needed. This keeps the writers free of comma state.

// sep appends the ',' that separates a member or element from the one
// before it, if there is one.
func sep(b []byte) []byte {
	if n := len(b); n > 0 {
		switch b[n-1] {
		case '{', '[', ':':
			return b
		}
	}
	return append(b, ',')
}

// key appends `"k":`, preceded by a separator if needed. k must be a plain
// ASCII name (all qlog field names are: main schema §11.1, lower-case).
func key(b []byte, k string) []byte {
	b = sep(b)
	b = append(b, '"')
	b = append(b, k...)
	return append(b, '"', ':')
}

// obj appends `"k":{`.
func obj(b []byte, k string) []byte { return append(key(b, k), '{') }

// arr appends `"k":[`.
func arr(b []byte, k string) []byte { return append(key(b, k), '[') }

// fu appends `"k":v`.
func fu(b []byte, k string, v uint64) []byte {
	return strconv.AppendUint(key(b, k), v, 10)
}

// fs appends `"k":"v"` with v escaped.
func fs(b []byte, k, v string) []byte { return appendString(key(b, k), v) }

// fbool appends `"k":true` or `"k":false`.
func fbool(b []byte, k string, v bool) []byte {
	return strconv.AppendBool(key(b, k), v)
}

// fhex appends `"k":"<lower-case hex of v>"`: the qlog hexstring type
// (main schema §1.2).
func fhex(b []byte, k string, v []byte) []byte { return appendHex(key(b, k), v) }

// fms appends `"k":<d in milliseconds>` with microsecond resolution: the
// unit of every qlog duration (quic events §7.2, "all following rtt fields
// are expressed in ms").
func fms(b []byte, k string, d time.Duration) []byte { return appendMillis(key(b, k), d) }

// elem appends the separator before an array element.
func elem(b []byte) []byte { return sep(b) }

const hexDigits = "0123456789abcdef"

// appendHex appends v as a quoted lower-case hex string.
func appendHex(b []byte, v []byte) []byte {
	b = append(b, '"')
	for _, c := range v {
		b = append(b, hexDigits[c>>4], hexDigits[c&0x0f])
	}
	return append(b, '"')
}

// appendVersion appends a QUIC version as a QuicVersion, a hexstring of its
// four bytes (quic events §8.1: "00000001", "6b3343cf").
func appendVersion(b []byte, v uint32) []byte {
	b = append(b, '"')
	for shift := 28; shift >= 0; shift -= 4 {
		b = append(b, hexDigits[(v>>uint(shift))&0x0f])
	}
	return append(b, '"')
}

// appendMillis appends d as milliseconds with three decimals (microsecond
// resolution), formatted with integer arithmetic: faster than a float
// conversion and exact. Negative durations are written as negative numbers.
func appendMillis(b []byte, d time.Duration) []byte {
	us := d.Microseconds()
	if us < 0 {
		b = append(b, '-')
		us = -us // d >= -2^63 ns, so us fits after negation
	}
	b = strconv.AppendInt(b, us/1000, 10)
	frac := us % 1000
	return append(b, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
}

// appendAddr appends an IPAddress (quic events §8.4) in text form, with
// IPv4-mapped IPv6 addresses written as IPv4.
func appendAddr(b []byte, a netip.Addr) []byte {
	b = append(b, '"')
	b = a.Unmap().AppendTo(b)
	return append(b, '"')
}

// appendString appends s as a JSON string (RFC 8259 §7). Quotes,
// backslashes and control characters are escaped; each byte that is not
// part of valid UTF-8 becomes U+FFFD, as qlog requires UTF-8 text (main
// schema §11.1); U+2028 and U+2029 are escaped so that the output is also
// valid JavaScript.
func appendString[T ~string | ~[]byte](b []byte, s T) []byte {
	b = append(b, '"')
	start := 0 // s[start:i] is plain and not yet copied
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x80 && c != '"' && c != '\\' {
			i++
			continue
		}
		if c >= 0x80 {
			n, r := utf8Seq(s, i)
			if n > 0 && r != 0x2028 && r != 0x2029 {
				i += n
				continue
			}
			b = append(b, s[start:i]...)
			if n == 0 { // invalid: one byte becomes U+FFFD
				b = append(b, `\ufffd`...)
				i++
			} else { // U+2028 or U+2029
				b = append(b, `\u202`...)
				b = append(b, hexDigits[r&0xf])
				i += n
			}
			start = i
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"':
			b = append(b, '\\', '"')
		case '\\':
			b = append(b, '\\', '\\')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// utf8Seq returns the length and value of the valid UTF-8 sequence that
// starts at s[i] (s[i] >= 0x80), or 0 if there is none: RFC 3629 §4, so no
// overlong forms, no surrogates, nothing above U+10FFFF.
func utf8Seq[T ~string | ~[]byte](s T, i int) (int, rune) {
	c := s[i]
	var n int
	var r rune
	lo, hi := byte(0x80), byte(0xbf) // allowed range of the second byte
	switch {
	case c >= 0xc2 && c <= 0xdf:
		n, r = 2, rune(c&0x1f)
	case c == 0xe0:
		n, r, lo = 3, rune(c&0x0f), 0xa0
	case c == 0xed:
		n, r, hi = 3, rune(c&0x0f), 0x9f
	case c >= 0xe1 && c <= 0xef:
		n, r = 3, rune(c&0x0f)
	case c == 0xf0:
		n, r, lo = 4, rune(c&0x07), 0x90
	case c >= 0xf1 && c <= 0xf3:
		n, r = 4, rune(c&0x07)
	case c == 0xf4:
		n, r, hi = 4, rune(c&0x07), 0x8f
	default:
		return 0, 0
	}
	if i+n > len(s) {
		return 0, 0
	}
	for k := 1; k < n; k++ {
		d := s[i+k]
		if d < lo || d > hi {
			return 0, 0
		}
		lo, hi = 0x80, 0xbf
		r = r<<6 | rune(d&0x3f)
	}
	return n, r
}

// appendUint appends v in decimal.
func appendUint(b []byte, v uint64) []byte { return strconv.AppendUint(b, v, 10) }
