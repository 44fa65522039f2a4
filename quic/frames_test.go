package quic

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tsumugi-quic/tsumugi/internal/quictest"
	"github.com/tsumugi-quic/tsumugi/quic/wire"
	"github.com/tsumugi-quic/tsumugi/stream"
)

// Scripts for the connection-level frames: PING, PATH_CHALLENGE,
// CONNECTION_CLOSE.

// TestPingAcknowledged: a PING is acknowledged within max_ack_delay; a
// second ack-eliciting packet is acknowledged at once (RFC 9000 §13.2.1,
// §13.2.2).
func TestPingAcknowledged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		p, _, _ := tn.peerPair(nil, quictest.DefaultParams())
		// Let the handshake's stragglers pass.
		for {
			if _, err := p.ReadPacket(shortCtx(t, time.Second)); err != nil {
				break
			}
		}
		start := time.Now()
		p.SendFrames(wire.Packet1RTT, &wire.PingFrame{})
		pn := p.LastPacketNumber(wire.Packet1RTT)
		ack, _, err := quictest.ExpectFrame(testCtx(t), p, func(a wire.AckFrame) bool { return a.LargestAcked() == pn })
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > maxAckDelay {
			t.Errorf("one PING acknowledged after %v, beyond max_ack_delay %v", d, maxAckDelay)
		}
		if delay := time.Duration(ack.AckDelay<<ackDelayExponent) * time.Microsecond; delay > maxAckDelay {
			t.Errorf("ACK Delay field %v", delay)
		}
		start = time.Now()
		p.SendFrames(wire.Packet1RTT, &wire.PingFrame{})
		p.SendFrames(wire.Packet1RTT, &wire.PingFrame{})
		pn = p.LastPacketNumber(wire.Packet1RTT)
		if _, _, err := quictest.ExpectFrame(testCtx(t), p, func(a wire.AckFrame) bool { return a.LargestAcked() == pn }); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("two ack-eliciting packets acknowledged after %v, want at once", d)
		}
		// ACK ranges report a gap.
		p.SkipPacketNumbers(wire.Packet1RTT, 3)
		p.SendFrames(wire.Packet1RTT, &wire.PingFrame{})
		p.SendFrames(wire.Packet1RTT, &wire.PingFrame{})
		pn = p.LastPacketNumber(wire.Packet1RTT)
		ack, _, err = quictest.ExpectFrame(testCtx(t), p, func(a wire.AckFrame) bool { return a.LargestAcked() == pn })
		if err != nil {
			t.Fatal(err)
		}
		if len(ack.Ranges) < 2 || ack.Ranges[0].Smallest != pn-1 || ack.Ranges[1].Largest != pn-5 {
			t.Errorf("ACK ranges %v around a gap of 3 before %d", ack.Ranges, pn-1)
		}
	})
}

// TestPathChallengeFrame: PATH_CHALLENGE is answered with a PATH_RESPONSE
// carrying the same data (RFC 9000 §8.2.2).
func TestPathChallengeFrame(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		p, _, _ := tn.peerPair(nil, quictest.DefaultParams())
		data := [8]byte{1, 2, 3, 4, 5, 6, 7, 8}
		p.SendFrames(wire.Packet1RTT, &wire.PathChallengeFrame{Data: data})
		pr, _, err := quictest.ExpectFrame[wire.PathResponseFrame](testCtx(t), p, nil)
		if err != nil {
			t.Fatal(err)
		}
		if pr.Data != data {
			t.Fatalf("PATH_RESPONSE %x, want %x", pr.Data, data)
		}
	})
}

// TestConnectionCloseFrame: the peer's CONNECTION_CLOSE of either kind
// ends the connection: Context is cancelled with the peer's code and
// reason, blocked calls wake with it, and the server sends nothing more
// (draining, RFC 9000 §10.2.2) and forgets the connection after the
// draining period.
func TestConnectionCloseFrame(t *testing.T) {
	tests := []struct {
		name  string
		frame wire.ConnectionCloseFrame
		check func(t *testing.T, err error)
	}{
		{"transport", wire.ConnectionCloseFrame{Code: uint64(wire.ProtocolViolation), FrameType: 0x08, Reason: []byte("bad stream")},
			func(t *testing.T, err error) {
				var te *TransportError
				if !errors.As(err, &te) || !te.Remote || te.Code != wire.ProtocolViolation || te.FrameType != 0x08 || te.Reason != "bad stream" {
					t.Fatalf("error %#v", err)
				}
			}},
		{"application", wire.ConnectionCloseFrame{App: true, Code: 0x1234, Reason: []byte("bye")},
			func(t *testing.T, err error) {
				var ae *ApplicationError
				if !errors.As(err, &ae) || !ae.Remote || ae.Code != 0x1234 || ae.Reason != "bye" {
					t.Fatalf("error %#v", err)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tn := newTestNet(t)
				p, sc, ln := tn.peerPair(nil, quictest.DefaultParams())
				accepted := make(chan error, 1)
				go func() {
					_, err := sc.AcceptStream(context.Background())
					accepted <- err
				}()
				synctest.Wait()
				p.SendFrames(wire.Packet1RTT, &tt.frame)
				<-sc.Context().Done()
				tt.check(t, context.Cause(sc.Context()))
				tt.check(t, <-accepted)
				// endStreams cancels the Context before it fails the
				// opener: let it finish (see the test report).
				synctest.Wait()
				if _, err := sc.OpenStream(context.Background()); err == nil {
					t.Fatal("OpenStream after close")
				} else {
					tt.check(t, err)
				}
				// Draining: nothing but, at most, one CONNECTION_CLOSE.
				p.SendFrames(wire.Packet1RTT, &wire.PingFrame{})
				for ctx := shortCtx(t, 10*time.Second); ; {
					pkt, err := p.ReadPacket(ctx)
					if err != nil {
						break
					}
					for _, f := range pkt.Frames {
						if _, ok := f.(wire.ConnectionCloseFrame); !ok {
							t.Fatalf("sent while draining: %v", pkt)
						}
					}
				}
				synctest.Wait()
				if n := tn.serverConns(ln); n != 0 {
					t.Fatalf("%d connections after the draining period", n)
				}
			})
		})
	}
}

// TestInformationalFrames: frames that only inform (RFC 9000 §19.12-19.14,
// an unsolicited PATH_RESPONSE, §19.18) are accepted without effect on the
// connection.
func TestInformationalFrames(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		p, sc, _ := tn.peerPair(nil, quictest.DefaultParams())
		s := serverStream(t, p, sc)
		frames := []quictest.Frame{
			&wire.DataBlockedFrame{Limit: 100},
			&wire.StreamDataBlockedFrame{StreamID: 0, Limit: 2},
			&wire.StreamsBlockedFrame{Bidi: true, Limit: 1},
			&wire.StreamsBlockedFrame{Limit: 0},
			&wire.PathResponseFrame{Data: [8]byte{9}},
			&wire.PaddingFrame{N: 50},
			&wire.MaxDataFrame{Max: 10}, // lower than before: ignored
			&wire.MaxStreamDataFrame{StreamID: 0, Max: 1},
			&wire.MaxStreamsFrame{Bidi: true, Max: 1},
		}
		for _, f := range frames {
			p.SendFrames(wire.Packet1RTT, f, &wire.PingFrame{})
		}
		pn := p.LastPacketNumber(wire.Packet1RTT)
		if _, _, err := quictest.ExpectFrame(testCtx(t), p, func(a wire.AckFrame) bool { return a.LargestAcked() == pn }); err != nil {
			t.Fatal(err)
		}
		if err := sc.Context().Err(); err != nil {
			t.Fatalf("closed: %v", context.Cause(sc.Context()))
		}
		// Lowered limits are ignored: the stream still sends.
		s.Write([]byte("still here"))
		if _, _, err := quictest.ExpectFrame(testCtx(t), p, func(f wire.StreamFrame) bool { return string(f.Data) == "still here" }); err != nil {
			t.Fatal(err)
		}
	})
}

// wholeMessages hands TLS only whole handshake messages, except when one
// message is larger than the scratch buffer: then that much goes at once.
func TestWholeMessages(t *testing.T) {
	msg := func(n int) []byte { // a handshake message with an n-byte body
		return append([]byte{1, byte(n >> 16), byte(n >> 8), byte(n)}, make([]byte, n)...)
	}
	cat := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
	tests := []struct {
		name string
		data []byte
		max  int
		want int
	}{
		{"empty", nil, 100, 0},
		{"header cut", msg(10)[:3], 100, 0},
		{"body cut", msg(10)[:9], 100, 0},
		{"one", msg(10), 100, 14},
		{"two and a cut one", cat(msg(10), msg(20), msg(30)[:5]), 100, 38},
		{"the last does not fit", cat(msg(10), msg(90)), 100, 14},
		{"one too big, not all here", msg(200)[:50], 100, 0},
		{"one too big, enough here", msg(200)[:150], 100, 100},
		{"empty body", msg(0), 100, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := stream.NewRecvBuffer(1 << 20)
			b.Push(0, tt.data)
			var left int32
			if got := wholeMessages(b, tt.max, &left); got != tt.want {
				t.Fatalf("wholeMessages = %d, want %d", got, tt.want)
			}
		})
	}
	// A message larger than max goes in pieces as its bytes come; the
	// messages after it are whole again.
	b := stream.NewRecvBuffer(1 << 20)
	data := cat(msg(246), msg(10), msg(20))
	var left int32
	off := 0
	feed := func(upTo int) {
		b.Push(uint64(off), data[off:upTo])
		off = upTo
	}
	take := func(want int) {
		t.Helper()
		n := wholeMessages(b, 100, &left)
		if n != want {
			t.Fatalf("took %d, want %d (left %d)", n, want, left)
		}
		b.Read(make([]byte, n))
	}
	feed(120)
	take(100) // 100 of the first message's 250 bytes
	take(20)  // what came of the rest
	take(0)
	feed(250 + 5)
	take(100) // the rest of the first message, at most max at a time
	take(30)
	take(0) // the second is not whole yet
	feed(len(data))
	take(38) // the second and third, whole
	if left != 0 {
		t.Fatalf("left %d", left)
	}
}
