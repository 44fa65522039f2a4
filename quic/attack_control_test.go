package quic

import (
	"context"
	"encoding/binary"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tsumugi-quic/tsumugi/internal/memnet"
	"github.com/tsumugi-quic/tsumugi/internal/quictest"
	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

// Control-frame floods: PATH_CHALLENGE, STOP_SENDING, NEW_CONNECTION_ID,
// RETIRE_CONNECTION_ID and PING. Each answer is bounded (a queue with a
// cap, an answer per stream or per ID rather than per frame) and never
// amplifies: what our server sends the attacker stays below what it
// receives from it.

// serverSocket returns the memnet socket of a test listener.
func serverSocket(ln *Listener) *memnet.Conn { return ln.ep.pc.(*memnet.Conn) }

// quiet reads (and acknowledges) whatever the server still sends, so that
// counts start from a quiet connection.
func quiet(t *testing.T, p *quictest.Peer) {
	t.Helper()
	drain(t, p, time.Second)
	p.AckAll()
	drain(t, p, time.Second)
}

// challengeData is the data of the i-th PATH_CHALLENGE of a flood.
func challengeData(i int) [8]byte {
	var d [8]byte
	binary.BigEndian.PutUint64(d[:], uint64(i)+1)
	return d
}

// TestAttackPathChallengeFlood: a hundred PATH_CHALLENGE frames per packet
// on the connection's path are answered from a queue of maxPathResponses,
// newest kept (RFC 9000 §8.2.2 asks for a response per challenge but
// allows bounding the work); each one from a new address gets one
// PATH_RESPONSE on that path, within three times the bytes that came from
// there (§8.2.1, §9.3.1), and moves nothing (a probing packet, §9.1).
func TestAttackPathChallengeFlood(t *testing.T) {
	t.Run("same-path", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			tn := newTestNet(t)
			p, pc, _, ln := attackPair(t, tn, nil, quictest.DefaultParams())
			quiet(t, p)
			tr := countTraffic(serverSocket(ln))
			by := startBystander(t, tn, ln, 256<<10, nil)
			const packets, perPacket = 300, 100
			sent, answered := map[[8]byte]bool{}, map[[8]byte]bool{}
			responses := 0
			for i := range packets {
				var fs []quictest.Frame
				for j := range perPacket {
					d := challengeData(i*perPacket + j)
					sent[d] = true
					fs = append(fs, &wire.PathChallengeFrame{Data: d})
				}
				if err := p.SendFrames(wire.Packet1RTT, fs...); err != nil {
					t.Fatal(err)
				}
				if i%10 == 9 {
					synctest.Wait()
					time.Sleep(floodPause)
					for _, pkt := range drain(t, p, time.Microsecond) {
						for _, r := range quictest.FramesOf[wire.PathResponseFrame](pkt) {
							if !sent[r.Data] {
								t.Fatalf("PATH_RESPONSE with data %x never challenged", r.Data)
							}
							answered[r.Data] = true
							responses++
						}
					}
					p.AckAll()
				}
			}
			for _, pkt := range drain(t, p, time.Second) {
				responses += len(quictest.FramesOf[wire.PathResponseFrame](pkt))
				for _, r := range quictest.FramesOf[wire.PathResponseFrame](pkt) {
					answered[r.Data] = true
				}
			}
			if last := challengeData(packets*perPacket - 1); !answered[last] {
				t.Error("the newest challenge was not answered")
			}
			out, _, in := tr.to(pc.Addr())
			t.Logf("%d PATH_CHALLENGE frames in %d packets (%d bytes): %d PATH_RESPONSE frames (%d bytes back)",
				packets*perPacket, packets, in, responses, out)
			if responses > maxPathResponses*packets {
				t.Errorf("%d responses to %d packets, beyond %d per packet", responses, packets, maxPathResponses)
			}
			if out > in {
				t.Errorf("sent %d bytes to the flooding peer for %d received", out, in)
			}
			by.wait(t)
		})
	})
	t.Run("new-address", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			tn := newTestNet(t)
			p, pc, sc, ln := attackPair(t, tn, nil, quictest.DefaultParams())
			quiet(t, p)
			tr := countTraffic(serverSocket(ln))
			by := startBystander(t, tn, ln, 256<<10, nil)
			// The attacker's other address: the packets are the
			// connection's (sealed with its keys), their source is new.
			other := tn.n.Listen(netip.AddrPortFrom(netip.MustParseAddr("10.0.0.66"), 0))
			defer other.Close()
			const packets = 1000
			for i := range packets {
				d, err := p.AppendPacket(nil, wire.Packet1RTT, 0, &wire.PathChallengeFrame{Data: challengeData(i)})
				if err != nil {
					t.Fatal(err)
				}
				other.WriteToUDPAddrPort(d, serverAddr)
				if i%50 == 49 {
					synctest.Wait()
					time.Sleep(floodPause)
				}
			}
			synctest.Wait()
			out, outDgrams, in := tr.to(other.Addr())
			t.Logf("%d probing datagrams from a new address (%d bytes): %d answers, %d bytes", packets, in, outDgrams, out)
			if out > 3*in {
				t.Errorf("sent %d bytes to an unvalidated address that sent %d", out, in)
			}
			if outDgrams > packets {
				t.Errorf("%d datagrams for %d challenges", outDgrams, packets)
			}
			if outDgrams == 0 {
				t.Error("no PATH_RESPONSE on the new path")
			}
			if got := sc.RemoteAddr().String(); got != pc.Addr().String() {
				t.Errorf("probing packets moved the connection to %v", got)
			}
			by.wait(t)
		})
	})
}

// TestAttackStopSendingFlood: ten thousand STOP_SENDING frames over the
// hundred bidirectional streams the peer may open. Each stream answers
// once, with one RESET_STREAM (RFC 9000 §3.5), however often it is asked;
// streams beyond the limit would be STREAM_LIMIT_ERROR (TestProtocolErrors).
func TestAttackStopSendingFlood(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		p, pc, sc, ln := attackPair(t, tn, nil, quictest.DefaultParams())
		quiet(t, p)
		tr := countTraffic(serverSocket(ln))
		by := startBystander(t, tn, ln, 256<<10, nil)
		const streams, packets, perPacket = 100, 100, 100
		resets := map[uint64]int{}
		for i := range packets {
			var fs []quictest.Frame
			for j := range perPacket {
				id := uint64((i*perPacket+j)%streams) * 4
				fs = append(fs, &wire.StopSendingFrame{StreamID: id, Code: 7})
			}
			if err := p.SendFrames(wire.Packet1RTT, fs...); err != nil {
				t.Fatal(err)
			}
			if i%10 == 9 {
				synctest.Wait()
				time.Sleep(floodPause)
				for _, pkt := range drain(t, p, time.Microsecond) {
					for _, r := range quictest.FramesOf[wire.ResetStreamFrame](pkt) {
						resets[r.StreamID]++
					}
				}
				p.AckAll()
			}
		}
		for _, pkt := range drain(t, p, time.Second) {
			for _, r := range quictest.FramesOf[wire.ResetStreamFrame](pkt) {
				resets[r.StreamID]++
			}
		}
		out, _, in := tr.to(pc.Addr())
		t.Logf("%d STOP_SENDING frames (%d bytes) over %d streams: RESET_STREAM for %d streams, %d bytes back",
			packets*perPacket, in, streams, len(resets), out)
		if len(resets) != streams {
			t.Errorf("RESET_STREAM for %d streams, want %d", len(resets), streams)
		}
		for id, n := range resets {
			if n > 1 {
				t.Errorf("stream %d reset %d times", id, n)
			}
		}
		if out > in {
			t.Errorf("sent %d bytes to the flooding peer for %d received", out, in)
		}
		if err := sc.Context().Err(); err != nil {
			t.Fatalf("connection ended: %v", context.Cause(sc.Context()))
		}
		by.wait(t)
	})
}

// routesTo counts the endpoint's routing entries (connection IDs) and
// stateless reset tokens that lead to c.
func routesTo(ln *Listener, c *Conn) (ids, tokens int) {
	ln.ep.mu.Lock()
	defer ln.ep.mu.Unlock()
	for _, cc := range ln.ep.conns {
		if cc == c {
			ids++
		}
	}
	for _, cc := range ln.ep.resetTokens {
		if cc == c {
			tokens++
		}
	}
	return ids, tokens
}

// TestAttackConnectionIDChurn: a peer hands out a new connection ID in
// every packet and retires all the older ones (Retire Prior To, RFC 9000
// §19.15), two thousand times; our server retires each in turn and stays
// up. In one packet, twenty such frames leave more retirements pending
// than we track (4 × active_connection_id_limit, at least the 2× §5.1.2
// asks): CONNECTION_ID_LIMIT_ERROR. Beyond the limit without retiring is
// TestProtocolErrors "new-connection-ids-beyond-limit".
func TestAttackConnectionIDChurn(t *testing.T) {
	newID := func(seq uint64) *wire.NewConnectionIDFrame {
		f := &wire.NewConnectionIDFrame{Seq: seq, RetirePriorTo: seq, ConnID: make([]byte, 8)}
		binary.BigEndian.PutUint64(f.ConnID, seq)
		binary.BigEndian.PutUint64(f.ResetToken[:], seq^0x5eed)
		return f
	}
	t.Run("paced", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			tn := newTestNet(t)
			p, _, sc, ln := attackPair(t, tn, nil, quictest.DefaultParams())
			by := startBystander(t, tn, ln, 256<<10, nil)
			const n = 2000
			retired := 0
			for seq := uint64(1); seq <= n; seq++ {
				if err := p.SendFrames(wire.Packet1RTT, newID(seq)); err != nil {
					t.Fatal(err)
				}
				if seq%8 == 0 {
					synctest.Wait()
					time.Sleep(floodPause)
					for _, pkt := range drain(t, p, time.Microsecond) {
						retired += len(quictest.FramesOf[wire.RetireConnectionIDFrame](pkt))
					}
					p.AckAll()
				}
			}
			for _, pkt := range drain(t, p, time.Second) {
				retired += len(quictest.FramesOf[wire.RetireConnectionIDFrame](pkt))
			}
			if err := sc.Context().Err(); err != nil {
				t.Fatalf("connection ended: %v", context.Cause(sc.Context()))
			}
			if retired < n {
				t.Errorf("%d RETIRE_CONNECTION_ID frames for %d IDs retired", retired, n)
			}
			by.wait(t)
		})
	})
	t.Run("burst", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			tn := newTestNet(t)
			p, _, _, ln := attackPair(t, tn, nil, quictest.DefaultParams())
			by := startBystander(t, tn, ln, 256<<10, nil)
			var fs []quictest.Frame
			for seq := uint64(1); seq <= 20; seq++ {
				fs = append(fs, newID(seq))
			}
			p.SendFrames(wire.Packet1RTT, fs...)
			expectClose(t, p, false, uint64(wire.ConnectionIDLimitError))
			by.wait(t)
		})
	})
}

// TestAttackConnectionIDChurnLeavesNoState: after the churn of
// TestAttackConnectionIDChurn, the endpoint keeps no more routes or reset
// tokens for the connection than it has live connection IDs.
func TestAttackConnectionIDChurnLeavesNoState(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		p, _, sc, _ := attackPair(t, tn, nil, quictest.DefaultParams())
		for seq := uint64(1); seq <= 500; seq++ {
			f := &wire.NewConnectionIDFrame{Seq: seq, RetirePriorTo: seq, ConnID: make([]byte, 8)}
			binary.BigEndian.PutUint64(f.ConnID, seq)
			binary.BigEndian.PutUint64(f.ResetToken[:], seq)
			p.SendFrames(wire.Packet1RTT, f)
			if seq%8 == 0 {
				synctest.Wait()
				drain(t, p, time.Microsecond)
				p.AckAll()
			}
		}
		synctest.Wait()
		ids, tokens := routesTo(listenerOf(sc), sc)
		t.Logf("after 500 peer connection IDs: %d routes and %d reset tokens kept for the connection", ids, tokens)
		if tokens > activeConnectionIDLimit {
			t.Errorf("the endpoint keeps %d stateless reset tokens for the connection, more than active_connection_id_limit %d: tokens of retired peer connection IDs must leave the map", tokens, activeConnectionIDLimit)
		}
		if ids > maxLocalConnectionIDsIssued+1 {
			t.Errorf("the endpoint keeps %d routes for the connection", ids)
		}
	})
}

// listenerOf returns the listener of a server connection.
func listenerOf(c *Conn) *Listener { return c.ep.listener }

// TestAttackRetireConnectionIDFlood: a peer retires every connection ID
// we issue as soon as it learns it, a thousand times. Each retirement
// costs a new ID (RFC 9000 §19.16 lets us replace it); we never hold more
// than maxLocalConnectionIDsIssued, and the endpoint's routes follow.
// Retiring an ID never issued is TestProtocolErrors
// "retire-unissued-connection-id".
func TestAttackRetireConnectionIDFlood(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		p, _, sc, lis := attackPair(t, tn, nil, quictest.DefaultParams())
		by := startBystander(t, tn, lis, 256<<10, nil)
		p.AutoAck = true
		const n = 1000
		retired := map[uint64]bool{}
		maxRoutes := 0
		for len(retired) < n {
			var fs []quictest.Frame
			for _, f := range p.PeerConnIDs() {
				if f.Seq != 0 && !retired[f.Seq] {
					retired[f.Seq] = true
					fs = append(fs, &wire.RetireConnectionIDFrame{Seq: f.Seq})
				}
			}
			if len(fs) == 0 {
				if _, err := p.ReadPacket(testCtx(t)); err != nil {
					t.Fatalf("no new connection ID after %d retired: %v", len(retired), err)
				}
				continue
			}
			if err := p.SendFrames(wire.Packet1RTT, fs...); err != nil {
				t.Fatal(err)
			}
			synctest.Wait()
			ids, _ := routesTo(lis, sc)
			maxRoutes = max(maxRoutes, ids)
			if len(retired)%64 == 0 {
				time.Sleep(floodPause)
			}
		}
		t.Logf("%d connection IDs retired: at most %d routes to the connection", len(retired), maxRoutes)
		// The client's original Destination Connection ID, and the IDs
		// we issued.
		if maxRoutes > 1+maxLocalConnectionIDsIssued {
			t.Errorf("%d routes to the connection, beyond %d", maxRoutes, 1+maxLocalConnectionIDsIssued)
		}
		if err := sc.Context().Err(); err != nil {
			t.Fatalf("connection ended: %v", context.Cause(sc.Context()))
		}
		by.wait(t)
	})
}

// TestAttackPingStorm: five thousand PING packets are acknowledged, with
// ACK-only packets (which are not ack-eliciting, so they never start a
// ping-pong, RFC 9000 §13.2.1), at most one for every two PINGs, and never
// more bytes than the storm brought.
func TestAttackPingStorm(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		p, pc, sc, ln := attackPair(t, tn, nil, quictest.DefaultParams())
		quiet(t, p)
		tr := countTraffic(serverSocket(ln))
		by := startBystander(t, tn, ln, 256<<10, nil)
		const pings, burst = 5000, 50
		var packets []*quictest.Packet
		for i := range pings {
			if err := p.SendFrames(wire.Packet1RTT, &wire.PingFrame{}); err != nil {
				t.Fatal(err)
			}
			if i%burst == burst-1 {
				synctest.Wait()
				time.Sleep(floodPause)
				packets = append(packets, drain(t, p, time.Microsecond)...)
			}
		}
		packets = append(packets, drain(t, p, time.Second)...)
		for _, pkt := range packets {
			if pkt.AckEliciting() {
				t.Errorf("an ack-eliciting packet in answer to PINGs: %v", pkt)
			}
		}
		out, outDgrams, in := tr.to(pc.Addr())
		t.Logf("%d PING packets (%d bytes): %d datagrams back (%d bytes)", pings, in, outDgrams, out)
		if outDgrams > pings/2+pings/burst {
			t.Errorf("%d datagrams for %d PINGs", outDgrams, pings)
		}
		if out > in {
			t.Errorf("sent %d bytes to the storming peer for %d received", out, in)
		}
		if err := sc.Context().Err(); err != nil {
			t.Fatalf("connection ended: %v", context.Cause(sc.Context()))
		}
		by.wait(t)
	})
}

// TestAttackDatagramFlood: with DATAGRAM frames negotiated (RFC 9221), a
// peer sends a thousand the application does not read. At most
// maxDatagramQueue wait (the rest are dropped: datagrams are unreliable,
// but still acknowledged, §5.2), the connection stays up, and the
// application then reads the queued ones and no more.
func TestAttackDatagramFlood(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		params := quictest.DefaultParams()
		params.MaxDatagramFrameSize, params.HasMaxDatagramFrameSize = 1200, true
		p, _, sc, ln := attackPair(t, tn, &Config{EnableDatagrams: true}, params)
		by := startBystander(t, tn, ln, 256<<10, nil)
		payload := make([]byte, 1000)
		flood(t, p, wire.Packet1RTT, 1000, 50, func(i int) []quictest.Frame {
			return []quictest.Frame{&quictest.DatagramFrame{Data: payload}}
		})
		if err := sc.Context().Err(); err != nil {
			t.Fatalf("connection ended: %v", context.Cause(sc.Context()))
		}
		queued := 0
		for {
			if _, err := sc.ReceiveDatagram(shortCtx(t, time.Millisecond)); err != nil {
				break
			}
			queued++
		}
		t.Logf("1000 DATAGRAM frames unread: %d queued", queued)
		if queued != maxDatagramQueue {
			t.Errorf("%d datagrams queued, want maxDatagramQueue %d", queued, maxDatagramQueue)
		}
		by.wait(t)
	})
}
