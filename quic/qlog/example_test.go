package qlog_test

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/tsumugi-quic/tsumugi/quic/qlog"
	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

func Example() {
	start := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	odcid := []byte{0xde, 0xad, 0xbe, 0xef}
	var out bytes.Buffer
	// A connection would use qlog.Create(dir, odcid, isClient, start).
	tr := qlog.NewWriter(&out, odcid, true, start)

	now := start.Add(1500 * time.Microsecond)
	p := tr.BeginPacket(now, true, qlog.PacketHeader{Type: wire.Packet1RTT, PacketNumber: 7, DCID: []byte{1, 2}})
	p.Ack([]wire.AckRange{{Smallest: 3, Largest: 5}, {Smallest: 1, Largest: 1}}, 250*time.Microsecond)
	p.Stream(0, 1024, 100, true)
	p.End(160)
	tr.ConnectionClosed(now, qlog.Close{Initiator: qlog.Local, HasCode: true, Code: 0, Trigger: qlog.CloseApplication})

	// A nil Trace does nothing.
	var off *qlog.Trace
	off.BeginPacket(now, true, qlog.PacketHeader{}).End(1)

	if err := tr.Close(); err != nil {
		panic(err)
	}
	for _, rec := range strings.Split(out.String(), "\x1e")[2:] { // skip the header
		fmt.Print(rec)
	}
	// Output:
	// {"time":1.500,"name":"quic:packet_sent","data":{"header":{"packet_type":"1RTT","packet_number":7,"key_phase":0,"dcid":"0102"},"frames":[{"frame_type":"ack","ack_delay":0.250,"acked_ranges":[[3,5],[1]]},{"frame_type":"stream","stream_id":0,"offset":1024,"fin":true,"raw":{"length":100}}],"raw":{"length":160}}}
	// {"time":1.500,"name":"quic:connection_closed","data":{"initiator":"local","connection_error":"no_error","trigger":"application"}}
}
