package sched

import (
	"fmt"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

// pattern holds the bytes every fake stream sends: byte at offset off of
// stream id is pattern[patternStart(id, off)]. Frames are at most a packet,
// so a window of 64 KiB past any start is enough.
var pattern = func() []byte {
	b := make([]byte, 251+1<<16)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}()

func patternStart(id, off uint64) int { return int((off + id*17) % 251) }

// span is a lost range of stream data, with the FIN if it was lost too.
type span struct {
	start, end uint64
	fin        bool
}

// fakeStream is a StreamSource with a given amount of data that builds real
// STREAM frames (wire.StreamDataFit, wire.AppendStreamFrameHeader).
type fakeStream struct {
	id          uint64
	size        uint64 // bytes the application wrote
	fin         bool   // FIN after size bytes
	limit       uint64 // stream-level flow control: new data only below it
	sent        uint64 // next new offset
	finSent     bool
	lost        []span
	ctrlPending int // MAX_STREAM_DATA frames queued

	badMax   int // calls with a negative max
	newCalls int
}

func newFakeStream(id, size uint64, fin bool) *fakeStream {
	return &fakeStream{id: id, size: size, fin: fin, limit: 1 << 62}
}

func (f *fakeStream) StreamID() uint64 { return f.id }

func (f *fakeStream) lose(off, n uint64, fin bool) {
	f.lost = append(f.lost, span{off, off + n, fin})
}

func (f *fakeStream) newMore() bool {
	return f.sent < min(f.size, f.limit) || (f.fin && !f.finSent && f.sent == f.size)
}

func (f *fakeStream) AppendStreamFrame(b []byte, max int, retransmit bool, credit *uint64, rec *Record) ([]byte, bool) {
	if max < 0 {
		f.badMax++
	}
	if retransmit {
		if len(f.lost) == 0 {
			return b, false
		}
		r := &f.lost[0]
		want := int(r.end - r.start)
		n, withLen := wire.StreamDataFit(f.id, r.start, want, max)
		if n < 0 || (n == 0 && want > 0) {
			return b, true
		}
		fin := r.fin && n == want
		b = f.frame(b, r.start, n, fin, withLen, rec)
		r.start += uint64(n)
		if r.start == r.end && (fin || !r.fin) {
			f.lost = f.lost[1:]
		}
		return b, len(f.lost) > 0
	}
	f.newCalls++
	end := min(f.size, f.limit)
	avail := end - f.sent
	want := min(avail, *credit)
	finReady := f.fin && !f.finSent && f.sent+want == f.size
	if want == 0 && !finReady {
		return b, f.newMore()
	}
	n, withLen := wire.StreamDataFit(f.id, f.sent, int(want), max)
	if n < 0 || (n == 0 && want > 0) {
		return b, f.newMore()
	}
	fin := f.fin && f.sent+uint64(n) == f.size
	b = f.frame(b, f.sent, n, fin, withLen, rec)
	f.sent += uint64(n)
	*credit -= uint64(n)
	if fin {
		f.finSent = true
	}
	return b, f.newMore()
}

func (f *fakeStream) frame(b []byte, off uint64, n int, fin, withLen bool, rec *Record) []byte {
	b = wire.AppendStreamFrameHeader(b, f.id, off, n, fin, withLen)
	k := patternStart(f.id, off)
	b = append(b, pattern[k:k+n]...)
	rec.Add(FrameRecord{Kind: FrameStream, StreamID: f.id, Offset: off, Length: uint64(n), Fin: fin})
	return b
}

// AppendControlFrames sends MAX_STREAM_DATA frames (RFC 9000 §19.10).
func (f *fakeStream) AppendControlFrames(b []byte, max int, rec *Record) ([]byte, bool) {
	for f.ctrlPending > 0 {
		val := uint64(1000 + f.ctrlPending)
		n := 1 + wire.VarintLen(f.id) + wire.VarintLen(val)
		if n > max {
			break
		}
		max -= n
		b = append(b, byte(wire.FrameTypeMaxStreamData))
		b = wire.AppendVarint(b, f.id)
		b = wire.AppendVarint(b, val)
		rec.Add(FrameRecord{Kind: FrameStreamControl, Type: byte(wire.FrameTypeMaxStreamData), StreamID: f.id})
		f.ctrlPending--
	}
	return b, f.ctrlPending > 0
}

// fakeFrames is a FrameSource of one frame type with count frames queued
// (crypto: size bytes of data at a time, cut to fit).
type fakeFrames struct {
	typ   wire.FrameType
	count int
	size  int
	off   uint64 // crypto offset / ack largest
	calls int
	max   []int // the max of every call
}

func (f *fakeFrames) AppendFrames(b []byte, max int, rec *Record) []byte {
	f.calls++
	f.max = append(f.max, max)
	for f.count > 0 {
		start := len(b)
		var fr FrameRecord
		switch f.typ {
		case wire.FrameTypeAck:
			b = append(b, byte(f.typ))
			b = wire.AppendVarint(b, f.off) // largest
			b = append(b, 0, 0)             // delay, range count
			b = wire.AppendVarint(b, 3)     // first range
			fr = FrameRecord{Kind: FrameAck, Offset: f.off}
		case wire.FrameTypeMaxData:
			b = append(b, byte(f.typ))
			b = wire.AppendVarint(b, 1<<20+f.off)
			fr = FrameRecord{Kind: FrameControl, Type: byte(f.typ)}
		case wire.FrameTypeCrypto:
			hdr := 1 + wire.VarintLen(f.off) + 2
			n := min(f.size, max-hdr)
			if n <= 0 {
				return b
			}
			b = append(b, byte(f.typ))
			b = wire.AppendVarint(b, f.off)
			b = wire.AppendVarintN(b, uint64(n), 2)
			b = append(b, pattern[:n]...)
			fr = FrameRecord{Kind: FrameCrypto, Offset: f.off, Length: uint64(n)}
		case wire.FrameTypeDatagramLen:
			b = append(b, byte(f.typ))
			b = wire.AppendVarint(b, uint64(f.size))
			b = append(b, pattern[:f.size]...)
			fr = FrameRecord{Kind: FrameDatagram, Length: uint64(f.size)}
		case wire.FrameTypeConnectionClose:
			b = append(b, byte(f.typ), 0x0a, 0x00, 4)
			b = append(b, "bye!"...)
			fr = FrameRecord{Kind: FrameControl, Type: byte(f.typ)}
		default:
			panic("fakeFrames: unknown type")
		}
		if len(b)-start > max {
			return b[:start]
		}
		max -= len(b) - start
		f.off += fr.Length + 1
		f.count--
		rec.Add(fr)
	}
	return b
}

// parsed is a frame found in a built payload.
type parsed struct {
	FrameRecord
	withLen bool
	data    []byte
}

// parsePayload parses every frame the fakes produce. It fails on anything
// malformed, including a STREAM frame without Length that is not last
// (it would swallow what follows, and the records would not match).
func parsePayload(b []byte) ([]parsed, error) {
	var out []parsed
	for len(b) > 0 {
		t := uint64(b[0])
		var p parsed
		n := 1
		varint := func() uint64 {
			if n < 0 {
				return 0
			}
			v, m, err := wire.ParseVarint(b[n:])
			if err != nil {
				n = -1
				return 0
			}
			n += m
			return v
		}
		switch {
		case wire.IsStreamFrameType(t):
			f, m, err := wire.ParseStreamFrame(b)
			if err != nil {
				return out, err
			}
			p = parsed{FrameRecord: FrameRecord{Kind: FrameStream, StreamID: f.StreamID, Offset: f.Offset, Length: uint64(len(f.Data)), Fin: f.Fin},
				withLen: t&streamBitLen != 0, data: f.Data}
			n = m
		case t == wire.FrameTypeAck:
			p.Kind = FrameAck
			p.Offset = varint()
			varint()
			varint()
			varint()
		case t == wire.FrameTypeMaxData:
			p.Kind, p.Type = FrameControl, byte(t)
			varint()
		case t == wire.FrameTypeMaxStreamData:
			p.Kind, p.Type = FrameStreamControl, byte(t)
			p.StreamID = varint()
			varint()
		case t == wire.FrameTypeCrypto:
			p.Kind = FrameCrypto
			p.Offset = varint()
			p.Length = varint()
			if n >= 0 {
				if p.Length > uint64(len(b)-n) {
					return out, fmt.Errorf("CRYPTO frame runs past the payload")
				}
				n += int(p.Length)
			}
		case t == wire.FrameTypeDatagramLen:
			p.Kind = FrameDatagram
			p.Length = varint()
			if n >= 0 {
				if p.Length > uint64(len(b)-n) {
					return out, fmt.Errorf("DATAGRAM frame runs past the payload")
				}
				n += int(p.Length)
			}
		case t == wire.FrameTypeConnectionClose:
			p.Kind, p.Type = FrameControl, byte(t)
			varint()
			varint()
			l := varint()
			if n >= 0 {
				if l > uint64(len(b)-n) {
					return out, fmt.Errorf("CONNECTION_CLOSE runs past the payload")
				}
				n += int(l)
			}
		default:
			return out, fmt.Errorf("unexpected frame type %#x", t)
		}
		if n < 0 {
			return out, fmt.Errorf("truncated frame of type %#x", t)
		}
		out = append(out, p)
		b = b[n:]
	}
	return out, nil
}

// checkPacket parses payload, compares its frames with rec and checks the
// stream data against the pattern.
func checkPacket(payload []byte, budget int, rec *Record) ([]parsed, error) {
	if len(payload) > budget {
		return nil, fmt.Errorf("payload of %d bytes exceeds budget %d", len(payload), budget)
	}
	frames, err := parsePayload(payload)
	if err != nil {
		return nil, err
	}
	if len(frames) != len(rec.Frames) {
		return nil, fmt.Errorf("parsed %d frames, record has %d", len(frames), len(rec.Frames))
	}
	for i, f := range frames {
		r := rec.Frames[i]
		if f.Kind != r.Kind {
			return nil, fmt.Errorf("frame %d: kind %d, record says %d", i, f.Kind, r.Kind)
		}
		switch f.Kind {
		case FrameStream:
			if f.StreamID != r.StreamID || f.Offset != r.Offset || f.Length != r.Length || f.Fin != r.Fin {
				return nil, fmt.Errorf("frame %d: %+v, record says %+v", i, f.FrameRecord, r)
			}
			if !f.withLen && i != len(frames)-1 {
				return nil, fmt.Errorf("frame %d: STREAM frame without Length is not last", i)
			}
			k := patternStart(f.StreamID, f.Offset)
			if string(f.data) != string(pattern[k:k+len(f.data)]) {
				return nil, fmt.Errorf("frame %d: stream %d data at %d corrupted", i, f.StreamID, f.Offset)
			}
		case FrameCrypto:
			if f.Offset != r.Offset || f.Length != r.Length {
				return nil, fmt.Errorf("frame %d: CRYPTO %+v, record says %+v", i, f.FrameRecord, r)
			}
		}
	}
	return frames, nil
}
