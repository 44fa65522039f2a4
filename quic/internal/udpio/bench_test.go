package udpio

import (
	"net/netip"
	"sync/atomic"
	"testing"
	"time"
)

// benchSeg is a QUIC packet in a 1500-byte MTU over IPv4 (1500 - 20 - 8 -
// 20 spare), the datagram size quic-go's bulk transfer uses.
const benchSeg = 1452

// loopbackPipe is a sender and a receiver on loopback: send puts k
// datagrams of benchSeg bytes on the wire (k <= burst), recv returns how
// many datagrams one call took in.
type loopbackPipe struct {
	burst int
	send  func(k int) error
	recv  func() (int, error)
	rcv   *Conn
}

// BenchmarkLoopback moves b.N datagrams of 1452 bytes from one goroutine to
// another over loopback and reports goodput at the receiver and the
// process's CPU time per gigabyte. The sender keeps at most 1024 datagrams
// in flight, as a transport's flow control would, so that the receiver's
// socket buffer does not overflow.
//
//	plain:   one WriteToUDPAddrPort and one ReadFromUDPAddrPort per datagram
//	mmsg:    WriteBatch of 32 datagrams (sendmmsg), ReadBatch of 32 (recvmmsg)
//	gso:     WriteGSO of 44 datagrams, ReadBatch (recvmmsg) without GRO
//	gso-gro: WriteGSO of 44 datagrams, ReadBatch with GRO
func BenchmarkLoopback(b *testing.B) {
	cases := []struct {
		name string
		opts Options
		gso  bool
	}{
		{"plain", Options{DisableBatch: true}, false},
		{"mmsg", Options{DisableGSO: true, DisableGRO: true}, false},
		{"gso", Options{DisableGRO: true}, true},
		{"gso-gro", Options{}, true},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			snd := openConn(b, "udp4", "127.0.0.1:0", bc.opts)
			rcv := openConn(b, "udp4", "127.0.0.1:0", bc.opts)
			if bc.gso && !snd.Features().GSO {
				b.Skip("no GSO")
			}
			dst := addrOf(b, rcv.LocalAddr())
			runLoopback(b, newPipe(snd, rcv, dst, bc.gso))
		})
	}
}

func newPipe(snd, rcv *Conn, dst netip.AddrPort, gso bool) loopbackPipe {
	const batch = 32
	p := loopbackPipe{rcv: rcv}
	msgs := make([]Message, batch)
	bufSize := 2048
	if rcv.Features().GRO {
		bufSize = GROBufferSize
	}
	for i := range msgs {
		msgs[i].Buf = make([]byte, bufSize)
	}
	p.recv = func() (int, error) {
		n, err := rcv.ReadBatch(msgs)
		got := 0
		for _, m := range msgs[:n] {
			if m.SegSize > 0 {
				got += (m.N + m.SegSize - 1) / m.SegSize
			} else {
				got++
			}
		}
		return got, err
	}
	switch {
	case gso:
		p.burst = MaxGSOBytes / benchSeg // 45
		buf := make([]byte, p.burst*benchSeg)
		p.send = func(k int) error { return snd.WriteGSO(buf[:k*benchSeg], benchSeg, dst, ECT0) }
	case snd.Features().Batch:
		p.burst = batch
		out := make([]OutMessage, batch)
		for i := range out {
			out[i] = OutMessage{Buf: make([]byte, benchSeg), Addr: dst, ECN: ECT0}
		}
		p.send = func(k int) error {
			_, err := snd.WriteBatch(out[:k])
			return err
		}
	default:
		p.burst = 1
		buf := make([]byte, benchSeg)
		p.send = func(int) error { return snd.WriteGSO(buf, 0, dst, ECT0) }
	}
	return p
}

func runLoopback(b *testing.B, p loopbackPipe) {
	const window = 1024
	total := int64(b.N)
	var received atomic.Int64
	wake := make(chan struct{}, 1)
	done := make(chan struct{})
	b.SetBytes(benchSeg)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0, start := cpuTime(), time.Now()
	go func() {
		defer close(done)
		for received.Load() < total {
			n, err := p.recv()
			if err != nil {
				return // the deadline after the last send: datagrams were lost
			}
			received.Add(int64(n))
			select {
			case wake <- struct{}{}:
			default:
			}
		}
	}()
	stall := time.NewTimer(time.Hour)
	stall.Stop()
	forgiven := int64(0) // datagrams given up for lost
	for sent := int64(0); sent < total; {
		k := min(int64(p.burst), total-sent)
		for sent+k-received.Load()-forgiven > window {
			stall.Reset(100 * time.Millisecond)
			select {
			case <-wake:
				stall.Stop()
			case <-stall.C:
				// Nothing came for a while: what is in flight was lost,
				// and waiting longer would not bring it.
				forgiven = sent - received.Load()
			}
		}
		if err := p.send(int(k)); err != nil {
			b.Fatal(err)
		}
		sent += k
	}
	p.rcv.SetReadDeadline(time.Now().Add(time.Second))
	<-done
	elapsed, cpu := time.Since(start), cpuTime()-cpu0
	b.StopTimer()
	p.rcv.SetReadDeadline(time.Time{})
	got := received.Load()
	bytes := float64(got) * benchSeg
	b.ReportMetric(bytes*8/elapsed.Seconds()/1e9, "Gbit/s")
	if cpu > 0 && bytes > 0 {
		b.ReportMetric(cpu.Seconds()/(bytes/1e9), "cpu-s/GB")
	}
	b.ReportMetric(float64(total-min(got, total))/float64(total)*100, "%lost")
}
