package integration_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"
)

// The runner's cases with impaired networks: handshakeloss,
// handshakecorruption, transferloss, transfercorruption and blackhole. The
// runner's simulator adds 15 ms each way to each, and so do we.

// TestRunnerHandshakeLoss and TestRunnerHandshakeCorruption: 50
// connections, each fetching one 1 KiB file, with 30% of the datagrams
// lost (or corrupted) each way, at most 3 in a row (the runner's
// "--rate_to_server=30 --burst_to_server=3"); exactly 50 handshakes. The
// runner makes its connections one after the other; we run 10 at a time,
// so that the tail of 50 handshakes with backed-off PTOs fits the time
// budget.
func TestRunnerHandshakeLoss(t *testing.T) {
	runMulticonnect(t, impairment{Loss: 0.3, MaxRun: 3, Delay: 15 * time.Millisecond}, func(s linkStats) uint64 { return s.Lost })
}

func TestRunnerHandshakeCorruption(t *testing.T) {
	runMulticonnect(t, impairment{Corrupt: 0.3, MaxRun: 3, Delay: 15 * time.Millisecond}, func(s linkStats) uint64 { return s.Corrupted })
}

func runMulticonnect(t *testing.T, imp impairment, impaired func(linkStats) uint64) {
	const conns, atOnce = 50, 10
	forRunnerPairs(t, runnerPairs, func(t *testing.T, ctx context.Context, p runnerPair) {
		cell := newRunnerCell(t, ctx, p, cellSetup{opts: runnerOpts{patientHandshake: true}, proxy: both(imp)})
		var g errgroup.Group
		g.SetLimit(atOnce)
		for i := range conns {
			g.Go(func() error {
				conn, err := cell.dial(ctx)
				if err != nil {
					return fmt.Errorf("connection %d: %w", i, err)
				}
				if err := fetchFiles(ctx, conn, []uint64{1 << 10}, uint64(100+i), 0); err != nil {
					return fmt.Errorf("connection %d: %w", i, err)
				}
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			t.Logf("the server accepted %d connections", len(cell.serverConns()))
			logProxy(t, cell.px)
			cell.check(err)
		}
		cell.expectHandshakes(conns)
		cell.expectVersion(versionV1)
		checkImpaired(t, cell.px, impaired)
	})
}

// checkImpaired fails the test if the proxy did not impair any datagram.
func checkImpaired(t *testing.T, px *proxy, impaired func(linkStats) uint64) {
	t.Helper()
	if impaired(px.stats(toServer))+impaired(px.stats(toClient)) == 0 {
		logProxy(t, px)
		t.Error("the proxy impaired nothing")
	}
}

// TestRunnerTransferLoss and TestRunnerTransferCorruption: one file with 2%
// of the datagrams lost (or corrupted) each way, at most 3 in a row; one
// handshake. The runner's file is 2 MB; 1 MiB loses as many datagrams in
// proportion.
func TestRunnerTransferLoss(t *testing.T) {
	runImpairedTransfer(t, impairment{Loss: 0.02, MaxRun: 3, Delay: 15 * time.Millisecond}, func(s linkStats) uint64 { return s.Lost })
}

func TestRunnerTransferCorruption(t *testing.T) {
	runImpairedTransfer(t, impairment{Corrupt: 0.02, MaxRun: 3, Delay: 15 * time.Millisecond}, func(s linkStats) uint64 { return s.Corrupted })
}

func runImpairedTransfer(t *testing.T, imp impairment, impaired func(linkStats) uint64) {
	forRunnerPairs(t, runnerPairs, func(t *testing.T, ctx context.Context, p runnerPair) {
		cell := newRunnerCell(t, ctx, p, cellSetup{proxy: both(imp)})
		conn := cell.mustDial()
		cell.check(fetchFiles(ctx, conn, []uint64{1 << 20}, 200, 0))
		cell.expectHandshakes(1)
		cell.expectVersion(versionV1)
		checkImpaired(t, cell.px, impaired)
	})
}

// TestRunnerBlackhole: the runner's blackhole scenario, 5 s of network
// then 2 s of nothing either way, counted from the first datagram. Files
// of 256 KiB are fetched one after the other over one connection until the
// blackhole is over, so that one is in flight when it starts and must
// survive it; then one more. Every file intact, one handshake.
func TestRunnerBlackhole(t *testing.T) {
	cycle := blackholeCycle{On: 5 * time.Second, Off: 2 * time.Second, Repeat: 1}
	forRunnerPairs(t, runnerPairs, func(t *testing.T, ctx context.Context, p runnerPair) {
		link := runnerLink
		link.Blackhole = cycle
		cell := newRunnerCell(t, ctx, p, cellSetup{proxy: both(link)})
		conn := cell.mustDial()
		n := 0
		for cell.px.elapsed(time.Now()) < cycle.On+cycle.Off {
			cell.check(fetchFiles(ctx, conn, []uint64{256 << 10}, uint64(300+n), 0))
			n++
		}
		cell.check(fetchFiles(ctx, conn, []uint64{256 << 10}, uint64(300+n), 0))
		t.Logf("%d files", n+1)
		cell.expectHandshakes(1)
		checkImpaired(t, cell.px, func(s linkStats) uint64 { return s.Blackholed })
		for _, d := range []direction{toServer, toClient} {
			if cell.px.stats(d).Blackholed == 0 {
				t.Errorf("%v: nothing fell into the blackhole", d)
			}
		}
	})
}
