package quic

import (
	"github.com/tsumugi-quic/tsumugi/quic/wire"
	"github.com/tsumugi-quic/tsumugi/sched"
)

// controlFrames is the connection's source of connection-level control
// frames for 1-RTT packets. It keeps state, not copies of frames: what goes
// out is always the current value (a lost MAX_DATA is re-sent with the
// latest limit, never a stale one).
type controlFrames struct {
	c                  *Conn
	handshakeDone      bool   // HANDSHAKE_DONE due (server)
	newToken           []byte // NEW_TOKEN to send (server)
	newTokenSent       bool
	pathResponses      [][8]byte // PATH_RESPONSE due, newest last (bounded)
	streamsBlocked     [2]uint64 // the limit of the last STREAMS_BLOCKED
	streamsBlockedDue  [2]bool
	streamsBlockedSent [2]bool
}

// maxPathResponses bounds queued PATH_RESPONSE frames: a peer flooding
// PATH_CHALLENGE gets answers to its latest ones only.
const maxPathResponses = 4

func recordControl(rec *sched.Record, ft uint64, v uint64) {
	rec.Add(sched.FrameRecord{Kind: sched.FrameControl, Type: uint8(ft), Offset: v})
}

// AppendFrames implements sched.FrameSource, in the order of issue [sched]:
// HANDSHAKE_DONE, MAX_DATA, MAX_STREAMS, connection IDs, PATH_RESPONSE,
// then the *_BLOCKED frames.
func (cf *controlFrames) AppendFrames(b []byte, max int, rec *sched.Record) []byte {
	st := &cf.c.st
	limit := len(b) + max
	if cf.handshakeDone && len(b)+1 <= limit {
		b = append(b, byte(wire.FrameTypeHandshakeDone))
		cf.handshakeDone = false
		recordControl(rec, wire.FrameTypeHandshakeDone, 0)
	}
	if st.flow.maxDataDue {
		f := wire.MaxDataFrame{Max: st.flow.recvMax}
		if len(b)+f.Len() <= limit {
			b = f.Append(b)
			st.flow.maxDataDue = false
			recordControl(rec, wire.FrameTypeMaxData, f.Max)
		}
	}
	for d := bidi; d <= uni; d++ {
		if !st.streams.sendLimit[d] {
			continue
		}
		f := wire.MaxStreamsFrame{Bidi: d == bidi, Max: st.streams.peerLimit[d]}
		if len(b)+f.Len() <= limit {
			b = f.Append(b)
			st.streams.sendLimit[d] = false
			recordControl(rec, frameTypeMaxStreams(d), f.Max)
		}
	}
	b = st.cids.appendFrames(b, limit, rec)
	if cf.newToken != nil && !cf.newTokenSent {
		f := wire.NewTokenFrame{Token: cf.newToken}
		if len(b)+f.Len() <= limit {
			b = f.Append(b)
			cf.newTokenSent = true
			recordControl(rec, wire.FrameTypeNewToken, 0)
		}
	}
	if cf.c.pathChallengeDue(st.now) {
		f := wire.PathChallengeFrame{Data: st.paths.path.data}
		if len(b)+f.Len() <= limit {
			b = f.Append(b)
			st.paths.path.sentAt = st.now
			recordControl(rec, wire.FrameTypePathChallenge, 0)
		}
	}
	for len(cf.pathResponses) > 0 {
		f := wire.PathResponseFrame{Data: cf.pathResponses[0]}
		if len(b)+f.Len() > limit {
			break
		}
		b = f.Append(b)
		cf.pathResponses = cf.pathResponses[1:]
		recordControl(rec, wire.FrameTypePathResponse, 0)
	}
	if st.flow.blockedDue {
		f := wire.DataBlockedFrame{Limit: st.flow.blockedAt}
		if len(b)+f.Len() <= limit {
			b = f.Append(b)
			st.flow.blockedDue = false
			recordControl(rec, wire.FrameTypeDataBlocked, f.Limit)
		}
	}
	for d := bidi; d <= uni; d++ {
		if !cf.streamsBlockedDue[d] {
			continue
		}
		f := wire.StreamsBlockedFrame{Bidi: d == bidi, Limit: cf.streamsBlocked[d]}
		if len(b)+f.Len() <= limit {
			b = f.Append(b)
			cf.streamsBlockedDue[d] = false
			recordControl(rec, frameTypeStreamsBlocked(d), f.Limit)
		}
	}
	return b
}

func frameTypeMaxStreams(d dir) uint64 {
	if d == bidi {
		return wire.FrameTypeMaxStreamsBidi
	}
	return wire.FrameTypeMaxStreamsUni
}

func frameTypeStreamsBlocked(d dir) uint64 {
	if d == bidi {
		return wire.FrameTypeStreamsBlockedBidi
	}
	return wire.FrameTypeStreamsBlockedUni
}

// pending reports whether any control frame is due.
func (cf *controlFrames) pending() bool {
	st := &cf.c.st
	if cf.handshakeDone || cf.c.pathChallengeDue(st.now) || (cf.newToken != nil && !cf.newTokenSent) || st.flow.maxDataDue || st.flow.blockedDue || len(cf.pathResponses) > 0 ||
		st.streams.sendLimit[0] || st.streams.sendLimit[1] || cf.streamsBlockedDue[0] || cf.streamsBlockedDue[1] ||
		len(st.cids.pendingRetire) > 0 {
		return true
	}
	for i := range st.cids.local {
		if st.cids.local[i].pending {
			return true
		}
	}
	return false
}

// checkStreamsBlocked queues STREAMS_BLOCKED when an OpenStream caller waits
// at the peer's limit (RFC 9000 §4.6), once per limit.
func (cf *controlFrames) checkStreamsBlocked() {
	for d := bidi; d <= uni; d++ {
		lim, ok := cf.c.open.blocked(d)
		if ok && (!cf.streamsBlockedSent[d] || lim != cf.streamsBlocked[d]) {
			cf.streamsBlocked[d] = lim
			cf.streamsBlockedDue[d] = true
			cf.streamsBlockedSent[d] = true
		}
	}
}

// onLost re-queues a lost control frame if its value is still current.
func (cf *controlFrames) onLost(f sched.FrameRecord) {
	st := &cf.c.st
	ft := uint64(f.Type)
	switch ft {
	case wire.FrameTypeHandshakeDone:
		cf.handshakeDone = true
	case wire.FrameTypeNewToken:
		cf.newTokenSent = false
	case wire.FrameTypeMaxData:
		if f.Offset == st.flow.recvMax {
			st.flow.maxDataDue = true
		}
	case wire.FrameTypeMaxStreamsBidi, wire.FrameTypeMaxStreamsUni:
		d := bidi
		if ft == wire.FrameTypeMaxStreamsUni {
			d = uni
		}
		if f.Offset == st.streams.peerLimit[d] {
			st.streams.sendLimit[d] = true
		}
	case wire.FrameTypeDataBlocked:
		if f.Offset == st.flow.sendMax && st.flow.credit == 0 {
			st.flow.blockedDue = true
		}
	case wire.FrameTypeStreamsBlockedBidi, wire.FrameTypeStreamsBlockedUni:
		d := bidi
		if ft == wire.FrameTypeStreamsBlockedUni {
			d = uni
		}
		if lim, ok := cf.c.open.blocked(d); ok && lim == f.Offset {
			cf.streamsBlockedDue[d] = true
		}
	case wire.FrameTypeNewConnectionID, wire.FrameTypeRetireConnectionID:
		st.cids.lost(ft, f.Offset)
	}
}
