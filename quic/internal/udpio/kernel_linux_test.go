package udpio

import (
	"testing"

	"golang.org/x/sys/unix"
)

// On Linux the batch path and ECN are always there; GSO and GRO need 4.18
// and 5.0, so their absence is only logged.
func TestLinuxFeatures(t *testing.T) {
	c := openConn(t, "udp4", "127.0.0.1:0", Options{})
	f := c.Features()
	if !f.Batch || !f.ECN || !f.DontFragment {
		t.Errorf("features %+v: want Batch, ECN and DontFragment on Linux", f)
	}
	if !f.GSO || !f.GRO {
		t.Logf("kernel without GSO or GRO: %+v", f)
	}
	if unix.Geteuid() == 0 && (f.RecvBuffer < DefaultBufferSize || f.SendBuffer < DefaultBufferSize) {
		t.Errorf("running as root, SO_RCVBUFFORCE should grant %d: %+v", DefaultBufferSize, f)
	}
}

// noChecksum sets SO_NO_CHECK, which makes the kernel refuse segmented
// sends with EINVAL: the same road as a device without checksum offload.
func noChecksum(t *testing.T, c *Conn) {
	t.Helper()
	var err error
	if cerr := c.rc.Control(func(fd uintptr) {
		err = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_NO_CHECK, 1)
	}); cerr != nil {
		t.Fatal(cerr)
	}
	if err != nil {
		t.Skipf("SO_NO_CHECK: %v", err)
	}
}

// A GSO send the kernel refuses turns GSO off and the datagrams still
// arrive, each once: through WriteGSO, and in the middle of a WriteBatch
// after datagrams that already went out.
func TestGSOFallbackOnKernelError(t *testing.T) {
	t.Run("WriteGSO", func(t *testing.T) {
		snd := openConn(t, "udp4", "127.0.0.1:0", Options{})
		if !snd.Features().GSO {
			t.Skip("no GSO")
		}
		noChecksum(t, snd)
		rcv := openPlain(t, "udp4", "127.0.0.1:0")
		buf := train(10, 1200, 99)
		if err := snd.WriteGSO(buf, 1200, addrOf(t, rcv.LocalAddr()), ECT0); err != nil {
			t.Fatalf("WriteGSO: %v", err)
		}
		sameDatagrams(t, readPlain(t, rcv, 11), split(buf, 1200))
		if f, s := snd.Features(), snd.Stats(); f.GSO || s.GSOErrors != 1 {
			t.Errorf("after a refused GSO send: GSO %v, GSOErrors %d", f.GSO, s.GSOErrors)
		}
		// Later sends go out one datagram each without new errors.
		if err := snd.WriteGSO(buf, 1200, addrOf(t, rcv.LocalAddr()), ECT0); err != nil {
			t.Fatal(err)
		}
		sameDatagrams(t, readPlain(t, rcv, 11), split(buf, 1200))
		if s := snd.Stats(); s.GSOErrors != 1 {
			t.Errorf("GSOErrors %d", s.GSOErrors)
		}
	})
	t.Run("WriteBatch", func(t *testing.T) {
		snd := openConn(t, "udp4", "127.0.0.1:0", Options{})
		if !snd.Features().GSO {
			t.Skip("no GSO")
		}
		noChecksum(t, snd)
		rcv := openPlain(t, "udp4", "127.0.0.1:0")
		dst := addrOf(t, rcv.LocalAddr())
		msgs := []OutMessage{
			{Buf: datagram(1, 300), Addr: dst},
			{Buf: datagram(2, 400), Addr: dst},
			{Buf: train(6, 500, 0), SegSize: 500, Addr: dst},
			{Buf: datagram(3, 600), Addr: dst},
		}
		var want [][]byte
		for _, m := range msgs {
			want = append(want, split(m.Buf, m.SegSize)...)
		}
		if n, err := snd.WriteBatch(msgs); n != len(msgs) || err != nil {
			t.Fatalf("WriteBatch = %d, %v", n, err)
		}
		sameDatagrams(t, readPlain(t, rcv, len(want)), want)
		if snd.Features().GSO {
			t.Error("GSO still on")
		}
	})
}

// A datagram longer than its buffer is dropped and counted; of a GRO train
// too long for its buffer, the whole segments that fit are kept.
func TestReadBatchTruncated(t *testing.T) {
	t.Run("datagram", func(t *testing.T) {
		rcv := openConn(t, "udp4", "127.0.0.1:0", Options{})
		snd := openPlain(t, "udp4", "127.0.0.1:0")
		dst := addrOf(t, rcv.LocalAddr())
		long, short := datagram(1, 2000), datagram(2, 100)
		snd.WriteToUDPAddrPort(long, dst)
		snd.WriteToUDPAddrPort(short, dst)
		msgs := make([]Message, 4)
		for i := range msgs {
			msgs[i].Buf = make([]byte, 1500)
		}
		n, err := rcv.ReadBatch(msgs)
		if err != nil || n != 1 {
			t.Fatalf("ReadBatch = %d, %v", n, err)
		}
		sameDatagrams(t, [][]byte{msgs[0].Buf[:msgs[0].N]}, [][]byte{short})
		if s := rcv.Stats(); s.Truncated != 1 {
			t.Errorf("Truncated %d", s.Truncated)
		}
	})
	t.Run("GRO train", func(t *testing.T) {
		snd := openConn(t, "udp4", "127.0.0.1:0", Options{})
		rcv := openConn(t, "udp4", "127.0.0.1:0", Options{})
		if !snd.Features().GSO || !rcv.Features().GRO {
			t.Skip("no GSO or GRO")
		}
		buf := train(10, 1200, 0)
		if err := snd.WriteGSO(buf, 1200, addrOf(t, rcv.LocalAddr()), NotECT); err != nil {
			t.Fatal(err)
		}
		msgs := []Message{{Buf: make([]byte, 5000)}}
		n, err := rcv.ReadBatch(msgs)
		if err != nil || n != 1 {
			t.Fatalf("ReadBatch = %d, %v", n, err)
		}
		if m := msgs[0]; m.N != 4800 || m.SegSize != 1200 {
			t.Errorf("kept N %d SegSize %d, want 4800 in 1200-byte segments", m.N, m.SegSize)
		}
		var got [][]byte
		for d := range msgs[0].Segments() {
			got = append(got, d)
		}
		sameDatagrams(t, got, split(buf[:4800], 1200))
		if s := rcv.Stats(); s.Truncated != 1 {
			t.Errorf("Truncated %d", s.Truncated)
		}
	})
}

// In steady state a WriteGSO and the ReadBatch calls that drain it allocate
// nothing; nor do WriteBatch and the portable path.
func TestSteadyStateAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			snd := openConn(t, "udp4", "127.0.0.1:0", v.opts)
			rcv := openConn(t, "udp4", "127.0.0.1:0", v.opts)
			dst := addrOf(t, rcv.LocalAddr())
			buf := train(20, 1200, 0)
			out := []OutMessage{{Buf: buf[:2400], SegSize: 1200, Addr: dst, ECN: ECT0}, {Buf: buf[:1000], Addr: dst}}
			msgs := make([]Message, 16)
			for i := range msgs {
				msgs[i].Buf = make([]byte, GROBufferSize)
			}
			drain := func(want int) {
				for got := 0; got < want; {
					n, err := rcv.ReadBatch(msgs)
					if err != nil {
						t.Fatal(err)
					}
					for i := range n {
						if m := &msgs[i]; m.SegSize > 0 {
							got += (m.N + m.SegSize - 1) / m.SegSize
						} else {
							got++
						}
					}
				}
			}
			round := func() {
				if err := snd.WriteGSO(buf, 1200, dst, ECT0); err != nil {
					t.Fatal(err)
				}
				if _, err := snd.WriteBatch(out); err != nil {
					t.Fatal(err)
				}
				drain(20 + 3)
			}
			round()
			if a := testing.AllocsPerRun(50, round); a != 0 {
				t.Errorf("%v allocations per round", a)
			}
		})
	}
}
