package quic

import (
	"bytes"
	"io"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tsumugi-quic/tsumugi/internal/quictest"
	"github.com/tsumugi-quic/tsumugi/quic/wire"
	"github.com/tsumugi-quic/tsumugi/stream"
)

// Loss scripts (RFC 9002): the scripted peer reads a packet carrying the
// frame under test and then acts as if it had been lost (Forget: no ACK
// ever covers it), while acknowledging everything else. Our server must
// detect the loss (packet or time threshold, or a PTO probe whose ACK
// reveals the gap) and send the frame's content again: for state frames,
// the current value.

// quiesce reads and acknowledges whatever the server still sends.
func quiesce(t *testing.T, p *quictest.Peer) {
	t.Helper()
	p.AutoAck = true
	for ctx := shortCtx(t, 2*time.Second); ; {
		if _, err := p.ReadPacket(ctx); err != nil {
			return
		}
	}
}

// lossCase is a frame our server sends when act runs.
type lossCase struct {
	name   string
	conf   *Config
	params func(*wire.TransportParameters)
	setup  func(t *testing.T, p *quictest.Peer, sc *Conn) *stream.Stream
	act    func(t *testing.T, sc *Conn, s *stream.Stream)
	// match picks the frame under test; check checks the copy that
	// comes after the loss, given the lost one.
	match func(f any) bool
	// afterLoss, if set, runs once the frame is lost (Forget), before
	// the re-sent copy is awaited.
	afterLoss func(t *testing.T, p *quictest.Peer, s *stream.Stream)
	check     func(t *testing.T, lost, again any)
}

// sendZeros sends n zero bytes on stream id from offset off, in frames
// that fit a datagram.
func sendZeros(p *quictest.Peer, id, off uint64, n int) {
	for n > 0 {
		c := min(n, 1000)
		p.SendFrames(wire.Packet1RTT, &quictest.StreamFrame{StreamID: id, Offset: off, Data: make([]byte, c)})
		off += uint64(c)
		n -= c
	}
}

// acceptedStream: the peer opens bidirectional stream 0 with a few bytes
// and our server accepts it.
func acceptedStream(t *testing.T, p *quictest.Peer, sc *Conn) *stream.Stream {
	return serverStream(t, p, sc)
}

func isStream(id uint64) func(any) bool {
	return func(f any) bool { s, ok := f.(wire.StreamFrame); return ok && s.StreamID == id }
}

func sameFrame(t *testing.T, lost, again any) {
	t.Helper()
	if quictest.FrameName(lost) != quictest.FrameName(again) {
		t.Errorf("re-sent %s, lost %s", quictest.FrameName(again), quictest.FrameName(lost))
	}
}

var lossCases = []lossCase{
	{
		name:  "stream-data",
		setup: acceptedStream,
		act:   func(t *testing.T, sc *Conn, s *stream.Stream) { s.Write([]byte("precious data")) },
		match: isStream(0),
		check: func(t *testing.T, lost, again any) {
			l, a := lost.(wire.StreamFrame), again.(wire.StreamFrame)
			if a.Offset != l.Offset || !bytes.Equal(a.Data, l.Data) {
				t.Errorf("re-sent %s, lost %s", quictest.FrameName(a), quictest.FrameName(l))
			}
		},
	},
	{
		name:  "stream-fin",
		setup: acceptedStream,
		act:   func(t *testing.T, sc *Conn, s *stream.Stream) { s.CloseWrite() },
		match: isStream(0),
		check: func(t *testing.T, lost, again any) {
			if !again.(wire.StreamFrame).Fin {
				t.Errorf("re-sent %s without FIN", quictest.FrameName(again))
			}
		},
	},
	{
		name:  "reset-stream",
		setup: acceptedStream,
		act:   func(t *testing.T, sc *Conn, s *stream.Stream) { s.CancelWrite(0x71) },
		match: func(f any) bool { _, ok := f.(wire.ResetStreamFrame); return ok },
		check: sameFrame,
	},
	{
		name:  "stop-sending",
		setup: acceptedStream,
		act:   func(t *testing.T, sc *Conn, s *stream.Stream) { s.CancelRead(0x72) },
		match: func(f any) bool { _, ok := f.(wire.StopSendingFrame); return ok },
		check: sameFrame,
	},
	{
		name: "max-stream-data",
		conf: &Config{InitialStreamReceiveWindow: 4000},
		setup: func(t *testing.T, p *quictest.Peer, sc *Conn) *stream.Stream {
			s := acceptedStream(t, p, sc) // 2 bytes
			sendZeros(p, 0, 2, 2998)
			return s
		},
		act: func(t *testing.T, sc *Conn, s *stream.Stream) {
			io.ReadFull(s, make([]byte, 3000))
		},
		match: func(f any) bool { _, ok := f.(wire.MaxStreamDataFrame); return ok },
		check: func(t *testing.T, lost, again any) {
			if again.(wire.MaxStreamDataFrame).Max < lost.(wire.MaxStreamDataFrame).Max {
				t.Errorf("re-sent %s after %s", quictest.FrameName(again), quictest.FrameName(lost))
			}
		},
	},
	{
		name: "max-data",
		conf: &Config{InitialConnectionReceiveWindow: 4000},
		setup: func(t *testing.T, p *quictest.Peer, sc *Conn) *stream.Stream {
			s := acceptedStream(t, p, sc) // 2 bytes
			sendZeros(p, 0, 2, 2998)
			return s
		},
		act: func(t *testing.T, sc *Conn, s *stream.Stream) {
			io.ReadFull(s, make([]byte, 3000))
		},
		match: func(f any) bool { _, ok := f.(wire.MaxDataFrame); return ok },
		check: func(t *testing.T, lost, again any) {
			if again.(wire.MaxDataFrame).Max != lost.(wire.MaxDataFrame).Max {
				t.Errorf("re-sent %s, lost %s (nothing was read since)", quictest.FrameName(again), quictest.FrameName(lost))
			}
		},
	},
	{
		// The application reads on after the loss: what goes out is the
		// current limit, never the stale one.
		name: "max-data-current-value",
		conf: &Config{InitialConnectionReceiveWindow: 4000},
		setup: func(t *testing.T, p *quictest.Peer, sc *Conn) *stream.Stream {
			s := acceptedStream(t, p, sc)
			sendZeros(p, 0, 2, 2998)
			return s
		},
		act: func(t *testing.T, sc *Conn, s *stream.Stream) {
			io.ReadFull(s, make([]byte, 3000))
		},
		afterLoss: func(t *testing.T, p *quictest.Peer, s *stream.Stream) {
			sendZeros(p, 0, 3000, 3000)
			if _, err := io.ReadFull(s, make([]byte, 3000)); err != nil {
				t.Error(err)
			}
		},
		match: func(f any) bool { _, ok := f.(wire.MaxDataFrame); return ok },
		check: func(t *testing.T, lost, again any) {
			if again.(wire.MaxDataFrame).Max <= lost.(wire.MaxDataFrame).Max {
				t.Errorf("after more reads, %s follows the lost %s", quictest.FrameName(again), quictest.FrameName(lost))
			}
		},
	},
	{
		name:   "streams-blocked",
		params: func(p *wire.TransportParameters) { p.InitialMaxStreamsBidi = 0 },
		setup:  func(t *testing.T, p *quictest.Peer, sc *Conn) *stream.Stream { return nil },
		act: func(t *testing.T, sc *Conn, s *stream.Stream) {
			sc.OpenStream(sc.Context()) // waits at the limit until the connection ends
		},
		match: func(f any) bool { _, ok := f.(wire.StreamsBlockedFrame); return ok },
		check: sameFrame,
	},
}

func TestLossOfEachFrame(t *testing.T) {
	for _, tc := range lossCases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tn := newTestNet(t)
				params := quictest.DefaultParams()
				if tc.params != nil {
					tc.params(&params)
				}
				p, sc, _ := tn.peerPair(tc.conf, params)
				s := tc.setup(t, p, sc)
				quiesce(t, p)
				if tc.act != nil {
					go tc.act(t, sc, s)
				}
				lost, pkt, err := p.ExpectFrame(testCtx(t), tc.match)
				if err != nil {
					t.Fatal(err)
				}
				p.Forget(pkt)
				if tc.afterLoss != nil {
					tc.afterLoss(t, p, s)
				}
				again, pkt2, err := p.ExpectFrame(testCtx(t), tc.match)
				if err != nil {
					t.Fatalf("%s lost and never sent again: %v", quictest.FrameName(lost), err)
				}
				if pkt2.Number <= pkt.Number {
					t.Fatalf("packet numbers %d then %d", pkt.Number, pkt2.Number)
				}
				tc.check(t, lost, again)
			})
		})
	}
}
