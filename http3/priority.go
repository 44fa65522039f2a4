package http3

// Extensible priorities, RFC 9218: the Priority header field and the
// PRIORITY_UPDATE frame carry a Structured Field Dictionary (RFC 8941
// §3.2) whose "u" member is the urgency (an integer 0..7, default 3) and
// whose "i" member says whether the response may be interleaved with
// others of the same urgency (a boolean, default false).

// priority is an urgency and incremental flag, as stream.SetPriority
// takes them.
type priority struct {
	urgency     uint8
	incremental bool
}

// defaultPriority is RFC 9218 §4.1 and §4.2's default: u=3, not
// incremental.
var defaultPriority = priority{urgency: 3}

// parsePriority parses a Priority field value over base. A member with a
// value out of range or of the wrong type leaves that parameter as it was
// (§4); a value that is not a valid Dictionary is ignored whole, as RFC
// 8941 §4.2 wants, and ok is false.
func parsePriority(v string, base priority) (p priority, ok bool) {
	p = base
	sp := sfParser{s: v}
	sp.skipSP()
	if sp.done() {
		return base, true
	}
	for {
		key, ok := sp.key()
		if !ok {
			return base, false
		}
		item := sfItem{kind: sfBoolean, b: true}
		if sp.peek() == '=' {
			sp.i++
			if sp.peek() == '(' {
				if !sp.innerList() {
					return base, false
				}
				item = sfItem{kind: sfInnerList}
			} else if item, ok = sp.bareItem(); !ok {
				return base, false
			}
		}
		if !sp.params() {
			return base, false
		}
		switch key {
		case "u":
			if item.kind == sfInteger && item.n >= 0 && item.n <= 7 {
				p.urgency = uint8(item.n)
			}
		case "i":
			if item.kind == sfBoolean {
				p.incremental = item.b
			}
		}
		sp.skipOWS()
		if sp.done() {
			return p, true
		}
		if sp.peek() != ',' {
			return base, false
		}
		sp.i++
		sp.skipOWS()
		if sp.done() {
			return base, false // a trailing comma
		}
	}
}

// sfParser walks a Structured Field (RFC 8941 §4.2) far enough to find
// dictionary members and their bare items.
type sfParser struct {
	s string
	i int
}

type sfKind uint8

const (
	sfInteger sfKind = iota
	sfDecimal
	sfString
	sfToken
	sfBytes
	sfBoolean
	sfInnerList
)

// sfItem is a parsed bare item; only integers and booleans keep a value.
type sfItem struct {
	kind sfKind
	n    int64
	b    bool
}

func (p *sfParser) done() bool { return p.i >= len(p.s) }

func (p *sfParser) peek() byte {
	if p.done() {
		return 0
	}
	return p.s[p.i]
}

func (p *sfParser) skipSP() {
	for !p.done() && p.s[p.i] == ' ' {
		p.i++
	}
}

func (p *sfParser) skipOWS() {
	for !p.done() && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func isLCAlpha(c byte) bool { return c >= 'a' && c <= 'z' }
func isDigit(c byte) bool   { return c >= '0' && c <= '9' }
func isAlpha(c byte) bool   { return isLCAlpha(c) || c >= 'A' && c <= 'Z' }

// isTChar is RFC 9110 §5.6.2's tchar.
func isTChar(c byte) bool {
	if isAlpha(c) || isDigit(c) {
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

// key parses a key (RFC 8941 §4.2.3.3).
func (p *sfParser) key() (string, bool) {
	start := p.i
	if c := p.peek(); !isLCAlpha(c) && c != '*' {
		return "", false
	}
	p.i++
	for !p.done() {
		c := p.s[p.i]
		if !isLCAlpha(c) && !isDigit(c) && c != '_' && c != '-' && c != '.' && c != '*' {
			break
		}
		p.i++
	}
	return p.s[start:p.i], true
}

// params parses parameters (RFC 8941 §4.2.3.2), keeping none.
func (p *sfParser) params() bool {
	for p.peek() == ';' {
		p.i++
		p.skipSP()
		if _, ok := p.key(); !ok {
			return false
		}
		if p.peek() == '=' {
			p.i++
			if _, ok := p.bareItem(); !ok {
				return false
			}
		}
	}
	return true
}

// innerList parses an inner list (RFC 8941 §4.2.1.2) and its parameters.
func (p *sfParser) innerList() bool {
	p.i++ // '('
	for {
		p.skipSP()
		if p.peek() == ')' {
			p.i++
			return p.params()
		}
		if _, ok := p.bareItem(); !ok || !p.params() {
			return false
		}
		if c := p.peek(); c != ' ' && c != ')' {
			return false
		}
	}
}

// bareItem parses a bare item (RFC 8941 §4.2.3.1).
func (p *sfParser) bareItem() (sfItem, bool) {
	c := p.peek()
	switch {
	case c == '-' || isDigit(c):
		return p.number()
	case c == '"':
		return p.str()
	case c == '*' || isAlpha(c):
		p.i++
		for !p.done() && (isTChar(p.s[p.i]) || p.s[p.i] == ':' || p.s[p.i] == '/') {
			p.i++
		}
		return sfItem{kind: sfToken}, true
	case c == ':':
		p.i++
		for !p.done() && p.s[p.i] != ':' {
			c := p.s[p.i]
			if !isAlpha(c) && !isDigit(c) && c != '+' && c != '/' && c != '=' {
				return sfItem{}, false
			}
			p.i++
		}
		if p.done() {
			return sfItem{}, false
		}
		p.i++
		return sfItem{kind: sfBytes}, true
	case c == '?':
		p.i++
		switch p.peek() {
		case '0':
			p.i++
			return sfItem{kind: sfBoolean, b: false}, true
		case '1':
			p.i++
			return sfItem{kind: sfBoolean, b: true}, true
		}
	}
	return sfItem{}, false
}

// number parses an integer or decimal (RFC 8941 §4.2.4).
func (p *sfParser) number() (sfItem, bool) {
	neg := false
	if p.peek() == '-' {
		neg = true
		p.i++
	}
	if !isDigit(p.peek()) {
		return sfItem{}, false
	}
	var n int64
	digits, frac, decimal := 0, 0, false
scan:
	for !p.done() {
		c := p.s[p.i]
		switch {
		case isDigit(c):
			if decimal {
				frac++
				if frac > 3 {
					return sfItem{}, false
				}
			} else {
				digits++
				if digits > 15 {
					return sfItem{}, false
				}
				n = n*10 + int64(c-'0')
			}
		case c == '.' && !decimal:
			if digits > 12 {
				return sfItem{}, false
			}
			decimal = true
		default:
			break scan
		}
		p.i++
	}
	if decimal {
		if frac == 0 {
			return sfItem{}, false
		}
		return sfItem{kind: sfDecimal}, true
	}
	if neg {
		n = -n
	}
	return sfItem{kind: sfInteger, n: n}, true
}

// str parses a string (RFC 8941 §4.2.5).
func (p *sfParser) str() (sfItem, bool) {
	p.i++ // '"'
	for !p.done() {
		c := p.s[p.i]
		p.i++
		switch {
		case c == '\\':
			if p.done() || (p.s[p.i] != '"' && p.s[p.i] != '\\') {
				return sfItem{}, false
			}
			p.i++
		case c == '"':
			return sfItem{kind: sfString}, true
		case c < 0x20 || c > 0x7e:
			return sfItem{}, false
		}
	}
	return sfItem{}, false
}
