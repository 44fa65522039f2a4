package integration_test

import (
	"bytes"
	"encoding/hex"
	"fmt"
)

// Decoding a recorded trace (recorder.keepData) the way the interop
// runner's tshark does: every packet opened with the keys of its
// connection, its frames read, and each connection's CRYPTO data put back
// in order. Connections are told apart by their connection IDs; a
// connection's TLS secrets are found in the key log by the random of its
// ClientHello.

// Packet number spaces (RFC 9000 §12.3) and encryption levels.
const (
	spaceInitial = iota
	spaceHandshake
	spaceApp // 0-RTT and 1-RTT
)

// decodedPacket is one packet of a trace, opened.
type decodedPacket struct {
	entry    int // index of its datagram in the trace
	dir      direction
	kind     packetKind
	hdr      packetHeader // long headers: its clear-text header
	version  uint32
	conn     *decConn
	pn       uint64
	keyPhase bool
	frames   []frame
}

// has reports whether the packet carries a frame of type typ.
func (p *decodedPacket) has(typ uint64) bool {
	for _, f := range p.frames {
		if f.typ == typ {
			return true
		}
	}
	return false
}

// decConn is what the decoder knows of one connection.
type decConn struct {
	index      int
	clientSCID []byte
	serverSCID []byte // from the server's first Initial or Retry
	odcid      []byte // the destination of the client's first Initial
	initDCID   []byte // what the Initial keys derive from (RFC 9001 §5.2)
	random     []byte // the ClientHello's random
	version    uint32 // of its latest long-header packet
	secrets    map[string][]byte
	suite      *suite
	hs         [2]*keys
	early      *keys
	app        [2][]*keys // key phase generations per direction
	appCur     [2]int
	largest    [2][3]int64
	crypto     [2][2]cryptoStream // per direction: Initial, Handshake
}

// decoding is the result of decoding a trace.
type decoding struct {
	conns    []*decConn
	packets  []decodedPacket
	failures []string // packets that could not be opened or read
}

// decodeTrace opens every packet of tr with Initial keys and the secrets in
// kl (which may be nil: then only Initial packets open).
func decodeTrace(tr trace, kl *keyLog) *decoding {
	d := &decoding{}
	var sessions []keyLogSession
	if kl != nil {
		sessions = kl.sessions()
	}
	for i := range tr {
		e := &tr[i]
		if e.data == nil {
			continue
		}
		off := 0
		for _, h := range e.packets {
			pkt := e.data[off : off+h.size]
			off += h.size
			var dp *decodedPacket
			var err error
			switch h.kind {
			case kindInitial, kindHandshake, kind0RTT:
				dp, err = d.openLong(e.dir, h, pkt, sessions)
			case kindOneRTT:
				dp, err = d.openShort(e.dir, pkt)
			case kindRetry:
				// RFC 9001 §5.2: Initial keys now come from the Retry's
				// source connection ID.
				if c := d.connFor(e.dir, h); c != nil {
					c.initDCID = bytes.Clone(h.scid)
				}
				continue
			default:
				continue
			}
			if err != nil {
				d.failures = append(d.failures, fmt.Sprintf("datagram %d (%v) %v packet: %v", i, e.dir, h.kind, err))
				continue
			}
			dp.entry, dp.dir, dp.kind, dp.hdr = i, e.dir, h.kind, h
			d.packets = append(d.packets, *dp)
		}
	}
	return d
}

// connFor finds the connection of a long-header packet. A client's
// packets go to its original destination ID, the one a Retry gave it, or
// the server's ID; a server's come from the server's ID, or (its first
// Initial, a Retry) go to the client's ID before that is known. Clients
// may all use the same ID (quic-go's use an empty one), so the latest
// connection wins. A client Initial to a new ID starts a connection.
func (d *decoding) connFor(dir direction, h packetHeader) *decConn {
	if dir == toServer {
		for i := len(d.conns) - 1; i >= 0; i-- {
			c := d.conns[i]
			if bytes.Equal(c.clientSCID, h.scid) && (bytes.Equal(h.dcid, c.odcid) || bytes.Equal(h.dcid, c.initDCID) ||
				(c.serverSCID != nil && bytes.Equal(h.dcid, c.serverSCID))) {
				return c
			}
		}
		if h.kind != kindInitial {
			return nil
		}
		c := &decConn{index: len(d.conns), clientSCID: bytes.Clone(h.scid), odcid: bytes.Clone(h.dcid),
			initDCID: bytes.Clone(h.dcid), largest: [2][3]int64{{-1, -1, -1}, {-1, -1, -1}}}
		d.conns = append(d.conns, c)
		return c
	}
	for i := len(d.conns) - 1; i >= 0; i-- {
		if c := d.conns[i]; c.serverSCID != nil && bytes.Equal(h.scid, c.serverSCID) {
			return c
		}
	}
	for i := len(d.conns) - 1; i >= 0; i-- {
		if c := d.conns[i]; c.serverSCID == nil && bytes.Equal(h.dcid, c.clientSCID) {
			return c
		}
	}
	return nil
}

func (d *decoding) openLong(dir direction, h packetHeader, pkt []byte, sessions []keyLogSession) (*decodedPacket, error) {
	c := d.connFor(dir, h)
	if c == nil {
		return nil, fmt.Errorf("no connection for IDs %x/%x", h.dcid, h.scid)
	}
	c.version = h.version
	pnOff := h.size - int(lengthField(pkt, h))
	space := spaceApp
	var k *keys
	switch h.kind {
	case kindInitial:
		space = spaceInitial
		if dir == toClient && c.serverSCID == nil {
			c.serverSCID = bytes.Clone(h.scid)
		}
		k = initialKeys(h.version, c.initDCID, dir == toServer)
	case kindHandshake:
		space = spaceHandshake
		if c.secrets == nil {
			d.findSecrets(c, sessions)
		}
		label := map[direction]string{toServer: "CLIENT_HANDSHAKE_TRAFFIC_SECRET", toClient: "SERVER_HANDSHAKE_TRAFFIC_SECRET"}[dir]
		if c.hs[dir] == nil {
			c.hs[dir] = c.keysFor(label, h.version, pkt, pnOff, c.largest[dir][space])
		}
		k = c.hs[dir]
	case kind0RTT:
		if c.secrets == nil {
			d.findSecrets(c, sessions)
		}
		if c.early == nil {
			c.early = c.keysFor("CLIENT_EARLY_TRAFFIC_SECRET", h.version, pkt, pnOff, c.largest[dir][space])
		}
		k = c.early
	}
	if k == nil {
		return nil, fmt.Errorf("no keys for connection %d", c.index)
	}
	o, err := k.open(pkt, pnOff, c.largest[dir][space])
	if err != nil {
		return nil, err
	}
	c.largest[dir][space] = max(c.largest[dir][space], int64(o.pn))
	dp := &decodedPacket{version: h.version, conn: c, pn: o.pn}
	dp.frames, err = parseFrames(o.payload)
	if err != nil {
		return dp, err
	}
	for _, f := range dp.frames {
		if f.typ == frameCrypto && space != spaceApp {
			c.crypto[dir][space].add(f.offset, f.data)
		}
	}
	if h.kind == kindInitial && dir == toServer && c.random == nil {
		// The random follows the message header and legacy_version (RFC
		// 8446 §4.1.2); the rest of the ClientHello may be still to come.
		if ch := c.crypto[toServer][spaceInitial].contiguous(); len(ch) >= 4+34 && ch[0] == tlsClientHello {
			c.random = bytes.Clone(ch[6:38])
		}
	}
	return dp, nil
}

// lengthField is the Length of a long-header packet: what follows it (RFC
// 9000 §17.2), so the packet number starts that far before the end.
func lengthField(pkt []byte, h packetHeader) uint64 {
	off := 7 + len(h.dcid) + len(h.scid)
	if h.kind == kindInitial {
		v, n := readVarint(pkt[off:])
		off += n + int(v)
	}
	v, _ := readVarint(pkt[off:])
	return v
}

// findSecrets picks the key log session of c by its ClientHello's random.
func (d *decoding) findSecrets(c *decConn, sessions []keyLogSession) {
	if c.random == nil {
		return
	}
	want := hex.EncodeToString(c.random)
	for _, s := range sessions {
		if s.random == want {
			c.secrets = s.secrets
			return
		}
	}
}

// keysFor derives c's keys from the secret under label, choosing the
// cipher suite by trying the packet pkt if c's suite is not known yet.
func (c *decConn) keysFor(label string, version uint32, pkt []byte, pnOff int, largest int64) *keys {
	secret := c.secrets[label]
	if secret == nil {
		return nil
	}
	candidates := suitesFor(secret)
	if c.suite != nil {
		candidates = []suite{*c.suite}
	}
	for _, s := range candidates {
		k, err := newKeys(s, secret, version == versionV2)
		if err != nil {
			continue
		}
		if _, err := k.open(pkt, pnOff, largest); err == nil || c.suite != nil {
			c.suite = &s
			return k
		}
	}
	return nil
}

// openShort opens a 1-RTT packet by trying each connection's keys: the
// current key phase, the next one (a key update, RFC 9001 §6.3) and the
// previous one (a packet reordered across an update).
func (d *decoding) openShort(dir direction, pkt []byte) (*decodedPacket, error) {
	for _, c := range d.conns {
		idLen := len(c.serverSCID) // the destination is one of the server's IDs
		if dir == toClient {
			idLen = len(c.clientSCID)
		}
		if len(c.app[dir]) == 0 {
			if c.secrets == nil {
				continue
			}
			label := map[direction]string{toServer: "CLIENT_TRAFFIC_SECRET_0", toClient: "SERVER_TRAFFIC_SECRET_0"}[dir]
			k := c.keysFor(label, c.version, pkt, 1+idLen, c.largest[dir][spaceApp])
			if k == nil {
				continue
			}
			c.app[dir] = []*keys{k}
		}
		cur := c.appCur[dir]
		for _, g := range []int{cur, cur + 1, cur - 1} {
			if g < 0 {
				continue
			}
			for len(c.app[dir]) <= g {
				c.app[dir] = append(c.app[dir], c.app[dir][len(c.app[dir])-1].next())
			}
			o, err := c.app[dir][g].open(pkt, 1+idLen, c.largest[dir][spaceApp])
			if err != nil {
				continue
			}
			if o.keyPhase != (g%2 == 1) {
				return nil, fmt.Errorf("connection %d: key phase bit %v in generation %d", c.index, o.keyPhase, g)
			}
			c.appCur[dir] = max(cur, g)
			c.largest[dir][spaceApp] = max(c.largest[dir][spaceApp], int64(o.pn))
			dp := &decodedPacket{version: c.version, conn: c, pn: o.pn, keyPhase: o.keyPhase}
			dp.frames, err = parseFrames(o.payload)
			return dp, err
		}
	}
	return nil, errOpen
}
