package recovery

import (
	"testing"
	"time"

	"github.com/tsumugi-quic/tsumugi/sched"
)

func probe(space sched.Space, n uint8) ProbeRequest {
	var p ProbeRequest
	p.Packets[space] = n
	return p
}

func TestPTO(t *testing.T) {
	const us = time.Microsecond
	initial, handshake := sched.Initial, sched.Handshake
	tests := []struct {
		name      string
		cfg       Config
		confirmed bool
		steps     []lossStep
	}{
		{
			// Initial RTT 333 ms: PTO 999 ms (no max_ack_delay outside
			// Application Data), doubling on each expiry.
			name: "backoff",
			cfg:  Config{IsServer: true},
			steps: []lossStep{
				{at: 0, space: initial, send: []uint64{0}, checkTimer: true, wantTimer: 999 * ms},
				{at: 999 * ms, space: initial, timer: true, wantProbe: probe(initial, 2),
					checkPTOCount: true, wantPTOCount: 1, checkTimer: true, wantTimer: 1998 * ms},
				{at: 999 * ms, space: initial, send: []uint64{1, 2}, checkTimer: true, wantTimer: 2997 * ms},
				{at: 2997 * ms, space: initial, timer: true, wantProbe: probe(initial, 2),
					checkPTOCount: true, wantPTOCount: 2, checkTimer: true, wantTimer: 4995 * ms},
				// ACK of 2: RTT 2001 ms, loss delay 2251.125 ms: 0 is lost by
				// time, 1 waits until 999 + 2251.125 ms. The backoff resets.
				{at: 3000 * ms, space: initial, ack: ackFrame([2]uint64{2, 2}),
					wantAcked: []uint64{2}, wantLost: []uint64{0},
					checkPTOCount: true, wantPTOCount: 0, checkTimer: true, wantTimer: 3250125 * us},
			},
		},
		{
			name: "a timer run early does nothing",
			cfg:  Config{IsServer: true},
			steps: []lossStep{
				{at: 0, space: initial, send: []uint64{0}},
				{at: 998 * ms, space: initial, timer: true, checkPTOCount: true, wantPTOCount: 0,
					checkTimer: true, wantTimer: 999 * ms},
			},
		},
		{
			// No PTO for Application Data before the handshake is
			// confirmed; then it includes max_ack_delay (25 ms).
			name: "application data waits for confirmation",
			cfg:  Config{IsServer: true},
			steps: []lossStep{
				{at: 0, space: appData, send: []uint64{0}, checkTimer: true, wantTimer: -1},
				{at: 10 * ms, space: handshake, send: []uint64{0}, checkTimer: true, wantTimer: 1009 * ms},
				// Probes: 2 in the expired space, 1 in the other space with
				// packets in flight.
				{at: 1009 * ms, space: handshake, timer: true,
					wantProbe: ProbeRequest{Packets: [sched.NumSpaces]uint8{0, 2, 1}}},
			},
		},
		{
			// A client that has not heard from the server's Handshake
			// space keeps a PTO armed with nothing in flight
			// (anti-deadlock, RFC 9002 §6.2.2.1) and does not reset the
			// backoff on Initial ACKs.
			name: "client anti-deadlock",
			cfg:  Config{},
			steps: []lossStep{
				{at: 0, space: initial, send: []uint64{0}, checkTimer: true, wantTimer: 999 * ms},
				// RTT 100 ms: PTO 100 + 4*50 = 300 ms from now.
				{at: 100 * ms, space: initial, ack: ackFrame([2]uint64{0, 0}), wantAcked: []uint64{0},
					checkTimer: true, wantTimer: 400 * ms},
				{at: 400 * ms, space: initial, timer: true, wantProbe: probe(initial, 1),
					checkPTOCount: true, wantPTOCount: 1, checkTimer: true, wantTimer: 1000 * ms},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runLossScript(t, tt.cfg, tt.confirmed, tt.steps)
		})
	}
}

func TestPTOClientHandshake(t *testing.T) {
	h := runLossScript(t, Config{}, false, []lossStep{
		{at: 0, space: sched.Initial, send: []uint64{0}},
		{at: 100 * ms, space: sched.Initial, ack: ackFrame([2]uint64{0, 0}), wantAcked: []uint64{0}},
		{at: 400 * ms, space: sched.Initial, timer: true, wantProbe: probe(sched.Initial, 1),
			checkPTOCount: true, wantPTOCount: 1},
	})
	// Dropping Initial keys resets the backoff and re-arms from now; the
	// anti-deadlock probe is now a Handshake packet.
	h.r.DiscardSpace(sched.Initial, h.at(500*ms))
	h.expectTimer(800 * ms)
	if p := h.r.OnLossTimer(h.at(800 * ms)); p != probe(sched.Handshake, 1) {
		t.Errorf("probe %v, want one Handshake packet", p)
	}
	h.send(sched.Handshake, 0, 800*ms, true)
	h.expectTimer(800*ms + 600*ms)
	// A Handshake ACK validates the address: the backoff resets and,
	// with nothing in flight, no timer remains.
	if err := h.ack(sched.Handshake, 850*ms, ackFrame([2]uint64{0, 0})); err != nil {
		t.Fatal(err)
	}
	h.expect([]uint64{0}, nil)
	if h.r.PTOCount() != 0 {
		t.Errorf("PTOCount %d after Handshake ACK", h.r.PTOCount())
	}
	h.expectTimer(-1)
}

func TestPTOAmplificationLimit(t *testing.T) {
	h := newHarness(t, Config{IsServer: true})
	h.send(sched.Initial, 0, 0, true)
	h.expectTimer(999 * ms)
	h.r.SetAmplificationLimited(true)
	h.expectTimer(-1)
	h.r.SetAmplificationLimited(false)
	h.expectTimer(999 * ms)
}

func TestDiscardSpace(t *testing.T) {
	h := newHarness(t, Config{IsServer: true})
	h.send(sched.Initial, 0, 0, true)
	h.send(sched.Initial, 1, 0, true)
	h.send(sched.Handshake, 0, 0, true)
	if h.r.BytesInFlight() != 3600 {
		t.Fatalf("bytes in flight %d", h.r.BytesInFlight())
	}
	cwnd := h.r.CongestionWindow()
	h.r.DiscardSpace(sched.Initial, h.at(10*ms))
	if !equalU64(h.discarded, []uint64{0, 1}) || h.acked != nil || h.lost != nil {
		t.Errorf("discarded %v acked %v lost %v", h.discarded, h.acked, h.lost)
	}
	h.checkInFlight()
	if h.r.CongestionWindow() != cwnd {
		t.Errorf("discarding changed cwnd %d -> %d", cwnd, h.r.CongestionWindow())
	}
	h.expectTimer(999 * ms) // the Handshake packet's PTO
	// ACKs in a discarded space are ignored; packets sent there are
	// handed back at once.
	if err := h.ack(sched.Initial, 20*ms, ackFrame([2]uint64{0, 1})); err != nil {
		t.Errorf("ACK in discarded space: %v", err)
	}
	h.send(sched.Initial, 2, 20*ms, true)
	if !equalU64(h.discarded, []uint64{0, 1, 2}) {
		t.Errorf("discarded %v", h.discarded)
	}
	h.checkInFlight()
	h.r.DiscardSpace(sched.Initial, h.at(30*ms)) // twice: no effect
	h.r.DiscardSpace(sched.Handshake, h.at(30*ms))
	h.expectTimer(-1)
	if h.r.BytesInFlight() != 0 || len(h.outstanding) != 0 {
		t.Errorf("after discarding all: bytes %d, outstanding %d", h.r.BytesInFlight(), len(h.outstanding))
	}
}

func TestRetry(t *testing.T) {
	h := newHarness(t, Config{})
	h.send(sched.Initial, 0, 0, true)
	h.send(sched.AppData, 0, 0, true) // 0-RTT
	h.r.OnRetry(h.at(50 * ms))
	// Everything is to be sent again: reported lost, without a congestion
	// event; the window is the initial one.
	if !equalU64(h.lost, []uint64{0, 0}) || h.r.BytesInFlight() != 0 {
		t.Errorf("lost %v bytes %d", h.lost, h.r.BytesInFlight())
	}
	if h.r.CongestionWindow() != 12000 {
		t.Errorf("cwnd %d", h.r.CongestionWindow())
	}
	h.lost = nil
	// Packet numbers continue: the next Initial is 1, and its PTO runs.
	h.send(sched.Initial, 1, 50*ms, true)
	h.expectTimer(50*ms + 999*ms)
	if err := h.ack(sched.Initial, 60*ms, ackFrame([2]uint64{1, 1})); err != nil {
		t.Fatal(err)
	}
	h.expect([]uint64{1}, nil)
}
