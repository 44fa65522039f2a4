package http3

import (
	"net/http"
	"strconv"
	"strings"
)

// Field sections as HTTP messages: validation of what we decode (RFC 9114
// §4.2, §4.3) and the translation between field lines and http.Header.

// fieldBlock collects one decoded field section: the pseudo-header fields
// and the regular fields, with what validation needs.
type fieldBlock struct {
	method, scheme, authority, path, protocol, status string
	pseudoSeen                                        uint8 // bit set per pseudo-header
	regularSeen                                       bool
	header                                            http.Header
	cookies                                           []string
}

const (
	seenMethod uint8 = 1 << iota
	seenScheme
	seenAuthority
	seenPath
	seenProtocol
	seenStatus
)

// blockKind says which pseudo-header fields a section may carry.
type blockKind uint8

const (
	requestBlock blockKind = iota
	responseBlock
	trailerBlock
)

// malformed is the stream error for a malformed message (§4.1.2).
func malformed(reason string) *Error {
	return streamError(ErrCodeMessageError, reason)
}

// add takes one decoded field line. Pseudo-header fields must come first,
// be defined for the kind of section, and appear once (§4.3); names must be
// lowercase and valid, values valid (§4.2); connection-specific fields are
// malformed, but for TE: trailers in a request (§4.2).
func (b *fieldBlock) add(kind blockKind, name, value string) error {
	if !validFieldValue(value) {
		return malformed("invalid field value")
	}
	if strings.HasPrefix(name, ":") {
		if kind == trailerBlock {
			return malformed("pseudo-header field in trailers")
		}
		if b.regularSeen {
			return malformed("pseudo-header field after regular fields")
		}
		var bit uint8
		var dst *string
		switch {
		case kind == requestBlock && name == ":method":
			bit, dst = seenMethod, &b.method
		case kind == requestBlock && name == ":scheme":
			bit, dst = seenScheme, &b.scheme
		case kind == requestBlock && name == ":authority":
			bit, dst = seenAuthority, &b.authority
		case kind == requestBlock && name == ":path":
			bit, dst = seenPath, &b.path
		case kind == requestBlock && name == ":protocol":
			bit, dst = seenProtocol, &b.protocol
		case kind == responseBlock && name == ":status":
			bit, dst = seenStatus, &b.status
		default:
			return malformed("undefined pseudo-header field " + name)
		}
		if b.pseudoSeen&bit != 0 {
			return malformed("repeated pseudo-header field " + name)
		}
		b.pseudoSeen |= bit
		*dst = value
		return nil
	}
	b.regularSeen = true
	if !validFieldName(name) {
		return malformed("invalid field name")
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c >= 'A' && c <= 'Z' {
			return malformed("uppercase field name")
		}
	}
	switch name {
	case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade":
		return malformed("connection-specific field " + name)
	case "te":
		if kind != requestBlock || value != "trailers" {
			return malformed("TE other than trailers")
		}
	case "cookie":
		// Cookie lines may be split; they are joined with "; " (§4.2.1).
		b.cookies = append(b.cookies, value)
		return nil
	}
	if b.header == nil {
		b.header = make(http.Header)
	}
	key := canonicalKey(name)
	b.header[key] = append(b.header[key], value)
	return nil
}

// finish joins the cookie lines into one Cookie field.
func (b *fieldBlock) finish() {
	if len(b.cookies) == 0 {
		return
	}
	if b.header == nil {
		b.header = make(http.Header)
	}
	b.header["Cookie"] = []string{strings.Join(b.cookies, "; ")}
}

// decodeBlock decodes an encoded field section into a fieldBlock.
func decodeBlock(section []byte, kind blockKind, maxSize uint64) (*fieldBlock, error) {
	b := &fieldBlock{}
	err := decodeFieldSection(section, maxSize, func(name, value string) error {
		return b.add(kind, name, value)
	})
	if err != nil {
		return nil, err
	}
	b.finish()
	return b, nil
}

// contentLength returns the Content-Length of h: -1 when absent, an error
// when invalid or when its values disagree (§4.1.2).
func contentLength(h http.Header) (int64, error) {
	vals := h["Content-Length"]
	if len(vals) == 0 {
		return -1, nil
	}
	var n int64 = -1
	for _, v := range vals {
		for _, part := range strings.Split(v, ",") {
			part = strings.TrimSpace(part)
			m, err := strconv.ParseInt(part, 10, 64)
			if err != nil || m < 0 || part[0] == '+' {
				return 0, malformed("invalid content-length")
			}
			if n >= 0 && m != n {
				return 0, malformed("conflicting content-length values")
			}
			n = m
		}
	}
	return n, nil
}

// commonHeaders are names whose canonical and lowercase forms we map
// without allocating.
var commonHeaders = []string{
	"accept", "accept-charset", "accept-encoding", "accept-language", "accept-ranges", "age",
	"access-control-allow-credentials", "access-control-allow-headers", "access-control-allow-methods",
	"access-control-allow-origin", "access-control-expose-headers", "access-control-max-age",
	"access-control-request-headers", "access-control-request-method", "allow", "alt-svc",
	"authorization", "cache-control", "content-disposition", "content-encoding", "content-language",
	"content-length", "content-location", "content-range", "content-security-policy", "content-type",
	"cookie", "date", "etag", "expect", "expires", "forwarded", "from", "host", "if-match",
	"if-modified-since", "if-none-match", "if-range", "if-unmodified-since", "last-modified", "link",
	"location", "max-forwards", "origin", "priority", "proxy-authenticate", "proxy-authorization",
	"range", "referer", "refresh", "retry-after", "server", "set-cookie", "strict-transport-security",
	"te", "trailer", "user-agent", "vary", "via", "www-authenticate", "x-content-type-options",
	"x-forwarded-for", "x-forwarded-proto", "x-frame-options", "x-requested-with", "x-xss-protection",
}

var (
	canonicalOf = make(map[string]string, len(commonHeaders)) // lowercase → canonical
	lowerOf     = make(map[string]string, len(commonHeaders)) // canonical → lowercase
)

func init() {
	for _, h := range commonHeaders {
		c := http.CanonicalHeaderKey(h)
		canonicalOf[h] = c
		lowerOf[c] = h
	}
}

// canonicalKey is http.CanonicalHeaderKey of a lowercase name.
func canonicalKey(name string) string {
	if c, ok := canonicalOf[name]; ok {
		return c
	}
	return http.CanonicalHeaderKey(name)
}

// lowerKey returns the lowercase form of a header key for the wire
// (§4.2).
func lowerKey(key string) string {
	if l, ok := lowerOf[key]; ok {
		return l
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(key)
		}
	}
	return key
}

// isConnectionSpecific reports the fields HTTP/3 must not carry (§4.2).
func isConnectionSpecific(lower string) bool {
	switch lower {
	case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade":
		return true
	}
	return false
}

// appendHeaderFields appends the regular fields of a response header or a
// trailer section to a field section, lowercased. It skips
// connection-specific fields (TE too: only a request header may carry it,
// RFC 9114 §4.2), those for which skip returns true, and invalid names or
// values (they could only produce a malformed message).
func appendHeaderFields(b []byte, h http.Header, skip func(lower string) bool) []byte {
	for k, vs := range h {
		name := lowerKey(k)
		if isConnectionSpecific(name) || name == "te" || (skip != nil && skip(name)) || !validFieldName(name) {
			continue
		}
		neverIndex := name == "authorization" || name == "proxy-authorization" || name == "cookie" || name == "set-cookie"
		for _, v := range vs {
			if !validFieldValue(v) {
				continue
			}
			b = appendFieldLine(b, name, v, neverIndex)
		}
	}
	return b
}

// headerFieldsSize is the size of h's fields as §4.2.2 counts it.
func headerFieldsSize(h http.Header) uint64 {
	var n uint64
	for k, vs := range h {
		for _, v := range vs {
			n += fieldLineSize(k, v)
		}
	}
	return n
}

// statusStrings holds the decimal text of every status code.
var statusStrings [1000]string

func init() {
	for i := 100; i < len(statusStrings); i++ {
		statusStrings[i] = strconv.Itoa(i)
	}
}

// parseStatus parses a :status value: exactly three digits (RFC 9110
// §15).
func parseStatus(s string) (int, bool) {
	if len(s) != 3 {
		return 0, false
	}
	n := 0
	for i := 0; i < 3; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, n >= 100
}

// validFieldName reports whether name is a token (RFC 9110 §5.1).
func validFieldName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if !isTChar(name[i]) {
			return false
		}
	}
	return true
}

// validFieldValue reports whether v holds only field-vchar, SP and HTAB
// (RFC 9110 §5.5): no control characters, CR, LF and NUL above all.
func validFieldValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}
