package integration_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// connectVia is connect with an impairment proxy between the client and
// the server: it starts p's server (serving the test protocol), puts a
// proxy with cfg in front of it, and dials the proxy.
func connectVia(t *testing.T, ctx context.Context, p pairing, cfg proxyConfig, serverOpts, clientOpts peerOptions) (peerConn, *proxy) {
	t.Helper()
	stc, ctc := testTLS(t)
	addr, accept := p.server.listen(t, stc, serverOpts)
	px := newProxy(t, addr, cfg)
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := accept(ctx)
		if err != nil {
			return
		}
		serveConn(ctx, c)
		c.Close()
	}()
	c, err := p.client.dial(ctx, px.addr(), ctc, clientOpts)
	if err != nil {
		t.Fatalf("dial through the proxy: %v", err)
	}
	t.Cleanup(func() {
		c.Close()
		<-done
	})
	return c, px
}

// logProxy logs what the proxy did in both directions.
func logProxy(t *testing.T, px *proxy) {
	t.Helper()
	for _, d := range []direction{toServer, toClient} {
		t.Logf("%v: %v", d, px.stats(d))
	}
}

func (s linkStats) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "received %d forwarded %d", s.Received, s.Forwarded)
	for _, f := range []struct {
		name string
		n    uint64
	}{
		{"blackholed", s.Blackholed}, {"hook-dropped", s.HookDropped}, {"lost", s.Lost},
		{"burst-lost", s.BurstLost}, {"corrupted", s.Corrupted}, {"duplicated", s.Duplicated},
		{"delayed", s.Delayed}, {"reordered", s.Reordered}, {"discarded", s.Discarded},
		{"send-errors", s.SendErrors},
	} {
		if f.n > 0 {
			fmt.Fprintf(&b, " %s %d", f.name, f.n)
		}
	}
	b.WriteString("; packets")
	for k, n := range s.Packets {
		if n > 0 {
			fmt.Fprintf(&b, " %v:%d", packetKind(k), n)
		}
	}
	return b.String()
}

// both applies one impairment to both directions.
func both(imp impairment) proxyConfig { return proxyConfig{ToServer: imp, ToClient: imp} }

// impairmentCases are the conditions a 10 MB transfer must survive. check
// makes sure the proxy really did impair the transfer.
var impairmentCases = []struct {
	name  string
	cfg   proxyConfig
	check func(s linkStats) uint64 // what must be non-zero in each direction
}{
	{"loss 5%", both(impairment{Loss: 0.05}),
		func(s linkStats) uint64 { return s.Lost }},
	// About 3% lost in bursts of 3.3 datagrams on average, 6 at most (see
	// gilbertElliott on why the cap).
	{"burst loss", both(impairment{Burst: gilbertElliott{P: 0.01, R: 0.3, MaxBurst: 6}}),
		func(s linkStats) uint64 { return s.BurstLost }},
	{"reorder", proxyConfig{
		ToServer: impairment{Reorder: 0.05, ReorderDelay: 5 * time.Millisecond},
		ToClient: impairment{Reorder: 0.05, ReorderPackets: 5, ReorderDelay: 20 * time.Millisecond}},
		func(s linkStats) uint64 { return s.Reordered }},
	{"duplication 5%", both(impairment{Duplicate: 0.05}),
		func(s linkStats) uint64 { return s.Duplicated }},
	{"corruption 2%", both(impairment{Corrupt: 0.02, CorruptBits: 2}),
		func(s linkStats) uint64 { return s.Corrupted }},
	{"delay 10ms jitter 10ms", both(impairment{Delay: 10 * time.Millisecond, Jitter: 10 * time.Millisecond}),
		func(s linkStats) uint64 { return s.Delayed }},
}

// impairPairings: Tsumugi against itself and against both peers, in both
// roles.
var impairPairings = pairings

// TestImpairedTransfer10MB fetches 10 MB through the proxy under each
// impairment and checks its SHA-256. All transfers run in parallel: most of
// their time is spent waiting for timers (loss recovery, ack delays).
func TestImpairedTransfer10MB(t *testing.T) {
	for i, ic := range impairmentCases {
		t.Run(ic.name, func(t *testing.T) {
			t.Parallel()
			for _, p := range impairPairings {
				t.Run(p.name(), func(t *testing.T) {
					t.Parallel()
					ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
					defer cancel()
					cfg := ic.cfg
					cfg.Seed = uint64(i + 1)
					c, px := connectVia(t, ctx, p, cfg, peerOptions{}, peerOptions{})
					err := get(ctx, c, 10<<20, uint64(100+i))
					logProxy(t, px)
					if err != nil {
						t.Fatal(err)
					}
					for _, d := range []direction{toServer, toClient} {
						if ic.check(px.stats(d)) == 0 {
							t.Errorf("%v: the proxy did not impair the transfer", d)
						}
					}
				})
			}
		})
	}
}
