package quic

import (
	"context"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tsumugi-quic/tsumugi/internal/quictest"
	"github.com/tsumugi-quic/tsumugi/quic/internal/recovery"
	"github.com/tsumugi-quic/tsumugi/quic/wire"
	"github.com/tsumugi-quic/tsumugi/stream"
)

// Attacks through acknowledgments (RFC 9000 §13, §19.3; RFC 9002): ACK
// frames with as many ranges as a packet holds, optimistic ACKs of packet
// numbers we never sent, and a peer whose packet numbers leave a gap after
// every packet. An ACK of a number above the largest sent is covered by
// TestProtocolErrors ("ack-of-unsent-packet") and, with a bystander, by
// TestAttackProtocolViolationsWithBystander.

// serverSends makes our server write size bytes on a new unidirectional
// stream (ID 3) and the scripted peer read them all, acknowledging as it
// goes. It returns the numbers of the 1-RTT packets the peer received.
func serverSends(t *testing.T, p *quictest.Peer, sc *Conn, size int) []uint64 {
	t.Helper()
	go func() {
		s, err := sc.OpenUniStream(testCtx(t))
		if err != nil {
			return
		}
		s.Write(make([]byte, size))
		s.Close()
	}()
	p.AutoAck = true
	got, packets, err := p.ReadStream(testCtx(t), uint64(stream.IDFor(stream.ServerUni, 0)))
	p.AutoAck = false
	if err != nil || len(got) != size {
		t.Fatalf("server stream: %d of %d bytes, %v", len(got), size, err)
	}
	var pns []uint64
	for _, pkt := range packets {
		if pkt.Type == wire.Packet1RTT {
			pns = append(pns, pkt.Number)
		}
	}
	slices.Sort(pns)
	return pns
}

// longestRun returns the longest run of consecutive numbers in sorted pns.
func longestRun(pns []uint64) (lo, hi uint64) {
	start := 0
	for i := 1; i <= len(pns); i++ {
		if i == len(pns) || pns[i] != pns[i-1]+1 {
			if pns[i-1]-pns[start] > hi-lo || i-start == len(pns) {
				lo, hi = pns[start], pns[i-1]
			}
			start = i
		}
	}
	return lo, hi
}

// TestAttackAckRangeFlood: four thousand ACK frames, each with as many
// ranges as a packet holds (one packet number acknowledged, the next not,
// about 500 ranges), two million ranges in all. Every range names packets
// the peer did receive, so each frame is valid and is processed in full:
// the work per frame is bounded by its size (the parser refuses a range
// count the frame cannot hold, RFC 9000 §19.3.1; a range costs one binary
// search of the sent packets). The connection stays up and correct, and a
// bystander keeps its service.
func TestAttackAckRangeFlood(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		params := quictest.DefaultParams()
		params.InitialMaxStreamDataUni = 8 << 20
		p, sc, ln := tn.peerPair(nil, params)
		// 4 MiB: about 3,000 packets, so that a packet number we skip
		// (skipPacketNumber, once in 256 to 65,791) still leaves a run of
		// 800 (about 1 run in 100 failed with 2 MiB).
		pns := serverSends(t, p, sc, 4<<20)
		lo, hi := longestRun(pns)
		var ack wire.AckFrame
		for pn := hi; pn >= lo+1 && (len(ack.Ranges) == 0 || ack.Len() < 1100); pn -= 2 {
			ack.Ranges = append(ack.Ranges, wire.AckRange{Smallest: pn, Largest: pn})
		}
		if len(ack.Ranges) < 400 {
			t.Fatalf("only %d packets in a row (%d..%d) to acknowledge", hi-lo+1, lo, hi)
		}
		by := startBystander(t, tn, ln, 512<<10, nil)
		const frames = 4000
		flood(t, p, wire.Packet1RTT, frames, 64, func(int) []quictest.Frame { return []quictest.Frame{&ack} })
		t.Logf("%d ACK frames of %d ranges (%d bytes each): %d ranges", frames, len(ack.Ranges), ack.Len(), frames*len(ack.Ranges))
		if err := sc.Context().Err(); err != nil {
			t.Fatalf("connection ended by valid ACK frames: %v", sc.Context())
		}
		// Still in service: a PING is acknowledged, and the server's
		// next stream arrives whole.
		p.SendFrames(wire.Packet1RTT, &wire.PingFrame{})
		pn := p.LastPacketNumber(wire.Packet1RTT)
		if _, _, err := quictest.ExpectFrame(testCtx(t), p, func(a wire.AckFrame) bool { return a.LargestAcked() >= pn }); err != nil {
			t.Fatal(err)
		}
		by.wait(t)
	})
}

// TestAttackOptimisticAck: our server leaves out a 1-RTT packet number
// now and then (skipPacketNumber, at random intervals of 256 to 64 Ki
// packets); a peer that acknowledges the missing number claims a packet it
// never received, to inflate our sending rate (RFC 9000 §21.4), and is
// closed with PROTOCOL_VIOLATION (§13.1). The script reads a bulk transfer
// until it sees the gap, then acknowledges across it. Tens of thousands of
// packets go by first: the script reads only their packet numbers
// (removing header protection, not the AEAD), to stay quick under -race.
func TestAttackOptimisticAck(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		// Deep socket queues: a gap must be a skipped number, never a
		// datagram lost in a full queue.
		tn.n.QueueLength = 1 << 16
		params := quictest.DefaultParams()
		params.InitialMaxData = 1 << 50
		params.InitialMaxStreamDataUni = 1 << 50
		p, pc, sc, ln := attackPair(t, tn, nil, params)
		quiet(t, p)
		go func() {
			s, err := sc.OpenUniStream(testCtx(t))
			if err != nil {
				return
			}
			buf := make([]byte, 64<<10)
			for {
				if _, err := s.Write(buf); err != nil {
					return
				}
			}
		}()
		by := startBystander(t, tn, ln, 256<<10, nil)
		keys := p.OpenKeys(wire.Packet1RTT)
		pnOffset := 1 + len(p.SrcConnID())
		largest := p.AckFrame(wire.Packet1RTT).LargestAcked()
		first, received := uint64(0), 0
		var skipped uint64
		for skipped == 0 {
			d, _, err := p.ReadDatagram(testCtx(t))
			if err != nil {
				t.Fatalf("after %d packets (first %d, largest %d): %v", received, first, largest, err)
			}
			if wire.IsLongHeader(d[0]) {
				continue
			}
			pnLen, truncated, err := keys.RemoveHeaderProtection(d, pnOffset)
			if err != nil {
				t.Fatal(err)
			}
			pn := wire.DecodePacketNumber(largest, truncated, pnLen*8)
			switch {
			case received == 0:
				first = pn
			case pn > largest+1:
				skipped = largest + 1
			case pn <= largest:
				t.Fatalf("packet %d after %d", pn, largest)
			}
			largest = pn
			received++
			if received%8 == 0 && skipped == 0 {
				// Acknowledge what arrived, so that the server keeps
				// sending.
				p.SendFrames(wire.Packet1RTT, &wire.AckFrame{Ranges: []wire.AckRange{{Smallest: first, Largest: largest}}})
			}
		}
		if st := pc.Stats(); st.DatagramsOverflow > 0 {
			t.Fatalf("%d datagrams lost in the peer's queue: the gap proves nothing", st.DatagramsOverflow)
		}
		t.Logf("packet number %d skipped, after %d packets", skipped, received)
		p.SendFrames(wire.Packet1RTT, &wire.AckFrame{Ranges: []wire.AckRange{{Smallest: first, Largest: largest}}})
		// The peer's own packet number state is stale: open the rest by
		// hand until the CONNECTION_CLOSE.
		for {
			d, _, err := p.ReadDatagram(testCtx(t))
			if err != nil {
				t.Fatalf("no CONNECTION_CLOSE: %v", err)
			}
			if wire.IsLongHeader(d[0]) {
				continue
			}
			pnLen, truncated, err := keys.RemoveHeaderProtection(d, pnOffset)
			if err != nil {
				t.Fatal(err)
			}
			pn := wire.DecodePacketNumber(largest, truncated, pnLen*8)
			largest = max(largest, pn)
			payload, err := keys.Open(d, pnOffset+pnLen, pn)
			if err != nil {
				t.Fatalf("packet %d: %v", pn, err)
			}
			frames, _, err := quictest.ParseFrames(payload)
			if err != nil {
				t.Fatal(err)
			}
			if cc := quictest.FramesOf[wire.ConnectionCloseFrame](&quictest.Packet{Frames: frames}); len(cc) > 0 {
				if cc[0].App || cc[0].Code != uint64(wire.ProtocolViolation) || cc[0].FrameType != wire.FrameTypeAck {
					t.Fatalf("%s, want PROTOCOL_VIOLATION for an ACK frame", quictest.FrameName(cc[0]))
				}
				break
			}
		}
		by.wait(t)
	})
}

// TestAttackPacketNumberGaps: a peer leaves a gap after every packet
// number, so that recording what it sent would take a range per packet.
// We remember at most recovery.DefaultMaxAckRanges ranges (the oldest are
// forgotten, and packets below them count as duplicates, RFC 9000
// §13.2.3): every ACK frame we send stays within that bound, and the
// connection keeps working.
func TestAttackPacketNumberGaps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		p, sc, ln := tn.peerPair(nil, quictest.DefaultParams())
		by := startBystander(t, tn, ln, 256<<10, nil)
		const packets = 5000
		maxRanges := 0
		for i := range packets {
			p.SkipPacketNumbers(wire.Packet1RTT, 1)
			if err := p.SendFrames(wire.Packet1RTT, &wire.PingFrame{}); err != nil {
				t.Fatal(err)
			}
			if i%32 == 31 {
				synctest.Wait()
				for _, pkt := range drain(t, p, time.Microsecond) {
					for _, a := range quictest.FramesOf[wire.AckFrame](pkt) {
						maxRanges = max(maxRanges, len(a.Ranges))
					}
				}
			}
		}
		t.Logf("%d packets with a gap after each: our ACK frames held up to %d ranges", packets, maxRanges)
		if maxRanges > recovery.DefaultMaxAckRanges {
			t.Errorf("an ACK frame with %d ranges, beyond the %d remembered", maxRanges, recovery.DefaultMaxAckRanges)
		}
		if maxRanges < recovery.DefaultMaxAckRanges/2 {
			t.Errorf("ACK frames held at most %d ranges: the attack did not take", maxRanges)
		}
		if err := sc.Context().Err(); err != nil {
			t.Fatalf("connection ended: %v", context.Cause(sc.Context()))
		}
		p.SendFrames(wire.Packet1RTT, &wire.PingFrame{})
		pn := p.LastPacketNumber(wire.Packet1RTT)
		if _, _, err := quictest.ExpectFrame(testCtx(t), p, func(a wire.AckFrame) bool { return a.LargestAcked() == pn }); err != nil {
			t.Fatal(err)
		}
		by.wait(t)
	})
}
