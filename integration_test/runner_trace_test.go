package integration_test

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// The interop runner judges a test case from packet captures. A trace is
// the proxy's version of one: every datagram the proxy took in, with the
// clear-text parts of its packets' headers (RFC 9000 §17), recorded by a
// hook. The checks read what the runner reads, as far as it shows without
// decryption.

// packetHeader is the clear-text header of one packet of a datagram.
type packetHeader struct {
	kind       packetKind
	version    uint32 // 0 for a short header
	dcid, scid []byte // long headers only
	token      []byte // Initial: the token; Retry: the Retry token
	size       int    // bytes of the datagram the packet takes
}

// traceEntry is one datagram the proxy took in.
type traceEntry struct {
	dir     direction
	at      time.Time
	size    int
	ecn     byte
	back    netip.AddrPort // the flow's server-facing address then
	dropped bool           // dropped by a hook of the test
	packets []packetHeader
	data    []byte // the datagram, if the recorder keeps them
}

// has reports whether the datagram holds a packet of kind k.
func (e *traceEntry) has(k packetKind) bool {
	for _, p := range e.packets {
		if p.kind == k {
			return true
		}
	}
	return false
}

// recorder is a hook that records a trace. Hooks of the two directions run
// concurrently: entries are guarded by mu.
type recorder struct {
	keepData bool

	mu      sync.Mutex
	entries []traceEntry
}

// hook records every datagram, after asking inner (if not nil) what to do
// with it.
func (r *recorder) hook(inner func(*datagramInfo) verdict) func(*datagramInfo) verdict {
	return func(d *datagramInfo) verdict {
		var v verdict
		if inner != nil {
			v = inner(d)
		}
		e := traceEntry{dir: d.Dir, at: time.Now(), size: len(d.Data), ecn: d.ECN, back: d.Back, dropped: v.Drop}
		if r.keepData {
			e.data = slices.Clone(d.Data)
			e.packets = parseHeaders(e.data)
		} else {
			// d.Data is the proxy's buffer: keep copies of the header fields.
			e.packets = parseHeaders(d.Data)
			for i := range e.packets {
				p := &e.packets[i]
				p.dcid, p.scid, p.token = slices.Clone(p.dcid), slices.Clone(p.scid), slices.Clone(p.token)
			}
		}
		r.mu.Lock()
		r.entries = append(r.entries, e)
		r.mu.Unlock()
		return v
	}
}

// trace returns the entries so far.
func (r *recorder) trace() trace {
	r.mu.Lock()
	defer r.mu.Unlock()
	return trace(slices.Clone(r.entries))
}

// trace is a recorded list of datagrams, in the order the proxy took them in.
type trace []traceEntry

// packets calls f with every packet of kind k sent in direction dir, and
// the entry of its datagram.
func (tr trace) packets(dir direction, k packetKind, f func(e *traceEntry, p *packetHeader)) {
	for i := range tr {
		e := &tr[i]
		if e.dir != dir {
			continue
		}
		for j := range e.packets {
			if e.packets[j].kind == k {
				f(e, &e.packets[j])
			}
		}
	}
}

// handshakes counts QUIC handshakes as the runner does: the distinct source
// connection IDs of the server's Initial packets.
func (tr trace) handshakes() int {
	return len(tr.serverIDs())
}

// serverIDs are the distinct source connection IDs of the server's Initial
// packets, in order of appearance.
func (tr trace) serverIDs() []string {
	var ids []string
	tr.packets(toClient, kindInitial, func(_ *traceEntry, p *packetHeader) {
		if !slices.Contains(ids, string(p.scid)) {
			ids = append(ids, string(p.scid))
		}
	})
	return ids
}

// count is the number of packets of kind k sent in direction dir.
func (tr trace) count(dir direction, k packetKind) int {
	n := 0
	tr.packets(dir, k, func(*traceEntry, *packetHeader) { n++ })
	return n
}

// versions is the set of versions of the packets of kind k sent in
// direction dir.
func (tr trace) versions(dir direction, k packetKind) []uint32 {
	var vs []uint32
	tr.packets(dir, k, func(_ *traceEntry, p *packetHeader) {
		if !slices.Contains(vs, p.version) {
			vs = append(vs, p.version)
		}
	})
	return vs
}

// bytesOf sums the sizes of the packets of kind k sent in direction dir by
// the connection whose sender uses the connection ID scid.
func (tr trace) bytesOf(dir direction, k packetKind, scid []byte) int {
	n := 0
	tr.packets(dir, k, func(_ *traceEntry, p *packetHeader) {
		if bytes.Equal(p.scid, scid) {
			n += p.size
		}
	})
	return n
}

// parseHeaders reads the clear-text headers of the packets coalesced in d
// (RFC 9000 §12.2). Like walkPackets, it stops at anything it cannot
// parse, reporting it as kindOther.
func parseHeaders(d []byte) []packetHeader {
	var out []packetHeader
	for len(d) > 0 {
		b0 := d[0]
		if b0&0x80 == 0 { // a short header takes the rest of the datagram
			if b0 == 0 && allZero(d) {
				break
			}
			k := kindOneRTT
			if b0&0x40 == 0 {
				k = kindOther
			}
			out = append(out, packetHeader{kind: k, size: len(d)})
			break
		}
		p, ok := parseLongHeader(d)
		out = append(out, p)
		if !ok {
			break
		}
		d = d[p.size:]
	}
	return out
}

// parseLongHeader reads the long header at the start of d (RFC 9000
// §17.2): version, connection IDs, the token of an Initial (§17.2.2) or
// Retry (§17.2.5: all that precedes the 16-byte integrity tag), and the
// packet's length.
func parseLongHeader(d []byte) (packetHeader, bool) {
	bad := packetHeader{kind: kindOther, size: len(d)}
	if len(d) < 7 {
		return bad, false
	}
	p := packetHeader{version: binary.BigEndian.Uint32(d[1:5])}
	if p.version == 0 {
		p.kind, p.size = kindVersionNegotiation, len(d)
		return p, false
	}
	types, ok := longTypes[p.version]
	if !ok {
		return bad, false
	}
	p.kind = types[(d[0]>>4)&3]
	off := 5
	for _, cid := range []*[]byte{&p.dcid, &p.scid} {
		if off >= len(d) || off+1+int(d[off]) > len(d) {
			return bad, false
		}
		*cid = d[off+1 : off+1+int(d[off])]
		off += 1 + int(d[off])
	}
	switch p.kind {
	case kindRetry:
		if len(d)-off < 16 {
			return bad, false
		}
		p.token, p.size = d[off:len(d)-16], len(d)
		return p, true
	case kindInitial:
		v, n := readVarint(d[off:])
		if n == 0 || v > uint64(len(d)-off-n) {
			return bad, false
		}
		p.token = d[off+n : off+n+int(v)]
		off += n + int(v)
	}
	v, n := readVarint(d[off:])
	if n == 0 || v > uint64(len(d)-off-n) {
		return bad, false
	}
	p.size = off + n + int(v)
	return p, true
}
