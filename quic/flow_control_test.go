package quic

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tsumugi-quic/tsumugi/internal/quictest"
	"github.com/tsumugi-quic/tsumugi/quic/wire"
	"github.com/tsumugi-quic/tsumugi/stream"
)

// Flow-control scripts (RFC 9000 §4): the scripted peer's limits hold our
// server back until MAX_STREAM_DATA / MAX_DATA raise them, and our server
// grants credit as its application reads.

// serverStream makes the peer open bidirectional stream 0 and returns our
// server's side of it.
func serverStream(t *testing.T, p *quictest.Peer, sc *Conn) *stream.Stream {
	t.Helper()
	if err := p.SendFrames(wire.Packet1RTT, &quictest.StreamFrame{StreamID: 0, Data: []byte("go")}); err != nil {
		t.Fatal(err)
	}
	s, err := sc.AcceptStream(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// collectUntil reads (and acknowledges) packets into the assemblers until
// a frame of type T arrives, then reads whatever else comes for another
// second.
func collectUntil[T any](t *testing.T, p *quictest.Peer, sds ...*quictest.StreamData) T {
	t.Helper()
	p.AutoAck = true
	var found T
	ok := false
	for ctx := testCtx(t); !ok; {
		pkt, err := p.ReadPacket(ctx)
		if err != nil {
			t.Fatalf("waiting for %T: %v", found, err)
		}
		for _, sd := range sds {
			sd.Add(pkt)
		}
		if fs := quictest.FramesOf[T](pkt); len(fs) > 0 {
			found, ok = fs[0], true
		}
	}
	for ctx := shortCtx(t, time.Second); ; {
		pkt, err := p.ReadPacket(ctx)
		if err != nil {
			break
		}
		for _, sd := range sds {
			sd.Add(pkt)
		}
	}
	return found
}

// TestMaxStreamDataFrame: the server sends no more than the stream's limit,
// says STREAM_DATA_BLOCKED, and continues after MAX_STREAM_DATA.
func TestMaxStreamDataFrame(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		params := quictest.DefaultParams()
		// Stream 0 is the peer's: its bidi_local limit applies to what
		// our server sends on it (RFC 9000 §18.2).
		params.InitialMaxStreamDataBidiLocal = 1000
		p, sc, _ := tn.peerPair(nil, params)
		s := serverStream(t, p, sc)
		msg := bytes.Repeat([]byte("abcdefghij"), 500)
		go func() { s.Write(msg); s.CloseWrite() }()
		sd := quictest.NewStreamData(0)
		blocked := collectUntil[wire.StreamDataBlockedFrame](t, p, sd)
		if blocked.StreamID != 0 || blocked.Limit != 1000 {
			t.Errorf("STREAM_DATA_BLOCKED %+v", blocked)
		}
		if got := sd.HighestOffset(); got != 1000 {
			t.Fatalf("server sent up to offset %d with a limit of 1000", got)
		}
		p.SendFrames(wire.Packet1RTT, &wire.MaxStreamDataFrame{StreamID: 0, Max: 1 << 20})
		if _, err := p.ReadStreamInto(testCtx(t), sd); err != nil || !bytes.Equal(sd.Data(), msg) {
			t.Fatalf("after MAX_STREAM_DATA: %d bytes, %v", len(sd.Contiguous()), err)
		}
	})
}

// TestMaxDataFrame: the same for the connection's limit, shared by the
// streams.
func TestMaxDataFrame(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		params := quictest.DefaultParams()
		params.InitialMaxData = 1500
		p, sc, _ := tn.peerPair(nil, params)
		p.SendFrames(wire.Packet1RTT, &quictest.StreamFrame{StreamID: 4, Data: []byte("go")})
		var ss []*stream.Stream
		for range 2 {
			s, err := sc.AcceptStream(testCtx(t))
			if err != nil {
				t.Fatal(err)
			}
			ss = append(ss, s)
		}
		msg := bytes.Repeat([]byte("0123456789"), 300)
		for _, s := range ss {
			go func() { s.Write(msg); s.CloseWrite() }()
		}
		sd0, sd4 := quictest.NewStreamData(0), quictest.NewStreamData(4)
		blocked := collectUntil[wire.DataBlockedFrame](t, p, sd0, sd4)
		if blocked.Limit != 1500 {
			t.Errorf("DATA_BLOCKED %+v", blocked)
		}
		if got := sd0.HighestOffset() + sd4.HighestOffset(); got != 1500 {
			t.Fatalf("server sent %d bytes with a connection limit of 1500", got)
		}
		p.SendFrames(wire.Packet1RTT, &wire.MaxDataFrame{Max: 1 << 20})
		for _, sd := range []*quictest.StreamData{sd0, sd4} {
			for !sd.Complete() {
				pkt, err := p.ReadPacket(testCtx(t))
				if err != nil {
					t.Fatalf("stream %d: %d bytes, %v", sd.ID, len(sd.Contiguous()), err)
				}
				sd0.Add(pkt)
				sd4.Add(pkt)
			}
			if !bytes.Equal(sd.Data(), msg) {
				t.Fatalf("stream %d: wrong data", sd.ID)
			}
		}
	})
}

// TestServerGrantsCredit: our server raises MAX_STREAM_DATA and MAX_DATA
// as its application reads, and not before (RFC 9000 §4.2).
func TestServerGrantsCredit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		conf := &Config{InitialStreamReceiveWindow: 4000, InitialConnectionReceiveWindow: 8000}
		p, sc, _ := tn.peerPair(conf, quictest.DefaultParams())
		p.AutoAck = true
		chunk := bytes.Repeat([]byte("x"), 1000)
		for i := range 4 {
			p.SendFrames(wire.Packet1RTT, &quictest.StreamFrame{StreamID: 0, Offset: uint64(i * 1000), Data: chunk})
		}
		s, err := sc.AcceptStream(testCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		// Nobody reads: no credit.
		ctx := shortCtx(t, 2*time.Second)
		for {
			pkt, err := p.ReadPacket(ctx)
			if err != nil {
				break
			}
			for _, f := range pkt.Frames {
				switch f.(type) {
				case wire.MaxStreamDataFrame, wire.MaxDataFrame:
					t.Fatalf("credit granted before the application read: %s", quictest.FrameName(f))
				}
			}
		}
		buf := make([]byte, 4000)
		if _, err := io.ReadFull(s, buf); err != nil {
			t.Fatal(err)
		}
		msd, _, err := quictest.ExpectFrame(testCtx(t), p, func(f wire.MaxStreamDataFrame) bool { return f.StreamID == 0 })
		if err != nil {
			t.Fatal(err)
		}
		if msd.Max <= 4000 {
			t.Fatalf("MAX_STREAM_DATA %d after 4000 bytes read", msd.Max)
		}
		// The new window is usable.
		p.SendFrames(wire.Packet1RTT, &quictest.StreamFrame{StreamID: 0, Offset: 4000, Data: chunk, Fin: true})
		if got, err := io.ReadAll(s); err != nil || len(got) != 1000 {
			t.Fatalf("read %d, %v", len(got), err)
		}
		// Connection credit: fill the rest of the 8000-byte window on
		// another stream and read it.
		for i := range 3 {
			p.SendFrames(wire.Packet1RTT, &quictest.StreamFrame{StreamID: 4, Offset: uint64(i * 1000), Data: chunk})
		}
		s4, err := sc.AcceptStream(testCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(s4, buf[:3000]); err != nil {
			t.Fatal(err)
		}
		md, _, err := quictest.ExpectFrame[wire.MaxDataFrame](testCtx(t), p, nil)
		if err != nil {
			t.Fatal(err)
		}
		if md.Max <= 8000 {
			t.Fatalf("MAX_DATA %d after 8000 bytes read", md.Max)
		}
	})
}

// TestWriteBlockedByFlowControlWakesOnClose: a Write stuck on the peer's
// flow control limit wakes when the connection closes (a pain point in
// other stacks) with the connection's error.
func TestWriteBlockedByFlowControlWakesOnClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		params := quictest.DefaultParams()
		params.InitialMaxStreamDataBidiLocal = 100
		p, sc, _ := tn.peerPair(&Config{StreamSendBuffer: 1000}, params)
		s := serverStream(t, p, sc)
		errc := make(chan error, 1)
		go func() {
			_, err := s.Write(make([]byte, 100000))
			errc <- err
		}()
		time.Sleep(time.Second)
		p.SendFrames(wire.Packet1RTT, &wire.ConnectionCloseFrame{App: true, Code: 9, Reason: []byte("gone")})
		err := <-errc
		var ae *ApplicationError
		if !errors.As(err, &ae) || ae.Code != 9 || !ae.Remote {
			t.Fatalf("Write: %v", err)
		}
		<-sc.Context().Done()
		if cause := context.Cause(sc.Context()); !errors.As(cause, &ae) || ae.Code != 9 {
			t.Fatalf("Context cause %v", cause)
		}
	})
}
