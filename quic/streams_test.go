package quic

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tsumugi-quic/tsumugi/internal/quictest"
	"github.com/tsumugi-quic/tsumugi/quic/wire"
	"github.com/tsumugi-quic/tsumugi/stream"
)

// Scripts for the effect of each stream frame on our server: the scripted
// client sends the frame, the application sees the result.

// TestStreamFrameOpensStream: a STREAM frame opens the stream; AcceptStream
// returns it and Read returns its data in order, however it arrived.
func TestStreamFrameOpensStream(t *testing.T) {
	tests := []struct {
		name   string
		frames []quictest.Frame
	}{
		{"one-frame", []quictest.Frame{&quictest.StreamFrame{StreamID: 0, Data: []byte("hello world"), Fin: true}}},
		{"in-order", []quictest.Frame{
			&quictest.StreamFrame{StreamID: 0, Data: []byte("hello ")},
			&quictest.StreamFrame{StreamID: 0, Offset: 6, Data: []byte("world"), Fin: true},
		}},
		{"reversed", []quictest.Frame{
			&quictest.StreamFrame{StreamID: 0, Offset: 6, Data: []byte("world"), Fin: true},
			&quictest.StreamFrame{StreamID: 0, Data: []byte("hello ")},
		}},
		{"overlapping", []quictest.Frame{
			&quictest.StreamFrame{StreamID: 0, Offset: 3, Data: []byte("lo wor")},
			&quictest.StreamFrame{StreamID: 0, Data: []byte("hello")},
			&quictest.StreamFrame{StreamID: 0, Offset: 8, Data: []byte("rld")},
			&quictest.StreamFrame{StreamID: 0, Offset: 11, Fin: true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tn := newTestNet(t)
				p, sc, _ := tn.peerPair(nil, quictest.DefaultParams())
				// One frame per packet, in the order given.
				for _, f := range tt.frames {
					if err := p.SendFrames(wire.Packet1RTT, f); err != nil {
						t.Fatal(err)
					}
				}
				s, err := sc.AcceptStream(testCtx(t))
				if err != nil {
					t.Fatal(err)
				}
				if s.ID() != 0 {
					t.Fatalf("stream %v", s.ID())
				}
				got, err := io.ReadAll(s)
				if err != nil || string(got) != "hello world" {
					t.Fatalf("read %q, %v", got, err)
				}
			})
		})
	}
}

// TestStreamFrameOpensLowerStreams: opening stream n opens every lower
// stream of its type (RFC 9000 §3.2); they are accepted in order. A
// unidirectional stream goes to AcceptUniStream.
func TestStreamFrameOpensLowerStreams(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		p, sc, _ := tn.peerPair(nil, quictest.DefaultParams())
		p.SendFrames(wire.Packet1RTT,
			&quictest.StreamFrame{StreamID: 8, Data: []byte("eight"), Fin: true},
			&quictest.StreamFrame{StreamID: 6, Data: []byte("uni"), Fin: true},
		)
		for _, want := range []stream.ID{0, 4, 8} {
			s, err := sc.AcceptStream(testCtx(t))
			if err != nil || s.ID() != want {
				t.Fatalf("AcceptStream = %v, %v; want stream %d", s.ID(), err, want)
			}
		}
		for _, want := range []stream.ID{2, 6} {
			s, err := sc.AcceptUniStream(testCtx(t))
			if err != nil || s.ID() != want {
				t.Fatalf("AcceptUniStream = %v, %v; want stream %d", s.ID(), err, want)
			}
			if want == 6 {
				if got, err := io.ReadAll(s); err != nil || string(got) != "uni" {
					t.Fatalf("read %q, %v", got, err)
				}
			}
		}
	})
}

// TestServerStreamData: what the server writes arrives in STREAM frames,
// the FIN last.
func TestServerStreamData(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		p, sc, _ := tn.peerPair(nil, quictest.DefaultParams())
		p.SendFrames(wire.Packet1RTT, &quictest.StreamFrame{StreamID: 0, Data: []byte("request"), Fin: true})
		s, err := sc.AcceptStream(testCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		reply := bytes.Repeat([]byte("0123456789"), 5000)
		go func() {
			io.ReadAll(s)
			s.Write(reply)
			s.Close()
		}()
		got, _, err := p.ReadStream(testCtx(t), 0)
		if err != nil || !bytes.Equal(got, reply) {
			t.Fatalf("read %d bytes, %v", len(got), err)
		}
		// A stream the server opens is its own type, at its first write.
		go func() {
			u, err := sc.OpenUniStream(testCtx(t))
			if err != nil {
				return
			}
			u.Write([]byte("push"))
			u.Close()
		}()
		got, _, err = p.ReadStream(testCtx(t), 3)
		if err != nil || string(got) != "push" {
			t.Fatalf("server uni stream: %q, %v", got, err)
		}
	})
}

// TestResetStreamFrame: Read returns the peer's code after RESET_STREAM
// (RFC 9000 §19.4), as a *stream.StreamError.
func TestResetStreamFrame(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		p, sc, _ := tn.peerPair(nil, quictest.DefaultParams())
		p.SendFrames(wire.Packet1RTT, &quictest.StreamFrame{StreamID: 0, Data: []byte("abc")})
		s, err := sc.AcceptStream(testCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 3)
		if _, err := io.ReadFull(s, buf); err != nil {
			t.Fatal(err)
		}
		errc := make(chan error, 1)
		go func() { _, err := s.Read(buf); errc <- err }()
		synctest.Wait() // Read is blocked
		p.SendFrames(wire.Packet1RTT, &wire.ResetStreamFrame{StreamID: 0, Code: 0x42, FinalSize: 10})
		err = <-errc
		var se *stream.StreamError
		if !errors.As(err, &se) || se.Code != 0x42 || !se.Remote || se.StreamID != 0 {
			t.Fatalf("Read after RESET_STREAM: %v", err)
		}
		if !errors.Is(err, &stream.StreamError{Code: 0x42, Remote: true}) {
			t.Fatalf("errors.Is does not match: %v", err)
		}
	})
}

// TestStopSendingFrame: after STOP_SENDING, Write fails with the code and a
// RESET_STREAM with the same code goes out (RFC 9000 §3.5).
func TestStopSendingFrame(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		p, sc, _ := tn.peerPair(nil, quictest.DefaultParams())
		p.SendFrames(wire.Packet1RTT, &quictest.StreamFrame{StreamID: 4, Data: []byte("x")})
		var s *stream.Stream
		for range 2 { // streams 0 and 4
			var err error
			if s, err = sc.AcceptStream(testCtx(t)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.Write([]byte("some data")); err != nil {
			t.Fatal(err)
		}
		p.SendFrames(wire.Packet1RTT, &wire.StopSendingFrame{StreamID: 4, Code: 0x77})
		rs, _, err := quictest.ExpectFrame(testCtx(t), p, func(f wire.ResetStreamFrame) bool { return f.StreamID == 4 })
		if err != nil {
			t.Fatal(err)
		}
		if rs.Code != 0x77 {
			t.Errorf("RESET_STREAM code %#x, want the STOP_SENDING code 0x77", rs.Code)
		}
		if rs.FinalSize < uint64(len("some data")) && rs.FinalSize != 0 {
			t.Errorf("RESET_STREAM final size %d", rs.FinalSize)
		}
		_, err = s.Write([]byte("more"))
		var se *stream.StreamError
		if !errors.As(err, &se) || se.Code != 0x77 || !se.Remote {
			t.Fatalf("Write after STOP_SENDING: %v", err)
		}
		// The receiving direction still works.
		p.SendFrames(wire.Packet1RTT, &quictest.StreamFrame{StreamID: 4, Offset: 1, Data: []byte("yz"), Fin: true})
		if got, err := io.ReadAll(s); err != nil || string(got) != "xyz" {
			t.Fatalf("read %q, %v", got, err)
		}
	})
}

// TestMaxStreamsFrame: OpenStream waits at the peer's stream limit, says so
// with STREAMS_BLOCKED (RFC 9000 §19.14), and returns once MAX_STREAMS
// raises the limit.
func TestMaxStreamsFrame(t *testing.T) {
	for _, bidi := range []bool{true, false} {
		name := map[bool]string{true: "bidi", false: "uni"}[bidi]
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tn := newTestNet(t)
				params := quictest.DefaultParams()
				params.InitialMaxStreamsBidi, params.InitialMaxStreamsUni = 1, 1
				p, sc, _ := tn.peerPair(nil, params)
				open := func() error {
					if bidi {
						_, err := sc.OpenStream(testCtx(t))
						return err
					}
					_, err := sc.OpenUniStream(testCtx(t))
					return err
				}
				if err := open(); err != nil {
					t.Fatal(err)
				}
				opened := make(chan error, 1)
				go func() { opened <- open() }()
				sb, _, err := quictest.ExpectFrame[wire.StreamsBlockedFrame](testCtx(t), p, nil)
				if err != nil {
					t.Fatal(err)
				}
				if sb.Bidi != bidi || sb.Limit != 1 {
					t.Errorf("STREAMS_BLOCKED %+v", sb)
				}
				select {
				case err := <-opened:
					t.Fatalf("OpenStream returned beyond the limit: %v", err)
				default:
				}
				p.SendFrames(wire.Packet1RTT, &wire.MaxStreamsFrame{Bidi: bidi, Max: 2})
				if err := <-opened; err != nil {
					t.Fatal(err)
				}
			})
		})
	}
}

// TestMaxStreamsFromServer: when the peer's streams finish, our
// server raises its limit with MAX_STREAMS (RFC 9000 §4.6).
func TestMaxStreamsFromServer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		p, sc, _ := tn.peerPair(&Config{MaxIncomingStreams: 2}, quictest.DefaultParams())
		p.SendFrames(wire.Packet1RTT,
			&quictest.StreamFrame{StreamID: 0, Data: []byte("a"), Fin: true},
			&quictest.StreamFrame{StreamID: 4, Data: []byte("b"), Fin: true})
		for range 2 {
			s, err := sc.AcceptStream(testCtx(t))
			if err != nil {
				t.Fatal(err)
			}
			io.ReadAll(s)
			s.Close()
		}
		// The streams are finished once our FINs are acknowledged.
		p.AutoAck = true
		ms, _, err := quictest.ExpectFrame(testCtx(t), p, func(f wire.MaxStreamsFrame) bool { return f.Bidi })
		if err != nil {
			t.Fatal(err)
		}
		if ms.Max < 3 {
			t.Fatalf("MAX_STREAMS %d after two streams finished", ms.Max)
		}
	})
}

// TestReadWakesOnData checks that a Read blocked before the
// data arrives wakes up (the connection never blocks on the stream).
func TestReadWakesOnData(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		p, sc, _ := tn.peerPair(nil, quictest.DefaultParams())
		p.SendFrames(wire.Packet1RTT, &quictest.StreamFrame{StreamID: 0})
		s, err := sc.AcceptStream(testCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		got := make(chan string, 1)
		go func() {
			b, _ := io.ReadAll(s)
			got <- string(b)
		}()
		time.Sleep(time.Second)
		p.SendFrames(wire.Packet1RTT, &quictest.StreamFrame{StreamID: 0, Data: []byte("late"), Fin: true})
		if g := <-got; g != "late" {
			t.Fatalf("read %q", g)
		}
	})
}
