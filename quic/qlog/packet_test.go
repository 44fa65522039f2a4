package qlog

import (
	"bytes"
	"io"
	"reflect"
	"testing"
	"time"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

func TestPacketInterleavedWithEvents(t *testing.T) {
	tr, buf := newTestTrace()
	p := tr.BeginPacket(testStart, true, PacketHeader{Type: wire.Packet1RTT, PacketNumber: 1})
	p.Ping()
	tr.RecoveryMetricsUpdated(testStart, RecoveryMetrics{BytesInFlight: 1200, Fields: MetricBytesInFlight})
	p.MaxData(100)
	p.End(40)
	evs := events(t, output(t, tr, buf))
	if len(evs) != 2 {
		t.Fatalf("%d events, want 2", len(evs))
	}
	if evs[0]["name"] != "quic:recovery_metrics_updated" || evs[1]["name"] != "quic:packet_sent" {
		t.Fatalf("events in order %v, %v", evs[0]["name"], evs[1]["name"])
	}
	want := decode(t, []byte(`{"header":{"packet_type":"1RTT","packet_number":1,"key_phase":0},
		"frames":[{"frame_type":"ping"},{"frame_type":"max_data","maximum":100}],"raw":{"length":40}}`))
	if got := evs[1]["data"]; !reflect.DeepEqual(got, want) {
		t.Errorf("packet:\n got %v\nwant %v", got, want)
	}
}

func TestPacketStale(t *testing.T) {
	tr, buf := newTestTrace()
	old := tr.BeginPacket(testStart, true, PacketHeader{Type: wire.PacketInitial, PacketNumber: 1})
	old.Ping()
	cur := tr.BeginPacket(testStart, false, PacketHeader{Type: wire.PacketHandshake, PacketNumber: 2})
	old.MaxData(1) // dead: the second BeginPacket discarded it
	old.End(100)
	cur.HandshakeDone()
	cur.End(50)
	cur.Ping() // dead: ended
	cur.End(50)
	var zero Packet
	zero.Ping()
	zero.Frames([]byte{1})
	zero.End(1)
	evs := events(t, output(t, tr, buf))
	if len(evs) != 1 {
		t.Fatalf("%d events, want 1: %v", len(evs), evs)
	}
	want := decode(t, []byte(`{"header":{"packet_type":"handshake","packet_number":2},
		"frames":[{"frame_type":"handshake_done"}],"raw":{"length":50}}`))
	if evs[0]["name"] != "quic:packet_received" || !reflect.DeepEqual(evs[0]["data"], want) {
		t.Errorf("got %v", evs[0])
	}
}

// everyFrame returns a payload holding every frame type, and a function
// logging the same frames with the Packet methods (ACK delays as decoded
// with exponent exp).
func everyFrame(exp uint8) ([]byte, func(p Packet)) {
	tok := [16]byte{1, 15: 2}
	ack := wire.AckFrame{Ranges: []wire.AckRange{{Smallest: 10, Largest: 12}, {Smallest: 5, Largest: 5}, {Smallest: 0, Largest: 2}}, AckDelay: 100}
	ackECN := wire.AckFrame{Ranges: []wire.AckRange{{Smallest: 3, Largest: 3}}, AckDelay: 1, ECN: true, ECT0: 10, ECT1: 11, ECNCE: 12}
	var b []byte
	b = (&wire.PingFrame{}).Append(b)
	b = ack.Append(b)
	b = ackECN.Append(b)
	b = (&wire.ResetStreamFrame{StreamID: 4, Code: 9, FinalSize: 77}).Append(b)
	b = (&wire.StopSendingFrame{StreamID: 8, Code: 10}).Append(b)
	b = (&wire.CryptoFrame{Offset: 5, Data: []byte("hello")}).Append(b)
	b = (&wire.NewTokenFrame{Token: []byte("token")}).Append(b)
	b = (&wire.StreamFrame{StreamID: 0, Offset: 9, Data: []byte("abc"), Fin: true}).Append(b, true)
	b = (&wire.MaxDataFrame{Max: 1 << 40}).Append(b)
	b = (&wire.MaxStreamDataFrame{StreamID: 4, Max: 1 << 20}).Append(b)
	b = (&wire.MaxStreamsFrame{Bidi: true, Max: 100}).Append(b)
	b = (&wire.MaxStreamsFrame{Max: 7}).Append(b)
	b = (&wire.DataBlockedFrame{Limit: 1000}).Append(b)
	b = (&wire.StreamDataBlockedFrame{StreamID: 4, Limit: 2000}).Append(b)
	b = (&wire.StreamsBlockedFrame{Bidi: true, Limit: 100}).Append(b)
	b = (&wire.StreamsBlockedFrame{Limit: 7}).Append(b)
	b = (&wire.NewConnectionIDFrame{Seq: 3, RetirePriorTo: 1, ConnID: []byte{1, 2, 3, 4}, ResetToken: tok}).Append(b)
	b = (&wire.RetireConnectionIDFrame{Seq: 1}).Append(b)
	b = (&wire.PathChallengeFrame{Data: [8]byte{1, 2, 3, 4, 5, 6, 7, 8}}).Append(b)
	b = (&wire.PathResponseFrame{Data: [8]byte{8, 7, 6, 5, 4, 3, 2, 1}}).Append(b)
	b = (&wire.ConnectionCloseFrame{Code: uint64(wire.FrameEncodingError), FrameType: wire.FrameTypeAck, Reason: []byte("ack?")}).Append(b)
	b = (&wire.ConnectionCloseFrame{App: true, Code: 0x100, Reason: []byte{0xc0}}).Append(b)
	b = (&wire.HandshakeDoneFrame{}).Append(b)
	b = (&wire.DatagramFrame{Data: []byte("dgram")}).Append(b, true)
	b = (&wire.PaddingFrame{N: 3}).Append(b)
	b = (&wire.StreamFrame{StreamID: 4, Offset: 0, Data: []byte("to the end")}).Append(b, false) // no Length: last

	log := func(p Packet) {
		p.Ping()
		p.Ack(ack.Ranges, ackDelay(100, exp))
		p.AckECN(ackECN.Ranges, ackDelay(1, exp), 10, 11, 12)
		p.ResetStream(4, 9, 77)
		p.StopSending(8, 10)
		p.Crypto(5, 5)
		p.NewToken(5)
		p.Stream(0, 9, 3, true)
		p.MaxData(1 << 40)
		p.MaxStreamData(4, 1<<20)
		p.MaxStreams(true, 100)
		p.MaxStreams(false, 7)
		p.DataBlocked(1000)
		p.StreamDataBlocked(4, 2000)
		p.StreamsBlocked(true, 100)
		p.StreamsBlocked(false, 7)
		p.NewConnectionID(3, 1, []byte{1, 2, 3, 4}, &tok)
		p.RetireConnectionID(1)
		p.PathChallenge([8]byte{1, 2, 3, 4, 5, 6, 7, 8})
		p.PathResponse([8]byte{8, 7, 6, 5, 4, 3, 2, 1})
		p.ConnectionClose(false, uint64(wire.FrameEncodingError), wire.FrameTypeAck, []byte("ack?"))
		p.ConnectionClose(true, 0x100, 0, []byte{0xc0})
		p.HandshakeDone()
		p.Datagram(5)
		p.Padding(3)
		p.Stream(4, 0, 10, false)
	}
	return b, log
}

// TestFramesParsed checks that Frames logs a payload exactly as the frame
// methods do, with ACK delays scaled by the sender's exponent.
func TestFramesParsed(t *testing.T) {
	for _, sent := range []bool{true, false} {
		local, remote := wire.DefaultTransportParameters(), wire.DefaultTransportParameters()
		local.AckDelayExponent, remote.AckDelayExponent = 10, 0
		exp := uint8(0)
		if sent {
			exp = 10
		}
		payload, log := everyFrame(exp)
		hdr := PacketHeader{Type: wire.Packet1RTT, PacketNumber: 9}

		tr1, buf1 := newTestTrace()
		tr1.ParametersSet(testStart, Local, &local)
		tr1.ParametersSet(testStart, Remote, &remote)
		p := tr1.BeginPacket(testStart, sent, hdr)
		p.Frames(payload)
		p.End(len(payload) + 20)
		got := events(t, output(t, tr1, buf1))

		tr2, buf2 := newTestTrace()
		p = tr2.BeginPacket(testStart, sent, hdr)
		log(p)
		p.End(len(payload) + 20)
		want := events(t, output(t, tr2, buf2))

		if !reflect.DeepEqual(got[2], want[0]) {
			t.Errorf("sent=%v: parsed:\n%v\nlogged:\n%v", sent, got[2], want[0])
		}
		for _, e := range checkEvent(got[2]) {
			t.Error(e)
		}
	}
}

func TestAckDelay(t *testing.T) {
	tests := []struct {
		raw  uint64
		exp  uint8
		want time.Duration
	}{
		{0, 3, 0},
		{1000, 3, 8 * time.Millisecond},
		{1, 20, (1 << 20) * time.Microsecond},
		{wire.MaxVarint, 20, 1<<63 - 1},
		{wire.MaxVarint, 0, 1<<63 - 1},
	}
	for _, tt := range tests {
		if got := ackDelay(tt.raw, tt.exp); got != tt.want {
			t.Errorf("ackDelay(%d, %d) = %v, want %v", tt.raw, tt.exp, got, tt.want)
		}
	}
}

// TestFramesHostile checks payloads that do not parse.
func TestFramesHostile(t *testing.T) {
	tests := []struct {
		name    string
		payload []byte
		frames  string
	}{
		{"unknown type", []byte{0x01, 0x21, 0xaa}, `[{"frame_type":"ping"},{"frame_type":"unknown","frame_type_bytes":33,"raw":{"length":2}}]`},
		{"long unknown type", []byte{0x80, 0x00, 0xff, 0xff}, `[{"frame_type":"unknown","frame_type_bytes":65535,"raw":{"length":4}}]`},
		{"non-minimal type", []byte{0x40, 0x01}, `[{"frame_type":"unknown","frame_type_bytes":1,"raw":{"length":2}}]`},
		{"truncated type", []byte{0x40}, `[{"frame_type":"unknown","frame_type_bytes":64,"raw":{"length":1}}]`},
		{"truncated stream", []byte{0x0a, 0x04, 0x10, 'x'}, `[{"frame_type":"unknown","frame_type_bytes":10,"raw":{"length":4}}]`},
		{"truncated ack", []byte{0x00, 0x02, 0x05}, `[{"frame_type":"padding","raw":{"length":1,"payload_length":1}},{"frame_type":"unknown","frame_type_bytes":2,"raw":{"length":2}}]`},
		{"empty", nil, `[]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, buf := newTestTrace()
			p := tr.BeginPacket(testStart, false, PacketHeader{Type: wire.Packet1RTT})
			p.Frames(tt.payload)
			p.End(100)
			evs := events(t, output(t, tr, buf))
			for _, e := range checkEvent(evs[0]) {
				t.Error(e)
			}
			got := evs[0]["data"].(map[string]any)["frames"]
			want := decode(t, []byte(`{"f":`+tt.frames+`}`))["f"]
			if !reflect.DeepEqual(got, want) {
				t.Errorf("frames:\n got %v\nwant %v", got, want)
			}
		})
	}
}

func FuzzPacketFrames(f *testing.F) {
	payload, _ := everyFrame(3)
	f.Add(payload)
	f.Add([]byte{0x02, 0x05, 0x00, 0x01, 0x00, 0x02})
	f.Add([]byte{0x1c, 0x0a, 0x08, 0x03, 'a', '"', 0xff})
	f.Add([]byte{0x18, 0x01, 0x00, 0x14})
	f.Add([]byte{0xc0})
	f.Fuzz(func(t *testing.T, payload []byte) {
		tr, buf := newTestTrace()
		p := tr.BeginPacket(testStart, false, PacketHeader{Type: wire.Packet1RTT})
		p.Frames(payload)
		p.End(len(payload))
		for _, ev := range events(t, output(t, tr, buf)) {
			for _, e := range checkEvent(ev) {
				t.Error(e)
			}
		}
	})
}

// TestEnabledAllocs checks that a warm trace logs packets and events
// without allocating.
func TestEnabledAllocs(t *testing.T) {
	tr := NewWriter(io.Discard, testODCID, true, testStart)
	payload, _ := everyFrame(3)
	ranges := []wire.AckRange{{Smallest: 90, Largest: 100}, {Smallest: 10, Largest: 80}}
	hdr := PacketHeader{Type: wire.Packet1RTT, DCID: testODCID}
	pns := []uint64{1, 2, 3}
	step := func() {
		hdr.PacketNumber++
		p := tr.BeginPacket(testStart, true, hdr)
		p.Ack(ranges, time.Millisecond)
		p.Stream(4, 1<<20, 1100, false)
		p.MaxData(1 << 30)
		p.End(1200)
		p = tr.BeginPacket(testStart, false, hdr)
		p.Frames(payload)
		p.End(1200)
		tr.PacketsAcked(testStart, SpaceApplicationData, pns)
		tr.RecoveryMetricsUpdated(testStart, RecoveryMetrics{BytesInFlight: hdr.PacketNumber, Fields: MetricBytesInFlight})
		tr.ConnectionClosed(testStart, Close{HasCode: true, Code: 1, Reason: "bye"})
	}
	step() // grow the buffers
	if n := testing.AllocsPerRun(100, step); n != 0 {
		t.Errorf("%v allocations per step, want 0", n)
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestBigPacketBufferDropped checks that a huge record's buffer is not
// kept.
func TestBigPacketBufferDropped(t *testing.T) {
	tr, buf := newTestTrace()
	p := tr.BeginPacket(testStart, false, PacketHeader{Type: wire.Packet1RTT})
	p.Frames(bytes.Repeat([]byte{byte(wire.FrameTypePing)}, 10000)) // ~200 KB of JSON
	p.End(10000)
	if cap(tr.pbuf) > maxKeptBuffer {
		t.Errorf("kept a %d-byte buffer", cap(tr.pbuf))
	}
	p = tr.BeginPacket(testStart, false, PacketHeader{Type: wire.Packet1RTT})
	p.Ping()
	p.End(30)
	evs := events(t, output(t, tr, buf))
	if len(evs) != 2 || len(evs[0]["data"].(map[string]any)["frames"].([]any)) != 10000 {
		t.Errorf("got %d events", len(evs))
	}
}

// BenchmarkPacketSent3Frames: a packet_sent with ACK, STREAM and MAX_DATA
// frames, written through the bufio.Writer to io.Discard.
func BenchmarkPacketSent3Frames(b *testing.B) {
	tr := NewWriter(io.Discard, testODCID, true, testStart)
	ranges := []wire.AckRange{{Smallest: 90, Largest: 100}, {Smallest: 10, Largest: 80}}
	hdr := PacketHeader{Type: wire.Packet1RTT, DCID: testODCID}
	now := testStart
	b.ReportAllocs()
	for b.Loop() {
		hdr.PacketNumber++
		now = now.Add(time.Microsecond)
		p := tr.BeginPacket(now, true, hdr)
		p.Ack(ranges, time.Millisecond)
		p.Stream(4, hdr.PacketNumber*1100, 1100, false)
		p.MaxData(1 << 30)
		p.End(1200)
	}
}

// BenchmarkPacketFramesParsed: the same three frames, logged by parsing the
// payload with Packet.Frames.
func BenchmarkPacketFramesParsed(b *testing.B) {
	tr := NewWriter(io.Discard, testODCID, true, testStart)
	ack := wire.AckFrame{Ranges: []wire.AckRange{{Smallest: 90, Largest: 100}, {Smallest: 10, Largest: 80}}, AckDelay: 125}
	payload := ack.Append(nil)
	payload = wire.AppendStreamFrameHeader(payload, 4, 1<<20, 1100, false, true)
	payload = append(payload, make([]byte, 1100)...)
	payload = (&wire.MaxDataFrame{Max: 1 << 30}).Append(payload)
	hdr := PacketHeader{Type: wire.Packet1RTT, DCID: testODCID}
	b.ReportAllocs()
	for b.Loop() {
		hdr.PacketNumber++
		p := tr.BeginPacket(testStart, true, hdr)
		p.Frames(payload)
		p.End(1200)
	}
}

// BenchmarkNilTrace: the cost of the calls when tracing is off.
func BenchmarkNilTrace(b *testing.B) {
	var tr *Trace
	ranges := []wire.AckRange{{Smallest: 90, Largest: 100}}
	hdr := PacketHeader{Type: wire.Packet1RTT, DCID: testODCID}
	b.ReportAllocs()
	for b.Loop() {
		p := tr.BeginPacket(testStart, true, hdr)
		p.Ack(ranges, time.Millisecond)
		p.Stream(4, 0, 1100, false)
		p.MaxData(1 << 30)
		p.End(1200)
	}
}
