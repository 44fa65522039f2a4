package recovery

import (
	"testing"
	"time"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
	"github.com/tsumugi-quic/tsumugi/sched"
)

// byteReader hands out the fuzz input a byte at a time (0 when exhausted).
type byteReader struct{ b []byte }

func (r *byteReader) next() byte {
	if len(r.b) == 0 {
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *byteReader) more() bool { return len(r.b) > 0 }

// FuzzRecovery drives a Recovery with arbitrary sends, ACK frames (valid or
// hostile), timer runs, discards and state changes, and checks that it never
// panics, reports every record at most once (the harness fails otherwise),
// keeps bytes in flight equal to what is outstanding, leaves state alone on
// a rejected ACK, and keeps the window at or above the minimum.
func FuzzRecovery(f *testing.F) {
	f.Add([]byte{0, 2, 1, 0, 2, 1, 0, 2, 1, 2, 10, 1, 2, 0, 3, 1})
	f.Add([]byte{0, 0, 1, 0, 0, 1, 0, 1, 1, 5, 1, 7, 0, 1, 1, 1, 1, 2, 1, 1, 3, 2, 200, 3})
	f.Add([]byte{7, 0, 2, 1, 0, 2, 1, 0, 2, 0, 2, 50, 1, 2, 4, 0, 3, 2, 255, 3, 3, 3})
	f.Add([]byte{6, 1, 0, 2, 1, 0, 2, 1, 1, 2, 9, 0, 0, 4, 0, 3, 1, 2, 0, 2})
	f.Fuzz(func(t *testing.T, data []byte) {
		in := &byteReader{b: data}
		cfg := Config{IsServer: in.next()&1 == 1, ECN: in.next()&1 == 1}
		if in.next()&1 == 1 {
			cfg.Congestion = AlgorithmNewReno
		}
		h := newHarness(t, cfg)
		var nextPN [sched.NumSpaces]uint64
		now := time.Duration(0)
		for steps := 0; in.more() && steps < 2000; steps++ {
			switch in.next() % 8 {
			case 0: // send
				sp := sched.Space(in.next() % 3)
				flags := in.next()
				size := 40 + int(in.next())*8
				h.sendSize(sp, nextPN[sp], now, flags&1 == 1, size)
				nextPN[sp]++
			case 1: // ACK frame
				sp := sched.Space(in.next() % 3)
				n := int(in.next()%6) + 1
				largest := nextPN[sp] + uint64(in.next()%4) - 2 // sometimes unsent, sometimes wraps
				f := &wire.AckFrame{AckDelay: uint64(in.next()) << (in.next() % 32)}
				hi := largest
				for i := 0; i < n; i++ {
					length := uint64(in.next() % 8)
					lo := hi - min(length, hi)
					f.Ranges = append(f.Ranges, wire.AckRange{Smallest: lo, Largest: hi})
					gap := uint64(in.next()%5) + 2
					if lo < gap {
						break
					}
					hi = lo - gap
				}
				if in.next()&3 == 0 {
					f.ECN = true
					f.ECT0, f.ECT1, f.ECNCE = uint64(in.next()), uint64(in.next()&1), uint64(in.next()%4)
				}
				before := h.r.BytesInFlight()
				if err := h.ack(sp, now, f); err != nil {
					if h.r.BytesInFlight() != before || len(h.acked)+len(h.lost) != 0 {
						t.Fatalf("rejected ACK changed state: %v", err)
					}
				}
			case 2: // time passes
				now += time.Duration(in.next()) * ms
			case 3: // the timer
				if lt := h.r.LossTimer(); !lt.IsZero() {
					if d := lt.Sub(h.base); d > now {
						now = d
					}
				}
				p := h.r.OnLossTimer(h.at(now))
				for sp, n := range p.Packets {
					if n > 2 {
						t.Fatalf("%d probes in space %d", n, sp)
					}
					for i := uint8(0); i < n; i++ {
						h.send(sched.Space(sp), nextPN[sp], now, true)
						nextPN[sp]++
					}
				}
			case 4:
				h.r.DiscardSpace(sched.Space(in.next()%2), h.at(now))
			case 5:
				switch in.next() % 4 {
				case 0:
					h.r.SetHandshakeConfirmed()
				case 1:
					h.r.SetAmplificationLimited(in.next()&1 == 1)
				case 2:
					h.r.SetAppLimited(in.next()&1 == 1)
				case 3:
					h.r.SetPeerMaxAckDelay(time.Duration(in.next()) * ms)
				}
			case 6: // skip a packet number
				sp := sched.Space(in.next() % 3)
				h.r.SkipPacketNumber(sp, nextPN[sp])
				nextPN[sp]++
			case 7:
				if in.next()%16 == 0 {
					h.r.OnRetry(h.at(now))
				} else {
					h.r.SetMaxDatagramSize(1200 + int(in.next())*2)
				}
			}
			h.acked, h.lost, h.discarded = nil, nil, nil
			h.checkInFlight()
			if h.r.CanSend() < 0 || h.r.CongestionWindow() < minimumWindow(h.r.mss) {
				t.Fatalf("CanSend %d cwnd %d", h.r.CanSend(), h.r.CongestionWindow())
			}
			if h.r.PacingBudget(h.at(now)) < 0 || h.r.NextSendTime(h.at(now)).Before(h.at(now)) {
				t.Fatal("pacer out of range")
			}
		}
	})
}

// FuzzReceived feeds a Received arbitrary packet numbers and checks its
// ranges against a model: never a packet acknowledged that did not arrive,
// every arrival before pruning reported as a duplicate when repeated, ranges
// descending, disjoint and bounded.
func FuzzReceived(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 5, 4, 200, 9, 1, 2})
	f.Add([]byte{10, 8, 6, 4, 2, 0, 255, 1, 3, 5, 7})
	f.Fuzz(func(t *testing.T, data []byte) {
		var r Received
		r.Init(ReceivedConfig{MaxAckDelay: 25 * ms, MaxAckRanges: 8})
		arrived := map[uint64]bool{}
		var frame wire.AckFrame
		now := testBase
		for i := 0; i+1 < len(data); i += 2 {
			op, v := data[i], data[i+1]
			now = now.Add(time.Duration(op&7) * ms)
			switch {
			case op&0xe0 == 0xe0:
				r.OnAckSent()
			case op&0xe0 == 0xc0:
				if r.AppendAck(&frame, now, 3) {
					r.OnAckOfAck(frame.Ranges[0].Largest - uint64(v%4))
				}
			default:
				pn := uint64(v) + uint64(op&0x18)<<5
				dup := r.OnPacket(pn, op&1 == 1, ECNCodepoint(op>>1&3), now)
				if arrived[pn] && !dup {
					t.Fatalf("pn %d accepted twice", pn)
				}
				if !dup {
					arrived[pn] = true
				}
			}
			if !r.AppendAck(&frame, now, 3) {
				continue
			}
			if len(frame.Ranges) > 8 {
				t.Fatalf("%d ranges", len(frame.Ranges))
			}
			for j, rg := range frame.Ranges {
				if rg.Smallest > rg.Largest || j > 0 && rg.Largest+1 >= frame.Ranges[j-1].Smallest {
					t.Fatalf("bad ranges %v", frame.Ranges)
				}
				for pn := rg.Smallest; pn <= rg.Largest; pn++ {
					if !arrived[pn] {
						t.Fatalf("pn %d acknowledged but never arrived", pn)
					}
				}
			}
		}
	})
}
