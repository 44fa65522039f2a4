package quic

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tsumugi-quic/tsumugi/internal/memnet"
	"github.com/tsumugi-quic/tsumugi/internal/quictest"
	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

// Closing scripts (RFC 9000 §10.2): graceful Close delivers what was
// written first, CloseWithError's code and reason reach the peer and every
// blocked call, closing and draining periods end.

// TestCloseDeliversData: data written and closed before Close reaches the
// peer in full, then the application close with code 0 — also when the
// network loses datagrams.
func TestCloseDeliversData(t *testing.T) {
	for _, loss := range []float64{0, 0.1} {
		t.Run(map[float64]string{0: "lossless", 0.1: "10%-loss"}[loss], func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tn := newTestNet(t)
				p, sc, ln := tn.peerPair(nil, quictest.DefaultParams())
				if loss > 0 {
					ln.ep.pc.(*memnet.Conn).SetSendFilter(memnet.Loss(loss, 5))
				}
				s := serverStream(t, p, sc)
				msg := bytes.Repeat([]byte("all of it "), 20000)
				closed := make(chan error, 1)
				go func() {
					s.Write(msg)
					s.CloseWrite()
					closed <- sc.Close()
				}()
				p.AutoAck = true
				got, packets, err := p.ReadStream(testCtx(t), 0)
				if err != nil || !bytes.Equal(got, msg) {
					t.Fatalf("read %d of %d bytes before the close: %v", len(got), len(msg), err)
				}
				for _, pkt := range packets {
					if len(quictest.FramesOf[wire.ConnectionCloseFrame](pkt)) > 0 {
						t.Fatal("CONNECTION_CLOSE before the last byte")
					}
				}
				expectClose(t, p, true, 0)
				if err := <-closed; err != nil {
					t.Fatalf("Close: %v", err)
				}
			})
		})
	}
}

// TestCloseDeliversDataOursToOurs: the same between our client and
// server: data the client wrote and closed before Close is all readable by
// the server's application, followed by io.EOF, even when the
// application reads only after the connection closed (the bytes arrived
// and were acknowledged: losing them at the reader is the data-loss pain of
// other stacks). The server's Context cause says the peer closed with 0.
func TestCloseDeliversDataOursToOurs(t *testing.T) {
	tests := []struct {
		name          string
		loss          float64
		readAfterDone bool
	}{
		{"lossless/read-after-close", 0, true},
		{"5%-loss/read-after-close", 0.05, true},
		{"5%-loss/read-while-sending", 0.05, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tn := newTestNet(t)
				ln, spc := tn.listen(nil)
				spc.SetSendFilter(memnet.Loss(tt.loss, 11))
				cc, err := tn.dial(testCtx(t), nil, tn.clientTLS(testALPN), func(pc *memnet.Conn) { pc.SetSendFilter(memnet.Loss(tt.loss, 12)) })
				if err != nil {
					t.Fatal(err)
				}
				sc, err := ln.Accept(testCtx(t))
				if err != nil {
					t.Fatal(err)
				}
				msg := bytes.Repeat([]byte("0123456789abcdef"), 1<<15) // 512 KiB
				go func() {
					s, err := cc.OpenStream(testCtx(t))
					if err != nil {
						return
					}
					s.Write(msg)
					s.CloseWrite()
					cc.Close()
				}()
				s, err := sc.AcceptStream(testCtx(t))
				if err != nil {
					t.Fatal(err)
				}
				if tt.readAfterDone {
					<-sc.Context().Done()
				}
				got, err := io.ReadAll(s)
				if err != nil || !bytes.Equal(got, msg) {
					t.Fatalf("read %d of %d bytes: %v", len(got), len(msg), err)
				}
				<-sc.Context().Done()
				var ae *ApplicationError
				if cause := context.Cause(sc.Context()); !errors.As(cause, &ae) || ae.Code != 0 || !ae.Remote {
					t.Fatalf("server cause %v", cause)
				}
			})
		})
	}
}

// TestCloseWithError: the code and reason reach the peer, and on both
// sides the Context cause and every blocked call carry them.
func TestCloseWithError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		p, sc, _ := tn.peerPair(nil, quictest.DefaultParams())
		go sc.CloseWithError(0x33, "done here")
		f := expectClose(t, p, true, 0x33)
		if string(f.Reason) != "done here" {
			t.Fatalf("reason %q", f.Reason)
		}
		var ae *ApplicationError
		if cause := context.Cause(sc.Context()); !errors.As(cause, &ae) || ae.Code != 0x33 || ae.Reason != "done here" || ae.Remote {
			t.Fatalf("local cause %v", cause)
		}
	})
}

// TestCloseReasonTruncated: a long reason is cut so that CONNECTION_CLOSE
// fits a packet.
func TestCloseReasonTruncated(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		p, sc, _ := tn.peerPair(nil, quictest.DefaultParams())
		go sc.CloseWithError(1, strings.Repeat("why ", 1000))
		f := expectClose(t, p, true, 1)
		if len(f.Reason) == 0 || len(f.Reason) > maxReasonLen {
			t.Fatalf("reason of %d bytes", len(f.Reason))
		}
	})
}

// TestBlockedCallsWakeOnClose: Read, Write, AcceptStream and OpenStream
// blocked on either side wake when a connection closes with
// CloseWithError, with an error carrying the code and reason.
func TestBlockedCallsWakeOnClose(t *testing.T) {
	type op func(t *testing.T, c *Conn) error
	ops := map[string]op{
		"read": func(t *testing.T, c *Conn) error {
			s, err := c.OpenStream(testCtx(t))
			if err != nil {
				return err
			}
			s.Write([]byte("x"))
			_, err = s.Read(make([]byte, 1))
			return err
		},
		"write": func(t *testing.T, c *Conn) error {
			s, err := c.OpenStream(testCtx(t))
			if err != nil {
				return err
			}
			for {
				// The peer never reads: flow control stops us.
				if _, err := s.Write(make([]byte, 64<<10)); err != nil {
					return err
				}
			}
		},
		"accept-stream": func(t *testing.T, c *Conn) error {
			_, err := c.AcceptStream(context.Background())
			return err
		},
		"accept-uni-stream": func(t *testing.T, c *Conn) error {
			_, err := c.AcceptUniStream(context.Background())
			return err
		},
		"open-stream": func(t *testing.T, c *Conn) error {
			for {
				if _, err := c.OpenStream(context.Background()); err != nil {
					return err
				}
			}
		},
	}
	for name, op := range ops {
		for _, closer := range []string{"local", "remote"} {
			t.Run(name+"/"+closer, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					tn := newTestNet(t)
					conf := &Config{MaxIncomingStreams: 3, InitialStreamReceiveWindow: 10000, InitialConnectionReceiveWindow: 10000}
					_, cc, sc := tn.pair(conf, conf)
					errc := make(chan error, 1)
					go func() { errc <- op(t, cc) }()
					time.Sleep(time.Second) // blocked by now
					select {
					case err := <-errc:
						t.Fatalf("%s did not block: %v", name, err)
					default:
					}
					closing := cc
					if closer == "remote" {
						closing = sc
					}
					go closing.CloseWithError(0x99, "shutting down")
					err := <-errc
					var ae *ApplicationError
					if !errors.As(err, &ae) || ae.Code != 0x99 || ae.Reason != "shutting down" || ae.Remote != (closer == "remote") {
						t.Fatalf("%s woke with %v", name, err)
					}
					<-cc.Context().Done()
					if cause := context.Cause(cc.Context()); !errors.As(cause, &ae) || ae.Code != 0x99 {
						t.Fatalf("Context cause %v", cause)
					}
				})
			})
		}
	}
}

// TestClosingPeriod: while closing, the server answers packets with its
// CONNECTION_CLOSE again (rate-limited), and after three PTOs it is gone:
// later packets get a stateless reset.
func TestClosingPeriod(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		p, sc, ln := tn.peerPair(nil, quictest.DefaultParams())
		done := make(chan struct{})
		go func() { sc.CloseWithError(7, "bye"); close(done) }()
		expectClose(t, p, true, 7)
		// A burst of packets a little later (the answers are limited to
		// one per PTO/4) gets one CONNECTION_CLOSE.
		time.Sleep(10 * time.Millisecond)
		for range 3 {
			p.SendFrames(wire.Packet1RTT, &wire.PingFrame{})
		}
		closes := 0
		for ctx := shortCtx(t, 5*time.Millisecond); ; {
			pkt, err := p.ReadPacket(ctx)
			if err != nil {
				break
			}
			for _, f := range quictest.FramesOf[wire.ConnectionCloseFrame](pkt) {
				if f.Code != 7 {
					t.Fatalf("closing period: %s", quictest.FrameName(f))
				}
				closes++
			}
		}
		if closes != 1 {
			t.Fatalf("%d CONNECTION_CLOSE answers to 3 packets in the closing period, want 1", closes)
		}
		<-done                       // CloseWithError returned when CONNECTION_CLOSE was sent
		time.Sleep(10 * time.Second) // well past three PTOs
		synctest.Wait()
		if n := tn.serverConns(ln); n != 0 {
			t.Fatalf("%d connections after the closing period", n)
		}
		d, _ := p.AppendPacket(nil, wire.Packet1RTT, 100, &wire.PingFrame{})
		p.SendRaw(d)
		reset, _, err := p.ReadDatagram(testCtx(t))
		if err != nil || wire.IsLongHeader(reset[0]) || len(reset) >= len(d) {
			t.Fatalf("answer after the closing period: %x, %v", reset, err)
		}
	})
}

// TestListenerCloseClosesConnections: closing the listener closes its
// connections; the peer hears of it.
func TestListenerCloseClosesConnections(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		p, sc, ln := tn.peerPair(nil, quictest.DefaultParams())
		go ln.Close()
		f, err := p.ExpectClose(testCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("peer got %s", quictest.FrameName(f))
		<-sc.Context().Done()
		if cause := context.Cause(sc.Context()); !errors.Is(cause, ErrEndpointClosed) {
			t.Fatalf("cause %v", cause)
		}
		if _, err := ln.Accept(context.Background()); !errors.Is(err, ErrEndpointClosed) {
			t.Fatalf("Accept after Close: %v", err)
		}
	})
}

// TestGracefulCloseGivesUp: a graceful Close waits for the peer's
// acknowledgments only so long: with a silent peer it still closes.
func TestGracefulCloseGivesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		p, sc, _ := tn.peerPair(nil, quictest.DefaultParams())
		s := serverStream(t, p, sc)
		quiesce(t, p)
		p.AutoAck = false
		s.Write([]byte("never acknowledged"))
		s.CloseWrite()
		start := time.Now()
		if err := sc.Close(); err != nil {
			t.Fatal(err)
		}
		t.Logf("Close returned after %v", time.Since(start))
		expectClose(t, p, true, 0)
	})
}

// TestCloseReleasesCryptoBuffers: a connection that closes gives back the
// CRYPTO data it still held. The scripted client sends its ClientHello and
// never acknowledges the server's flight; then the listener closes. Without
// the release, the server's Handshake CRYPTO send buffer would keep its
// 16 KiB chunk until the connection is collected, out of the pool (a server
// whose clients close before acknowledging its NewSessionTicket took a
// fresh chunk for every handshake that way).
func TestCloseReleasesCryptoBuffers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		ln, _ := tn.listen(nil)
		p, _ := tn.peer(quictest.DefaultParams())
		ctx := testCtx(t)
		if err := p.StartTLS(ctx); err != nil {
			t.Fatal(err)
		}
		if err := p.Flush(); err != nil {
			t.Fatal(err)
		}
		if _, err := p.ReadPacket(ctx); err != nil { // the server's flight, never acknowledged
			t.Fatal(err)
		}
		synctest.Wait()
		ln.ep.mu.Lock()
		var sc *Conn
		for c := range ln.ep.all {
			sc = c
		}
		ln.ep.mu.Unlock()
		if sc == nil {
			t.Fatal("no server connection")
		}
		ln.Close()
		<-sc.exited
		for i := range sc.st.levels {
			l := &sc.st.levels[i]
			if n := l.cryptoOut.Buffered(); n != 0 {
				t.Errorf("level %d: %d bytes of CRYPTO data still buffered to send after the close", i, n)
			}
			if n := l.cryptoIn.Readable(); n != 0 {
				t.Errorf("level %d: %d bytes of received CRYPTO data still buffered after the close", i, n)
			}
		}
	})
}

// TestTimeWait: a server connection that closes (closing) or hears the
// peer's CONNECTION_CLOSE (draining) ends at once and leaves a time-wait
// record in its endpoint for three PTOs (time_wait.go): no goroutine and
// no connection state. While the record lasts, the closing one answers a
// packet with the same CONNECTION_CLOSE datagram, the draining one stays
// silent, and neither answers with a stateless reset; afterwards a packet
// for the connection gets a stateless reset.
func TestTimeWait(t *testing.T) {
	for _, closing := range []bool{true, false} {
		t.Run(map[bool]string{true: "closing", false: "draining"}[closing], func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tn := newTestNet(t)
				p, sc, ln := tn.peerPair(nil, quictest.DefaultParams())
				start := time.Now()
				var first []byte
				if closing {
					go sc.CloseWithError(7, "bye")
					d, _, err := p.ReadDatagram(testCtx(t))
					if err != nil {
						t.Fatal(err)
					}
					first = d
				} else {
					p.SendFrames(wire.Packet1RTT, &wire.ConnectionCloseFrame{App: true, Code: 9})
				}
				<-sc.exited
				if took := time.Since(start); took > time.Millisecond {
					t.Fatalf("the connection lived %v after closing: its period passes in the endpoint", took)
				}
				if n := tn.serverConns(ln); n != 0 {
					t.Fatalf("%d connections left", n)
				}
				ln.ep.mu.Lock()
				records := len(ln.ep.timeWaits.queue)
				ln.ep.mu.Unlock()
				if records != 1 {
					t.Fatalf("%d time-wait records, want 1", records)
				}
				time.Sleep(50 * time.Millisecond) // past the rate limit of answers
				d, _ := p.AppendPacket(nil, wire.Packet1RTT, 100, &wire.PingFrame{})
				p.SendRaw(d)
				got, _, err := p.ReadDatagram(shortCtx(t, 20*time.Millisecond))
				switch {
				case closing && (err != nil || !bytes.Equal(got, first)):
					t.Fatalf("closing: answer %x, %v; want the first CONNECTION_CLOSE datagram %x", got, err, first)
				case !closing && err == nil:
					t.Fatalf("draining: answered with %x", got)
				}
				time.Sleep(10 * time.Second) // well past three PTOs
				p.SendRaw(d)
				reset, _, err := p.ReadDatagram(testCtx(t))
				if err != nil || wire.IsLongHeader(reset[0]) || len(reset) >= len(d) || bytes.Equal(reset, first) {
					t.Fatalf("after the period: %x, %v; want a stateless reset", reset, err)
				}
				ln.ep.mu.Lock()
				records = len(ln.ep.timeWaits.queue)
				ln.ep.mu.Unlock()
				if records != 0 {
					t.Fatalf("%d time-wait records after the period", records)
				}
			})
		})
	}
}

// TestTimeWaitUnvalidatedAddress: a server connection that closes before
// it validated the client's address (here it refuses the ALPN) sends its
// CONNECTION_CLOSE once; its time-wait record then absorbs the client's
// packets without answering, so that a forged source address cannot turn
// the record into an amplifier (RFC 9000 §8.1).
func TestTimeWaitUnvalidatedAddress(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		ln, _ := tn.listen(&Config{RetryThreshold: -1})
		p, _ := tn.peer(quictest.DefaultParams(), "not-offered")
		err := p.Handshake(testCtx(t))
		var ce *quictest.CloseError
		if !errors.As(err, &ce) {
			t.Fatalf("handshake: %v, want the server's CONNECTION_CLOSE", err)
		}
		synctest.Wait()
		ln.ep.mu.Lock()
		records := len(ln.ep.timeWaits.queue)
		ln.ep.mu.Unlock()
		if records != 1 || tn.serverConns(ln) != 0 {
			t.Fatalf("%d time-wait records, %d connections; want 1 and 0", records, tn.serverConns(ln))
		}
		time.Sleep(500 * time.Millisecond) // past the rate limit of answers (a quarter of the PTO), within the period
		for range 3 {
			p.SendFrames(wire.PacketInitial, &wire.PingFrame{})
		}
		if d, _, err := p.ReadDatagram(shortCtx(t, 30*time.Millisecond)); err == nil {
			t.Fatalf("answered an unvalidated address from the time-wait record: %x", d)
		}
	})
}
