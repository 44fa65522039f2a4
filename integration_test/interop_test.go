package integration_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"
)

// pairing is one cell of the interop matrix: a client implementation
// against a server implementation. Tsumugi is on at least one side.
type pairing struct{ client, server impl }

func (p pairing) name() string { return p.client.name + "-client/" + p.server.name + "-server" }

var pairings = []pairing{
	{ours, ours},
	{ours, qgo},
	{qgo, ours},
	{ours, xnet},
	{xnet, ours},
}

// connect starts p's server (serving the test protocol) and dials it.
func connect(t *testing.T, ctx context.Context, p pairing, serverOpts, clientOpts peerOptions) peerConn {
	t.Helper()
	stc, ctc := testTLS(t)
	addr, accept := p.server.listen(t, stc, serverOpts)
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
	c, err := p.client.dial(ctx, addr, ctc, clientOpts)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() {
		c.Close()
		<-done
	})
	return c
}

func forEachPairing(t *testing.T, timeout time.Duration, f func(t *testing.T, ctx context.Context, p pairing)) {
	for _, p := range pairings {
		t.Run(p.name(), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			f(t, ctx, p)
		})
	}
}

func TestInteropHandshake(t *testing.T) {
	forEachPairing(t, 20*time.Second, func(t *testing.T, ctx context.Context, p pairing) {
		c := connect(t, ctx, p, peerOptions{}, peerOptions{})
		if err := get(ctx, c, 100, 1); err != nil {
			t.Fatal(err)
		}
	})
}

func TestInteropTransfer10MB(t *testing.T) {
	forEachPairing(t, 60*time.Second, func(t *testing.T, ctx context.Context, p pairing) {
		c := connect(t, ctx, p, peerOptions{}, peerOptions{})
		if err := get(ctx, c, 10<<20, 2); err != nil {
			t.Fatal(err)
		}
	})
}

// TestInteropManySmallFiles fetches 2,000 files of 32 bytes, each on its own
// stream over one connection.
func TestInteropManySmallFiles(t *testing.T) {
	forEachPairing(t, 90*time.Second, func(t *testing.T, ctx context.Context, p pairing) {
		c := connect(t, ctx, p, peerOptions{}, peerOptions{})
		var g errgroup.Group
		g.SetLimit(50)
		for i := range 2000 {
			g.Go(func() error {
				if err := get(ctx, c, 32, uint64(i)); err != nil {
					return fmt.Errorf("file %d: %w", i, err)
				}
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestInteropConcurrentEcho echoes 1 MB on each of 200 concurrent streams.
func TestInteropConcurrentEcho(t *testing.T) {
	forEachPairing(t, 120*time.Second, func(t *testing.T, ctx context.Context, p pairing) {
		c := connect(t, ctx, p, peerOptions{maxIncomingStreams: 200}, peerOptions{})
		var g errgroup.Group
		for i := range 200 {
			g.Go(func() error {
				if err := echo(ctx, c, 1<<20, uint64(i)); err != nil {
					return fmt.Errorf("stream %d: %w", i, err)
				}
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestInteropStreamLimit: the server allows 100 streams at once, the client
// wants 1,000 at once; OpenStream must wait for credit, and all complete.
func TestInteropStreamLimit(t *testing.T) {
	forEachPairing(t, 90*time.Second, func(t *testing.T, ctx context.Context, p pairing) {
		c := connect(t, ctx, p, peerOptions{maxIncomingStreams: 100}, peerOptions{})
		var g errgroup.Group
		for i := range 1000 {
			g.Go(func() error {
				if err := get(ctx, c, 1000, uint64(i)); err != nil {
					return fmt.Errorf("stream %d: %w", i, err)
				}
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			t.Fatal(err)
		}
	})
}
