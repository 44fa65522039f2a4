package integration_test

import (
	"context"
	"testing"
	"time"
)

// TestBlackhole2s: 2 s into nothing in both directions, in the middle of a
// 10 MB transfer. The connection must survive (PTOs back off, the idle
// timeout is far longer) and the transfer complete intact; afterwards the
// connection still serves a new request.
//
// The blackhole starts at a datagram count, not at a time, so it hits the
// transfer however fast the machine is.
func TestBlackhole2s(t *testing.T) {
	const startAt = 1500 // server→client datagrams: about 2 MB into the transfer
	for _, p := range pairings {
		t.Run(p.name(), func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			var started time.Time // written once, by the hook, before any reader
			cfg := proxyConfig{Hook: func(d *datagramInfo) verdict {
				if d.Dir == toClient && d.Seq == startAt {
					started = time.Now()
					d.Proxy.blackhole(2 * time.Second)
				}
				return verdict{}
			}}
			c, px := connectVia(t, ctx, p, cfg, peerOptions{}, peerOptions{})
			err := get(ctx, c, 10<<20, 7)
			logProxy(t, px)
			if err != nil {
				t.Fatal(err)
			}
			s := px.stats(toClient)
			if s.Blackholed == 0 {
				t.Fatal("the blackhole never started")
			}
			t.Logf("transfer ended %v after the blackhole began", time.Since(started).Round(time.Millisecond))
			if err := get(ctx, c, 1000, 8); err != nil {
				t.Fatalf("after the blackhole: %v", err)
			}
		})
	}
}
