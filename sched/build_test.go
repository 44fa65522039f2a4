package sched

import (
	"slices"
	"testing"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

// sources is one of every kind of frame, each with frames queued.
type sources struct {
	closing, ack, control, crypto, datagrams *fakeFrames
	ctrlStream, retxStream, newStream        *fakeStream
}

func newSources(s *Scheduler) *sources {
	src := &sources{
		closing:    &fakeFrames{typ: wire.FrameTypeConnectionClose, count: 1},
		ack:        &fakeFrames{typ: wire.FrameTypeAck, count: 1, off: 77},
		control:    &fakeFrames{typ: wire.FrameTypeMaxData, count: 1},
		crypto:     &fakeFrames{typ: wire.FrameTypeCrypto, count: 1, size: 40},
		datagrams:  &fakeFrames{typ: wire.FrameTypeDatagramLen, count: 1, size: 30},
		ctrlStream: newFakeStream(4, 0, false),
		retxStream: newFakeStream(8, 100, true),
		newStream:  newFakeStream(12, 100, true),
	}
	src.ctrlStream.ctrlPending = 1
	src.retxStream.sent, src.retxStream.finSent = 100, true
	src.retxStream.lose(10, 20, false)
	s.ActivateControl(src.ctrlStream)
	s.ActivateRetransmit(src.retxStream)
	s.Activate(src.newStream, 3, false)
	return src
}

func (src *sources) packet(space Space, zeroRTT, closing bool, budget int) *Packet {
	p := &Packet{Space: space, ZeroRTT: zeroRTT, Budget: budget,
		Ack: src.ack, Control: src.control, Crypto: src.crypto, Datagrams: src.datagrams}
	if closing {
		p.Closing = src.closing
	}
	return p
}

// kindsOf names the frames of a record in order, telling the three kinds of
// stream frames apart by stream.
func kindsOf(rec *Record) []string {
	var out []string
	for _, f := range rec.Frames {
		var k string
		switch f.Kind {
		case FrameAck:
			k = "ack"
		case FrameControl:
			k = "control"
			if f.Type == byte(wire.FrameTypeConnectionClose) {
				k = "close"
			}
		case FrameStreamControl:
			k = "stream-control"
		case FrameCrypto:
			k = "crypto"
		case FrameDatagram:
			k = "datagram"
		case FrameStream:
			k = "new"
			if f.StreamID == 8 {
				k = "retransmit"
			}
		}
		out = append(out, k)
	}
	return out
}

func TestBuildOrderAndSpaces(t *testing.T) {
	tests := []struct {
		name    string
		space   Space
		zeroRTT bool
		closing bool
		want    []string
	}{
		{"1-RTT", AppData, false, false,
			[]string{"ack", "control", "stream-control", "crypto", "retransmit", "datagram", "new"}},
		{"0-RTT", AppData, true, false,
			[]string{"control", "stream-control", "retransmit", "datagram", "new"}},
		{"Initial", Initial, false, false, []string{"ack", "crypto"}},
		{"Handshake", Handshake, false, false, []string{"ack", "crypto"}},
		{"closing 1-RTT", AppData, false, true, []string{"close"}},
		{"closing Initial", Initial, false, true, []string{"close"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(Config{})
			src := newSources(s)
			rec := &Record{}
			p := src.packet(tt.space, tt.zeroRTT, tt.closing, 1200)
			b := s.Build(nil, p, rec)
			if _, err := checkPacket(b, p.Budget, rec); err != nil {
				t.Fatal(err)
			}
			if got := kindsOf(rec); !slices.Equal(got, tt.want) {
				t.Fatalf("frames %v, want %v", got, tt.want)
			}
			if rec.Space != tt.space {
				t.Errorf("rec.Space = %v, want %v", rec.Space, tt.space)
			}
			// Stream work not sent stays queued.
			if tt.space != AppData || tt.closing {
				if !s.HasStreamWork() {
					t.Error("stream work lost in a packet that could not carry it")
				}
			}
		})
	}
}

func TestBuildNilSourcesAndTinyBudgets(t *testing.T) {
	for _, budget := range []int{-5, 0, 1, 2, 3, 4, 10} {
		s := New(Config{})
		st := newFakeStream(0, 50, true)
		s.Activate(st, 0, false)
		rec := &Record{}
		b := s.Build(make([]byte, 5, 64), &Packet{Space: AppData, Budget: budget}, rec)
		if len(b)-5 > max(budget, 0) {
			t.Fatalf("budget %d: %d bytes", budget, len(b)-5)
		}
		if _, err := checkPacket(b[5:], max(budget, 0), rec); err != nil {
			t.Fatalf("budget %d: %v", budget, err)
		}
		if st.badMax != 0 {
			t.Fatalf("budget %d: stream offered a negative max", budget)
		}
	}
}

func TestBuildSourcesSeeTheRoomLeft(t *testing.T) {
	s := New(Config{})
	src := newSources(s)
	src.newStream.size = 5000
	rec := &Record{}
	p := src.packet(AppData, false, false, 500)
	b := s.Build(make([]byte, 0, 600), p, rec)
	if _, err := checkPacket(b, 500, rec); err != nil {
		t.Fatal(err)
	}
	// Each source is offered exactly what the ones before it left.
	if src.ack.max[0] != 500 {
		t.Errorf("ACK offered %d, want 500", src.ack.max[0])
	}
	ackLen := 1 + 2 + 2 + 1 // type, largest 77, delay, count, first range
	if src.control.max[0] != 500-ackLen {
		t.Errorf("control offered %d, want %d", src.control.max[0], 500-ackLen)
	}
	if len(b) != 500 {
		t.Errorf("packet holds %d bytes, want 500 (the new data fills it)", len(b))
	}
}

func TestCreditLimitsNewDataOnly(t *testing.T) {
	s := New(Config{})
	a := newFakeStream(0, 5000, true)
	r := newFakeStream(4, 300, true)
	r.sent, r.finSent = 300, true
	r.lose(0, 300, true)
	s.Activate(a, 3, true)
	s.ActivateRetransmit(r)
	credit := uint64(0)
	rec := &Record{}
	if !s.HasControlOrRetransmit() {
		t.Fatal("HasControlOrRetransmit false with lost data queued")
	}
	b := s.Build(nil, &Packet{Space: AppData, Budget: 1200, Credit: &credit}, rec)
	if _, err := checkPacket(b, 1200, rec); err != nil {
		t.Fatal(err)
	}
	for _, f := range rec.Frames {
		if f.StreamID == 0 {
			t.Fatal("new data sent without credit")
		}
	}
	if len(r.lost) != 0 {
		t.Fatal("retransmission held back by connection credit")
	}
	if !s.HasStreamWork() || s.HasControlOrRetransmit() {
		t.Fatal("stream dropped from its queue when credit ran out, or lost data left")
	}
	if a.newCalls != 0 {
		t.Errorf("stream asked for new data %d times with no credit", a.newCalls)
	}
	// Credit is shared across packets.
	credit = 1500
	var sent uint64
	for range 3 {
		rec.Reset()
		b = s.Build(b[:0], &Packet{Space: AppData, Budget: 1200, Credit: &credit}, rec)
		if _, err := checkPacket(b, 1200, rec); err != nil {
			t.Fatal(err)
		}
		for _, f := range rec.Frames {
			sent += f.Length
		}
	}
	if sent != 1500 || credit != 0 {
		t.Fatalf("sent %d new bytes with credit 1500 (left %d)", sent, credit)
	}
}

func TestDatagramBudget(t *testing.T) {
	tests := []struct{ mtu, used, overhead, want int }{
		{1452, 0, 40, 1412},
		{1452, 1200, 40, 212},
		{1452, 1400, 40, 12},
		{1452, 1409, 40, 3},
		{1452, 1410, 40, 0},
		{1452, 1452, 40, 0},
		{1200, 1300, 40, 0},
	}
	for _, tt := range tests {
		if got := DatagramBudget(tt.mtu, tt.used, tt.overhead); got != tt.want {
			t.Errorf("DatagramBudget(%d, %d, %d) = %d, want %d", tt.mtu, tt.used, tt.overhead, got, tt.want)
		}
	}
}
