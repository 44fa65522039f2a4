package quic

import (
	"github.com/tsumugi-quic/tsumugi/sched"
	"github.com/tsumugi-quic/tsumugi/stream"
)

// onPacketAcked is called by loss recovery for each newly acknowledged
// packet: every frame it carried is settled, then its record recycled.
func (c *Conn) onPacketAcked(rec *sched.Record) {
	st := &c.st
	l := &st.levels[rec.Space]
	for i := range rec.Frames {
		f := &rec.Frames[i]
		switch f.Kind {
		case sched.FrameStream, sched.FrameStreamControl:
			if core := st.streams.m[stream.ID(f.StreamID)]; core != nil {
				core.OnAcked(*f)
				c.streamWoke(core)
			}
			st.noteProgress(st.now)
		case sched.FrameCrypto:
			l.cryptoOut.OnAcked(f.Offset, f.Length)
		case sched.FrameAck:
			// RFC 9000 §13.2.4: the peer has our ACK; stop repeating
			// what it covered.
			l.recv.OnAckOfAck(f.Offset)
		}
	}
	if rec.Space == sched.AppData {
		st.app.onAcked(rec.PacketNumber)
	}
	if rec.MTUProbe {
		c.onMTUProbeAcked(int(rec.Frames[0].Length))
	}
	st.records.Put(rec)
}

// onPacketLost is called by loss recovery for each packet declared lost:
// its content is re-queued from the current state, never copied.
func (c *Conn) onPacketLost(rec *sched.Record) {
	st := &c.st
	if rec.MTUProbe {
		st.pmtud.onLost(int(rec.Frames[0].Length), st.now, st.rec.SmoothedRTT())
		st.records.Put(rec)
		return
	}
	st.metrics.PacketLost(rec.SentBytes)
	st.traceLost(rec)
	c.requeueFrames(rec)
	st.records.Put(rec)
}

// requeueFrames queues again what a packet carried: it was lost, or a PTO
// probe carries it while the packet is still in flight (RFC 9002 §6.2.4).
// What was acknowledged meanwhile is not sent again; control frames go
// with their current values.
func (c *Conn) requeueFrames(rec *sched.Record) {
	st := &c.st
	if rec.MTUProbe {
		return // its loss says the path is too small, nothing more
	}
	l := &st.levels[rec.Space]
	for i := range rec.Frames {
		f := &rec.Frames[i]
		switch f.Kind {
		case sched.FrameStream, sched.FrameStreamControl:
			if core := st.streams.m[stream.ID(f.StreamID)]; core != nil {
				core.OnLost(*f)
				c.streamWoke(core)
			}
		case sched.FrameCrypto:
			l.cryptoOut.OnLost(f.Offset, f.Length)
		case sched.FrameControl:
			st.control.onLost(*f)
		}
	}
}

// onPacketDiscarded recycles the record of a packet whose keys were
// discarded (RFC 9002 §6.4).
func (c *Conn) onPacketDiscarded(rec *sched.Record) {
	c.st.records.Put(rec)
}
