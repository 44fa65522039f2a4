package quic

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tsumugi-quic/tsumugi/internal/quictest"
	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

// FuzzConnDatagrams feeds fuzzed input to one of our server's connections
// after a real handshake with a scripted client (DATAGRAM frames
// negotiated both ways), inside a synctest bubble.
// The input is a sequence of records, each an operation byte, a length
// byte and that many bytes:
//
//	op%4 == 0: the bytes are the frames of a 1-RTT packet, which the harness
//	           seals with the connection's keys (so that the fuzzer reaches
//	           frame handling rather than failing decryption)
//	op%4 == 1: the bytes are sent as a datagram as they are
//	op%4 == 2: the same frames in a packet whose first byte the harness
//	           xors with the length byte before protection (reserved and
//	           key phase bits: forged headers the keys authenticate)
//	op%4 == 3: no bytes follow; the bubble's clock moves on by the length
//	           byte in ms (timers: ACK delay, PTO, key discard)
//
// Nothing may panic or deadlock; afterwards the connection either answers
// a PING or has ended, and if it ended because of us, with an RFC error
// code, never INTERNAL_ERROR. The seed corpus is in
// testdata/fuzz/FuzzConnDatagrams and below.
func FuzzConnDatagrams(f *testing.F) {
	rec := func(op byte, body []byte) []byte { return append([]byte{op, byte(len(body))}, body...) }
	frames := func(fs ...quictest.Frame) []byte {
		var b []byte
		for _, fr := range fs {
			b = fr.Append(b)
		}
		return b
	}
	f.Add(rec(0, frames(&wire.PingFrame{})))
	f.Add(rec(0, frames(streamF(0, 0, "hello", true))))
	f.Add(append(rec(0, frames(streamF(0, 5, "world", false))), rec(0, frames(streamF(0, 0, "hello", false)))...))
	f.Add(rec(0, frames(&wire.AckFrame{Ranges: []wire.AckRange{{Smallest: 0, Largest: 2}}})))
	f.Add(rec(0, frames(&wire.MaxDataFrame{Max: 1 << 30}, &wire.MaxStreamsFrame{Bidi: true, Max: 1000})))
	f.Add(rec(0, frames(&wire.ResetStreamFrame{StreamID: 4, Code: 1, FinalSize: 10}, &wire.StopSendingFrame{StreamID: 8, Code: 2})))
	f.Add(rec(0, frames(newCID(1), &wire.RetireConnectionIDFrame{Seq: 1})))
	f.Add(rec(0, frames(&wire.PathChallengeFrame{Data: [8]byte{1, 2, 3}}, &wire.PathResponseFrame{})))
	f.Add(rec(0, frames(&wire.CryptoFrame{Offset: 0, Data: []byte("not tls")})))
	f.Add(rec(0, frames(&wire.ConnectionCloseFrame{App: true, Code: 7, Reason: []byte("bye")})))
	f.Add(append([]byte{3, 200}, rec(0, frames(&wire.PingFrame{}))...))
	f.Add(rec(1, []byte{0x40, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}))
	f.Add(rec(2, frames(&wire.PingFrame{})))
	f.Add(rec(0, frames(&quictest.DatagramFrame{Data: []byte("dgram")}, &quictest.DatagramFrame{Data: []byte("more")})))
	f.Fuzz(func(t *testing.T, data []byte) {
		synctest.Test(t, func(t *testing.T) {
			fuzzConn(t, data)
		})
	})
}

func fuzzConn(t *testing.T, data []byte) {
	tn := newTestNet(t)
	params := quictest.DefaultParams()
	params.MaxDatagramFrameSize, params.HasMaxDatagramFrameSize = 1200, true
	p, pc, sc, _ := attackPair(t, tn, &Config{EnableDatagrams: true}, params)
	for len(data) >= 2 {
		op, n := data[0], int(data[1])
		if op%4 == 3 {
			time.Sleep(time.Duration(n) * time.Millisecond)
			data = data[2:]
			continue
		}
		body := data[2:min(2+n, len(data))]
		data = data[min(2+n, len(data)):]
		switch op % 4 {
		case 0:
			p.SendFrames(wire.Packet1RTT, quictest.RawFrame(body))
		case 1:
			p.SendRaw(body)
		case 2:
			p.SendRaw(forgeShort(p, 2, func(b0 *byte) { *b0 ^= byte(n) & 0x1c }, quictest.RawFrame(body)))
		}
		synctest.Wait()
	}
	// Still answering, or gone.
	before := pc.Stats().DatagramsQueued
	p.SendFrames(wire.Packet1RTT, &wire.PingFrame{})
	select {
	case <-sc.Context().Done():
	case <-time.After(time.Second):
		if pc.Stats().DatagramsQueued == before {
			// Not a word for a second: the connection must be on its
			// way out (draining, idle).
			select {
			case <-sc.Context().Done():
			case <-time.After(time.Minute):
				t.Fatal("the connection neither answers a PING nor ends")
			}
		}
	}
	if sc.Context().Err() == nil {
		return
	}
	var te *TransportError
	if cause := context.Cause(sc.Context()); errors.As(cause, &te) && !te.Remote && te.Code == wire.InternalError {
		t.Fatalf("closed with INTERNAL_ERROR: %v", te)
	}
}
