package udpio

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"
)

// A train sent with WriteGSO arrives at a plain socket as separate
// datagrams, also past the segment and byte limits of one GSO send.
func TestWriteGSOToPlainReceiver(t *testing.T) {
	cases := []struct {
		name             string
		count, seg, tail int
	}{
		{"ten and a tail", 10, 1200, 500},
		{"exact multiple", 8, 1452, 0},
		{"over 64 segments", 150, 100, 37},
		{"over 64 KiB", 50, 1452, 1},
		{"one datagram", 1, 1500, 0},
		{"shorter than one segment", 0, 1400, 700},
		{"empty datagram", 0, 1200, 0},
	}
	for _, fam := range families(t) {
		for _, v := range variants {
			for _, tc := range cases {
				t.Run(fmt.Sprintf("%s/%s/%s", fam.name, v.name, tc.name), func(t *testing.T) {
					snd := openConn(t, fam.network, fam.addr, v.opts)
					rcv := openPlain(t, fam.network, fam.addr)
					buf := train(tc.count, tc.seg, tc.tail)
					want := split(buf, tc.seg)
					if err := snd.WriteGSO(buf, tc.seg, addrOf(t, rcv.LocalAddr()), ECT0); err != nil {
						t.Fatalf("WriteGSO: %v", err)
					}
					sameDatagrams(t, readPlain(t, rcv, len(want)), want)
					if g := snd.Stats().GSOErrors; g != 0 {
						t.Errorf("GSOErrors = %d", g)
					}
				})
			}
		}
	}
}

// A GSO train read with GRO on arrives as one Message with SegSize set; with
// GRO off, as separate datagrams. Either way the bytes and order hold.
func TestReadBatchGRO(t *testing.T) {
	for _, fam := range families(t) {
		for _, v := range variants {
			t.Run(fam.name+"/"+v.name, func(t *testing.T) {
				snd := openConn(t, fam.network, fam.addr, Options{})
				rcv := openConn(t, fam.network, fam.addr, v.opts)
				buf := train(10, 1200, 300)
				want := split(buf, 1200)
				if err := snd.WriteGSO(buf, 1200, addrOf(t, rcv.LocalAddr()), NotECT); err != nil {
					t.Fatal(err)
				}
				got, _, from, msgs := readAll(t, rcv, len(want))
				sameDatagrams(t, got, want)
				if want := addrOf(t, snd.LocalAddr()); from[0] != want {
					t.Errorf("from %v, want %v", from[0], want)
				}
				coalesced := snd.Features().GSO && rcv.Features().GRO
				if coalesced {
					if len(msgs) != 1 || msgs[0].SegSize != 1200 || msgs[0].N != len(buf) {
						t.Errorf("with GSO and GRO: messages %+v, want one of %d bytes in 1200-byte segments", msgs, len(buf))
					}
				}
				for _, m := range msgs {
					if m.SegSize != 0 && !rcv.Features().GRO {
						t.Errorf("SegSize %d without GRO", m.SegSize)
					}
				}
			})
		}
	}
}

// Datagrams queued before a read come out of one ReadBatch when the batch
// path is on.
func TestReadBatchMany(t *testing.T) {
	for _, fam := range families(t) {
		for _, v := range variants {
			t.Run(fam.name+"/"+v.name, func(t *testing.T) {
				rcv := openConn(t, fam.network, fam.addr, v.opts)
				snd := openPlain(t, fam.network, fam.addr)
				dst := addrOf(t, rcv.LocalAddr())
				var want [][]byte
				for i := range 20 {
					d := datagram(i, 100+i*50)
					want = append(want, d)
					if _, err := snd.WriteToUDPAddrPort(d, dst); err != nil {
						t.Fatal(err)
					}
				}
				msgs := make([]Message, 32)
				for i := range msgs {
					msgs[i].Buf = make([]byte, 2048)
				}
				var got [][]byte
				rcv.SetReadDeadline(time.Now().Add(guard))
				first := 0
				for len(got) < len(want) {
					n, err := rcv.ReadBatch(msgs)
					if err != nil {
						t.Fatal(err)
					}
					if first == 0 {
						first = n
					}
					for _, m := range msgs[:n] {
						if m.SegSize != 0 {
							t.Fatalf("SegSize %d for datagrams sent one by one", m.SegSize)
						}
						if m.Addr != addrOf(t, snd.LocalAddr()) {
							t.Fatalf("from %v, want %v", m.Addr, addrOf(t, snd.LocalAddr()))
						}
						got = append(got, bytes.Clone(m.Buf[:m.N]))
					}
				}
				sameDatagrams(t, got, want)
				switch {
				case rcv.Features().Batch && first < 2:
					t.Errorf("first ReadBatch returned %d datagrams of 20 queued", first)
				case !rcv.Features().Batch && first != 1:
					t.Errorf("portable ReadBatch returned %d datagrams", first)
				}
			})
		}
	}
}

// The ECN codepoint a datagram is sent with is the one read back, also
// between an IPv4 socket and a dual-stack one.
func TestECNRoundTrip(t *testing.T) {
	type pair struct {
		name         string
		sndNet, sndA string
		rcvNet, rcvA string
	}
	pairs := []pair{{"ipv4", "udp4", "127.0.0.1:0", "udp4", "127.0.0.1:0"}}
	if ipv6OK() {
		pairs = append(pairs,
			pair{"ipv6", "udp6", "[::1]:0", "udp6", "[::1]:0"},
			pair{"ipv4 to dual-stack", "udp4", "127.0.0.1:0", "udp", "[::]:0"},
			pair{"dual-stack to ipv4", "udp", "[::]:0", "udp4", "127.0.0.1:0"},
		)
	}
	for _, p := range pairs {
		for _, v := range variants {
			for _, ecn := range []uint8{NotECT, ECT0, ECT1, CE} {
				t.Run(fmt.Sprintf("%s/%s/%02b", p.name, v.name, ecn), func(t *testing.T) {
					snd := openConn(t, p.sndNet, p.sndA, v.opts)
					rcv := openConn(t, p.rcvNet, p.rcvA, v.opts)
					dst := addrOf(t, rcv.LocalAddr())
					if p.sndNet == "udp4" {
						dst = netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), dst.Port())
					}
					// A train and a single datagram, through both write calls.
					if err := snd.WriteGSO(train(3, 500, 0), 500, dst, ecn); err != nil {
						t.Fatal(err)
					}
					if _, err := snd.WriteBatch([]OutMessage{{Buf: datagram(9, 700), Addr: dst, ECN: ecn}}); err != nil {
						t.Fatal(err)
					}
					_, ecns, from, _ := readAll(t, rcv, 4)
					want := NotECT
					if snd.Features().ECN && rcv.Features().ECN {
						want = ecn
					}
					for i, got := range ecns {
						if got != want {
							t.Errorf("datagram %d: ECN %02b, want %02b", i, got, want)
						}
						if !from[i].Addr().Is4() && p.sndNet == "udp4" {
							t.Errorf("sender %v not unmapped", from[i])
						}
					}
				})
			}
		}
	}
}

// WriteBatch sends trains and single datagrams to several destinations in
// order, each with its own codepoint.
func TestWriteBatchMixed(t *testing.T) {
	for _, fam := range families(t) {
		for _, v := range variants {
			t.Run(fam.name+"/"+v.name, func(t *testing.T) {
				snd := openConn(t, fam.network, fam.addr, v.opts)
				a := openConn(t, fam.network, fam.addr, v.opts)
				b := openConn(t, fam.network, fam.addr, v.opts)
				da, db := addrOf(t, a.LocalAddr()), addrOf(t, b.LocalAddr())
				var msgs []OutMessage
				var wantA, wantB [][]byte
				for i := range 100 { // more than one sendmmsg's worth of headers
					var m OutMessage
					switch i % 4 {
					case 0:
						m = OutMessage{Buf: train(5, 1000, 10), SegSize: 1000, Addr: da, ECN: ECT0}
					case 1:
						m = OutMessage{Buf: datagram(i, 1300), Addr: db, ECN: ECT1}
					case 2:
						m = OutMessage{Buf: datagram(i, 200), SegSize: 1200, Addr: da, ECN: NotECT}
					case 3:
						m = OutMessage{Buf: train(70, 20, 0), SegSize: 20, Addr: db, ECN: CE}
					}
					msgs = append(msgs, m)
					if m.Addr == da {
						wantA = append(wantA, split(m.Buf, m.SegSize)...)
					} else {
						wantB = append(wantB, split(m.Buf, m.SegSize)...)
					}
				}
				n, err := snd.WriteBatch(msgs)
				if err != nil || n != len(msgs) {
					t.Fatalf("WriteBatch = %d, %v; want %d", n, err, len(msgs))
				}
				gotA, ecnA, _, _ := readAll(t, a, len(wantA))
				gotB, ecnB, _, _ := readAll(t, b, len(wantB))
				sameDatagrams(t, gotA, wantA)
				sameDatagrams(t, gotB, wantB)
				if snd.Features().ECN && a.Features().ECN {
					// a gets (ECT0 ×6, NotECT ×1) per round; b gets (ECT1, CE ×70).
					for i, e := range ecnA {
						if want := []uint8{ECT0, NotECT}[min(i%7/6, 1)]; e != want {
							t.Fatalf("a: datagram %d ECN %02b, want %02b", i, e, want)
						}
					}
					for i, e := range ecnB {
						want := CE
						if i%71 == 0 {
							want = ECT1
						}
						if e != want {
							t.Fatalf("b: datagram %d ECN %02b, want %02b", i, e, want)
						}
					}
				}
			})
		}
	}
}

// Writers on several goroutines share a Conn; every datagram arrives whole.
func TestConcurrentWrites(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			snd := openConn(t, "udp4", "127.0.0.1:0", v.opts)
			rcv := openConn(t, "udp4", "127.0.0.1:0", v.opts)
			dst := addrOf(t, rcv.LocalAddr())
			const writers, rounds, segs, seg = 4, 25, 5, 1000
			var wg sync.WaitGroup
			errs := make(chan error, writers)
			for w := range writers {
				wg.Go(func() {
					for r := range rounds {
						buf := make([]byte, 0, segs*seg)
						for s := range segs {
							d := datagram(w<<16|r<<8|s, seg)
							buf = append(buf, d...)
						}
						if err := snd.WriteGSO(buf, seg, dst, ECT0); err != nil {
							errs <- err
							return
						}
					}
				})
			}
			got, _, _, _ := readAll(t, rcv, writers*rounds*segs)
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			seen := make(map[string]bool)
			for _, d := range got {
				if len(d) != seg {
					t.Fatalf("datagram of %d bytes", len(d))
				}
				id := int(d[1])<<16 | int(d[2])<<8 | int(d[3])
				if want := datagram(id, seg); string(d) != string(want) {
					t.Fatalf("datagram %x corrupted", id)
				}
				if seen[string(d)] {
					t.Fatalf("datagram %x twice", id)
				}
				seen[string(d)] = true
			}
		})
	}
}

// Close wakes a blocked ReadBatch; a past deadline fails it at once.
func TestReadBatchCloseAndDeadline(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			c := openConn(t, "udp4", "127.0.0.1:0", v.opts)
			msgs := []Message{{Buf: make([]byte, 1500)}}
			c.SetReadDeadline(time.Now().Add(-time.Second))
			if _, err := c.ReadBatch(msgs); !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("past deadline: %v", err)
			}
			c.SetReadDeadline(time.Time{})
			done := make(chan error)
			go func() {
				_, err := c.ReadBatch(msgs)
				done <- err
			}()
			c.Close()
			if err := <-done; !errors.Is(err, net.ErrClosed) {
				t.Fatalf("after Close: %v", err)
			}
			if n, err := c.ReadBatch(nil); n != 0 || err != nil {
				t.Fatalf("ReadBatch(nil) = %d, %v", n, err)
			}
		})
	}
}

// A destination the socket cannot reach is an error naming how far the
// batch got; the messages before it went out.
func TestWriteBatchWrongFamily(t *testing.T) {
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			snd := openConn(t, "udp4", "127.0.0.1:0", v.opts)
			rcv := openPlain(t, "udp4", "127.0.0.1:0")
			dst := addrOf(t, rcv.LocalAddr())
			msgs := []OutMessage{
				{Buf: datagram(0, 100), Addr: dst},
				{Buf: datagram(1, 100), Addr: netip.MustParseAddrPort("[2001:db8::1]:443")},
				{Buf: datagram(2, 100), Addr: dst},
			}
			n, err := snd.WriteBatch(msgs)
			if err == nil || n != 1 {
				t.Fatalf("WriteBatch = %d, %v; want 1 and an error", n, err)
			}
			sameDatagrams(t, readPlain(t, rcv, 1), [][]byte{msgs[0].Buf})
		})
	}
}

// Features reports the families of the socket and the buffers granted.
func TestFeatures(t *testing.T) {
	type want struct{ v4, v6, dual bool }
	cases := []struct {
		network, addr string
		want          want
	}{
		{"udp4", "127.0.0.1:0", want{v4: true}},
		{"udp6", "[::1]:0", want{v6: true}},
		{"udp", "[::]:0", want{v4: true, v6: true, dual: true}},
	}
	for _, tc := range cases {
		t.Run(tc.network+tc.addr, func(t *testing.T) {
			if tc.network != "udp4" && !ipv6OK() {
				t.Skip("no IPv6")
			}
			c := openConn(t, tc.network, tc.addr, Options{})
			f := c.Features()
			if got := (want{f.IPv4, f.IPv6, f.DualStack}); got != tc.want {
				t.Errorf("families %+v, want %+v", got, tc.want)
			}
			if f.BufferTarget != DefaultBufferSize {
				t.Errorf("BufferTarget %d", f.BufferTarget)
			}
			short := f.RecvBuffer > 0 && f.SendBuffer > 0 && (f.RecvBuffer < f.BufferTarget || f.SendBuffer < f.BufferTarget)
			if w := f.BufferWarning(); (w != "") != short {
				t.Errorf("BufferWarning %q with %d/%d of %d", w, f.RecvBuffer, f.SendBuffer, f.BufferTarget)
			}
			t.Logf("%+v %s", f, f.BufferWarning())
		})
	}
	t.Run("keep OS buffers", func(t *testing.T) {
		c := openConn(t, "udp4", "127.0.0.1:0", Options{BufferSize: -1})
		if f := c.Features(); f.BufferTarget != 0 || f.BufferWarning() != "" {
			t.Errorf("%+v", f)
		}
	})
	t.Run("portable", func(t *testing.T) {
		c := openConn(t, "udp4", "127.0.0.1:0", Options{DisableBatch: true})
		if f := c.Features(); f.Batch || f.GSO || f.GRO || f.ECN {
			t.Errorf("%+v", f)
		}
	})
}

func TestBufferWarning(t *testing.T) {
	cases := []struct {
		f    Features
		warn bool
	}{
		{Features{RecvBuffer: 7 << 20, SendBuffer: 7 << 20, BufferTarget: 7 << 20}, false},
		{Features{RecvBuffer: 4 << 20, SendBuffer: 7 << 20, BufferTarget: 7 << 20}, true},
		{Features{RecvBuffer: 7 << 20, SendBuffer: 1 << 20, BufferTarget: 7 << 20}, true},
		{Features{RecvBuffer: 1 << 20, SendBuffer: 1 << 20}, false}, // nothing asked
		{Features{BufferTarget: 7 << 20}, false},                    // sizes unknown
		{Features{RecvBuffer: 8 << 20, SendBuffer: 8 << 20, BufferTarget: 7 << 20}, false},
	}
	for _, tc := range cases {
		if got := tc.f.BufferWarning() != ""; got != tc.warn {
			t.Errorf("%+v: warning %v, want %v", tc.f, got, tc.warn)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open("udp4", "not an address"); err == nil {
		t.Error("Open of a bad address succeeded")
	}
	if _, err := New(nil); err == nil {
		t.Error("New(nil) succeeded")
	}
}

// ReadBatchFill lends buffers to each read attempt and takes them back
// when the socket is empty: a reader waiting on an idle socket holds
// none, and the datagram that wakes it is read into freshly lent buffers.
func TestReadBatchFill(t *testing.T) {
	for _, fam := range families(t) {
		for _, v := range variants {
			t.Run(fam.name+"/"+v.name, func(t *testing.T) {
				rcv := openConn(t, fam.network, fam.addr, v.opts)
				snd := openPlain(t, fam.network, fam.addr)
				dst := addrOf(t, rcv.LocalAddr())
				var mu sync.Mutex
				lent, fills, drains := 0, 0, 0
				fill := func(ms []Message) {
					mu.Lock()
					defer mu.Unlock()
					fills++
					for i := range ms {
						if ms[i].Buf == nil {
							ms[i].Buf = make([]byte, 2048)
							lent++
						}
					}
				}
				drain := func(ms []Message) {
					mu.Lock()
					defer mu.Unlock()
					drains++
					for i := range ms {
						if ms[i].Buf != nil {
							ms[i].Buf = nil
							lent--
						}
					}
				}
				held := func() int {
					mu.Lock()
					defer mu.Unlock()
					return lent
				}
				msgs := make([]Message, 2)
				type result struct {
					n   int
					err error
				}
				done := make(chan result, 1)
				rcv.SetReadDeadline(time.Now().Add(guard))
				go func() {
					n, err := rcv.ReadBatchFill(msgs, fill, drain)
					done <- result{n, err}
				}()
				// Until a datagram comes, the reader waits holding nothing
				// (on the portable path it blocks with its buffers lent).
				time.Sleep(50 * time.Millisecond)
				if h := held(); rcv.Features().Batch && h != 0 {
					t.Fatalf("%d buffers held while the socket is empty", h)
				}
				want := datagram(7, 300)
				if _, err := snd.WriteToUDPAddrPort(want, dst); err != nil {
					t.Fatal(err)
				}
				r := <-done
				if r.err != nil || r.n != 1 {
					t.Fatalf("ReadBatchFill = %d, %v", r.n, r.err)
				}
				if !bytes.Equal(msgs[0].Buf[:msgs[0].N], want) {
					t.Fatalf("read %x, want %x", msgs[0].Buf[:msgs[0].N], want)
				}
				if held() != len(msgs) {
					t.Fatalf("%d buffers lent after the read, want %d (the caller owns them now)", held(), len(msgs))
				}
				if rcv.Features().Batch && (fills < 2 || drains < 1) {
					t.Errorf("%d fills and %d drains: the empty socket was not tried first", fills, drains)
				}
			})
		}
	}
}
