package quic

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
	"github.com/tsumugi-quic/tsumugi/sched"
)

// connIDs manages connection IDs, RFC 9000 §5.1: the ones we issue (the
// peer sends to them) and the ones the peer issued (we send to them).
type connIDs struct {
	c *Conn

	local      []localConnID
	nextLocal  uint64 // sequence number of the next ID we issue
	peerLimit  uint64 // the peer's active_connection_id_limit
	sentParams bool
	routed     bool // newLocal adds new IDs to the endpoint's routes

	remote          []remoteConnID // the peer's IDs we may use, current first
	retirePriorTo   uint64         // the largest Retire Prior To the peer sent
	pendingRetire   []uint64       // RETIRE_CONNECTION_ID frames to send
	peerInitialSCID []byte         // the Source Connection ID of the peer's first packet
}

type localConnID struct {
	seq     uint64
	id      []byte
	token   [16]byte
	pending bool // NEW_CONNECTION_ID not yet sent (or lost)
}

type remoteConnID struct {
	seq      uint64
	id       []byte
	token    [16]byte
	hasToken bool
}

// init sets the first IDs. A client sends to a random odcid until the
// server's first Initial names the server's ID; a server sends to the
// client's Source Connection ID from the start.
func (ids *connIDs) init(c *Conn, odcid, peerSCID []byte) {
	ids.c = c
	ids.peerLimit = 2 // RFC 9000 §18.2 default
	// The endpoint routes the IDs made here when it registers the
	// connection (it holds its lock meanwhile); later ones route themselves.
	defer func() { ids.routed = true }()
	first := ids.newLocal()
	first.pending = false // the handshake carries it
	if !c.isClient && c.ep.preferred.IsValid() {
		// Sequence number 1 goes in preferred_address (RFC 9000 §5.1.1).
		ids.newLocal().pending = false
	}
	if c.isClient {
		ids.remote = []remoteConnID{{seq: 0, id: append([]byte(nil), odcid...)}}
	} else {
		ids.remote = []remoteConnID{{seq: 0, id: append([]byte(nil), peerSCID...)}}
		ids.peerInitialSCID = ids.remote[0].id
	}
}

// newLocal issues a new connection ID and routes it to the connection.
func (ids *connIDs) newLocal() *localConnID {
	id := make([]byte, ids.c.config.ConnectionIDLength)
	rand.Read(id)
	l := localConnID{seq: ids.nextLocal, id: id, token: ids.c.ep.statelessResetToken(id), pending: true}
	ids.nextLocal++
	ids.local = append(ids.local, l)
	if ids.routed {
		ids.c.ep.addConnID(id, ids.c)
	}
	return &ids.local[len(ids.local)-1]
}

// localIDs returns the IDs routed to this connection.
func (ids *connIDs) localIDs() [][]byte {
	out := make([][]byte, len(ids.local))
	for i := range ids.local {
		out[i] = ids.local[i].id
	}
	return out
}

// scid is the Source Connection ID for long-header packets.
func (ids *connIDs) scid() []byte { return ids.local[0].id }

// peerCurrent is the Destination Connection ID we send to.
func (ids *connIDs) peerCurrent() []byte { return ids.remote[0].id }

// rotatePeer switches to an unused connection ID of the peer, if it gave
// us one, and retires the one in use (RFC 9000 §9.5).
func (ids *connIDs) rotatePeer() {
	if len(ids.remote) < 2 {
		return
	}
	ids.pendingRetire = append(ids.pendingRetire, ids.remote[0].seq)
	if ids.remote[0].hasToken {
		ids.c.ep.removeResetToken(ids.remote[0].token, ids.c)
	}
	ids.remote = ids.remote[1:]
}

// zeroLengthPeer reports whether the peer uses zero-length connection IDs
// (it then cannot migrate or offer a preferred address, RFC 9000 §5.1).
func (ids *connIDs) zeroLengthPeer() bool { return len(ids.peerCurrent()) == 0 }

// spareSeq returns the sequence number of a connection ID of the peer's
// that was never used, for a new path (RFC 9000 §9.5); with zero-length
// IDs, the current one (there is nothing to link).
func (ids *connIDs) spareSeq() (uint64, bool) {
	if ids.zeroLengthPeer() {
		return ids.remote[0].seq, true
	}
	if len(ids.remote) < 2 {
		return 0, false
	}
	return ids.remote[1].seq, true
}

// peerBySeq returns the peer's connection ID with sequence number seq.
func (ids *connIDs) peerBySeq(seq uint64) []byte {
	for i := range ids.remote {
		if ids.remote[i].seq == seq {
			return ids.remote[i].id
		}
	}
	return nil
}

// useSeq makes the peer's connection ID seq the one we send to, and
// retires the one used until now (RFC 9000 §9.6.1, §5.1.2).
func (ids *connIDs) useSeq(seq uint64) {
	for i := range ids.remote {
		if ids.remote[i].seq != seq || i == 0 {
			continue
		}
		ids.pendingRetire = append(ids.pendingRetire, ids.remote[0].seq)
		if ids.remote[0].hasToken {
			ids.c.ep.removeResetToken(ids.remote[0].token, ids.c)
		}
		r := ids.remote[i]
		ids.remote = append(ids.remote[:i], ids.remote[i+1:]...)
		ids.remote[0] = r
		return
	}
}

// setServerID replaces the client's random initial DCID with the server's
// chosen ID from its first Initial (RFC 9000 §7.2).
func (ids *connIDs) setServerID(scid []byte) {
	ids.remote[0].id = append(ids.remote[0].id[:0:0], scid...)
	ids.peerInitialSCID = ids.remote[0].id
}

// setPeerResetToken records the stateless_reset_token transport parameter:
// the token of the server's handshake connection ID (RFC 9000 §18.2).
func (ids *connIDs) setPeerResetToken(t [16]byte) {
	ids.remote[0].token = t
	ids.remote[0].hasToken = true
	ids.c.ep.addResetToken(t, ids.c)
}

// issueUpTo issues IDs until the peer holds as many as it allows (its
// active_connection_id_limit), bounded by ours.
func (ids *connIDs) issueUpTo(limit uint64) {
	ids.peerLimit = limit
	want := min(limit, maxLocalConnectionIDsIssued)
	for uint64(len(ids.local)) < want {
		ids.newLocal()
	}
}

// handleNewConnectionID processes NEW_CONNECTION_ID, RFC 9000 §19.15.
func (ids *connIDs) handleNewConnectionID(f *wire.NewConnectionIDFrame) error {
	if len(ids.peerCurrent()) == 0 {
		return &wire.TransportError{Code: wire.ProtocolViolation, FrameType: wire.FrameTypeNewConnectionID, Reason: "NEW_CONNECTION_ID with zero-length connection IDs"}
	}
	for i := range ids.remote {
		r := &ids.remote[i]
		if r.seq == f.Seq {
			if !bytes.Equal(r.id, f.ConnID) || (r.hasToken && r.token != f.ResetToken) {
				return &wire.TransportError{Code: wire.ProtocolViolation, FrameType: wire.FrameTypeNewConnectionID, Reason: "connection ID sequence number reused"}
			}
			return nil
		}
	}
	if f.Seq < ids.retirePriorTo {
		// Already retired: retire it at once (RFC 9000 §19.15).
		ids.pendingRetire = append(ids.pendingRetire, f.Seq)
		return nil
	}
	ids.remote = append(ids.remote, remoteConnID{
		seq: f.Seq, id: append([]byte(nil), f.ConnID...),
		token: f.ResetToken, hasToken: true,
	})
	ids.c.ep.addResetToken(f.ResetToken, ids.c)
	if f.RetirePriorTo > ids.retirePriorTo {
		ids.retirePriorTo = f.RetirePriorTo
		kept := ids.remote[:0]
		for _, r := range ids.remote {
			if r.seq < ids.retirePriorTo {
				ids.pendingRetire = append(ids.pendingRetire, r.seq)
				if r.hasToken {
					ids.c.ep.removeResetToken(r.token, ids.c)
				}
				continue
			}
			kept = append(kept, r)
		}
		ids.remote = kept
	}
	// RFC 9000 §5.1.1: more active IDs than our active_connection_id_limit.
	if uint64(len(ids.remote)) > activeConnectionIDLimit {
		return &wire.TransportError{Code: wire.ConnectionIDLimitError, FrameType: wire.FrameTypeNewConnectionID, Reason: "too many connection IDs"}
	}
	if len(ids.pendingRetire) > 4*activeConnectionIDLimit {
		return &wire.TransportError{Code: wire.ConnectionIDLimitError, FrameType: wire.FrameTypeNewConnectionID, Reason: "too many connection IDs retired at once"}
	}
	return nil
}

// handleRetireConnectionID processes RETIRE_CONNECTION_ID, RFC 9000 §19.16:
// the peer stops using one of our IDs; we issue a replacement.
func (ids *connIDs) handleRetireConnectionID(seq uint64, packetDCID []byte) error {
	if seq >= ids.nextLocal {
		return &wire.TransportError{Code: wire.ProtocolViolation, FrameType: wire.FrameTypeRetireConnectionID, Reason: "retiring a connection ID never issued"}
	}
	for i := range ids.local {
		l := &ids.local[i]
		if l.seq != seq {
			continue
		}
		if bytes.Equal(l.id, packetDCID) {
			return &wire.TransportError{Code: wire.ProtocolViolation, FrameType: wire.FrameTypeRetireConnectionID, Reason: "retiring the connection ID in use"}
		}
		ids.c.ep.removeConnID(l.id, ids.c)
		ids.local = append(ids.local[:i], ids.local[i+1:]...)
		if uint64(len(ids.local)) < min(ids.peerLimit, maxLocalConnectionIDsIssued) {
			ids.newLocal()
		}
		return nil
	}
	return nil // already retired
}

// isStatelessReset reports whether a datagram that could not be processed
// ends with one of the peer's stateless reset tokens (RFC 9000 §10.3.1).
func (ids *connIDs) isStatelessReset(d []byte) bool {
	if len(d) < 21 {
		return false
	}
	tail := d[len(d)-16:]
	for i := range ids.remote {
		r := &ids.remote[i]
		if r.hasToken && subtle.ConstantTimeCompare(tail, r.token[:]) == 1 {
			return true
		}
	}
	return false
}

// appendFrames appends pending NEW_CONNECTION_ID and RETIRE_CONNECTION_ID
// frames while len(b) stays within limit.
func (ids *connIDs) appendFrames(b []byte, limit int, rec *sched.Record) []byte {
	for i := range ids.local {
		l := &ids.local[i]
		if !l.pending {
			continue
		}
		f := wire.NewConnectionIDFrame{Seq: l.seq, ConnID: l.id, ResetToken: l.token}
		if len(b)+f.Len() > limit {
			return b
		}
		b = f.Append(b)
		l.pending = false
		recordControl(rec, wire.FrameTypeNewConnectionID, l.seq)
	}
	for len(ids.pendingRetire) > 0 {
		f := wire.RetireConnectionIDFrame{Seq: ids.pendingRetire[0]}
		if len(b)+f.Len() > limit {
			return b
		}
		b = f.Append(b)
		recordControl(rec, wire.FrameTypeRetireConnectionID, f.Seq)
		ids.pendingRetire = ids.pendingRetire[1:]
	}
	return b
}

// lost re-queues a lost NEW_CONNECTION_ID or RETIRE_CONNECTION_ID.
func (ids *connIDs) lost(ft uint64, seq uint64) {
	switch ft {
	case wire.FrameTypeNewConnectionID:
		for i := range ids.local {
			if ids.local[i].seq == seq {
				ids.local[i].pending = true
			}
		}
	case wire.FrameTypeRetireConnectionID:
		ids.pendingRetire = append(ids.pendingRetire, seq)
	}
}
