package recovery

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/tsumugi-quic/tsumugi/sched"
)

// TestSyncTestClock runs a Recovery the way the connection goroutine does,
// sleeping until LossTimer on the synthetic clock of testing/synctest: the
// PTO fires at 999 ms, then 2 s later, then (after an ACK) not at all.
func TestSyncTestClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var acked, lost int
		r := New(Config{
			IsServer: true,
			OnAcked:  func(*sched.Record) { acked++ },
			OnLost:   func(*sched.Record) { lost++ },
		}, start)
		send := func(pn uint64) {
			rec := &sched.Record{PacketNumber: pn, Space: sched.Handshake, SentBytes: 1200}
			rec.Add(sched.FrameRecord{Kind: sched.FrameCrypto, Length: 1000})
			r.OnPacketSent(rec, time.Now())
		}
		send(0)
		var fired []time.Duration
		for pn := uint64(1); pn <= 2; pn++ {
			time.Sleep(time.Until(r.LossTimer()))
			p := r.OnLossTimer(time.Now())
			if p.Packets[sched.Handshake] != 2 {
				t.Fatalf("probe %v", p)
			}
			fired = append(fired, time.Since(start))
			send(pn)
		}
		if fired[0] != 999*time.Millisecond || fired[1] != 999*time.Millisecond+1998*time.Millisecond {
			t.Errorf("PTOs fired at %v", fired)
		}
		time.Sleep(50 * time.Millisecond)
		if err := r.OnAckReceived(sched.Handshake, ackFrame([2]uint64{0, 2}), 3, time.Now()); err != nil {
			t.Fatal(err)
		}
		if acked != 3 || lost != 0 || !r.LossTimer().IsZero() || r.PTOCount() != 0 {
			t.Errorf("acked %d lost %d timer %v pto %d", acked, lost, r.LossTimer(), r.PTOCount())
		}
	})
}
