package integration_test

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"
)

// A runner cell is one test case of the QUIC interop runner
// (github.com/quic-interop/quic-interop-runner) for one client and one
// server implementation: the server behind the impairment proxy, which
// stands in for the runner's network simulator and records a trace in
// place of its packet captures. Files are fetched with the test protocol
// of protocol_test.go (the runner's HTTP/0.9 is the same shape: a request,
// then the file's bytes and FIN), and every file's SHA-256 is checked.

// runnerPair is a client implementation against a server implementation.
type runnerPair struct{ client, server runnerImpl }

func (p runnerPair) name() string { return p.client.name + "-client/" + p.server.name + "-server" }

var (
	pairOurs      = runnerPair{runnerOurs, runnerOurs}
	pairQgoServer = runnerPair{runnerOurs, runnerQgo}
	pairQgoClient = runnerPair{runnerQgo, runnerOurs}

	// runnerPairs: Tsumugi against itself and against quic-go in both
	// roles.
	runnerPairs = []runnerPair{pairOurs, pairQgoServer, pairQgoClient}
)

// runnerLink is the runner's network when a case names no scenario of its
// own ("simple-p2p --delay=15ms"): 15 ms each way. It matters for 0-RTT,
// which on a bare loopback would race the handshake, and it makes every
// transfer grow its congestion window over real round trips.
var runnerLink = impairment{Delay: 15 * time.Millisecond}

// cellSetup is what a test case changes about a cell.
type cellSetup struct {
	opts      runnerOpts
	proxy     proxyConfig // its Hook runs before the recorder's; no impairment: runnerLink
	keepData  bool        // the recorder keeps whole datagrams
	serverTLS *tls.Config // nil: testTLS's
	clientTLS *tls.Config
	// holdReplies makes the server answer no request until it has
	// accepted this many streams (multiplexing).
	holdReplies int
}

// runnerCell is a server, a proxy in front of it with a recorder, and what
// the server saw.
type runnerCell struct {
	t         *testing.T
	ctx       context.Context
	pair      runnerPair
	setup     cellSetup
	px        *proxy
	rec       *recorder
	clientTLS *tls.Config
	srv       *serverSide
}

// newRunnerCell starts p's server with setup behind a recording proxy. The
// server accepts connections until the test ends.
func newRunnerCell(t *testing.T, ctx context.Context, p runnerPair, setup cellSetup) *runnerCell {
	t.Helper()
	stc, ctc := testTLS(t)
	if setup.serverTLS != nil {
		stc = setup.serverTLS
	}
	if setup.clientTLS != nil {
		ctc = setup.clientTLS
	}
	addr, accept := p.server.listen(t, stc, setup.opts)
	rec := &recorder{keepData: setup.keepData}
	cfg := setup.proxy
	if cfg.ToServer == (impairment{}) && cfg.ToClient == (impairment{}) {
		cfg.ToServer, cfg.ToClient = runnerLink, runnerLink
	}
	cfg.Hook = rec.hook(cfg.Hook)
	px := newProxy(t, addr, cfg)
	srv := &serverSide{limit: setup.opts.maxStreams, hold: setup.holdReplies, released: make(chan struct{})}
	if srv.hold == 0 {
		close(srv.released)
	}
	sctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := accept(sctx)
			if err != nil {
				return
			}
			srv.add(c)
			// The connection is closed with the listener when the test
			// ends: a graceful Close would wait for acknowledgments from
			// a client that may be gone.
			wg.Go(func() { srv.serve(sctx, c) })
		}
	})
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	return &runnerCell{t: t, ctx: ctx, pair: p, setup: setup, px: px, rec: rec, clientTLS: ctc, srv: srv}
}

// dial opens a client connection through the proxy, closed when the test
// ends if not before.
func (c *runnerCell) dial(ctx context.Context) (runnerConn, error) {
	return c.pair.client.dial(c.t, ctx, c.px.addr(), c.clientTLS, c.setup.opts)
}

// mustDial is dial that ends the test on failure.
func (c *runnerCell) mustDial() runnerConn {
	c.t.Helper()
	conn, err := c.dial(c.ctx)
	if err != nil {
		logProxy(c.t, c.px)
		c.t.Fatalf("dial through the proxy: %v", err)
	}
	return conn
}

// fetchFiles fetches files of the given sizes over conn, concurrently (at
// most limit at once; 0: all), and checks every byte. Seeds are base+i.
func fetchFiles(ctx context.Context, conn peerConn, sizes []uint64, base uint64, limit int) error {
	var g errgroup.Group
	if limit > 0 {
		g.SetLimit(limit)
	}
	for i, size := range sizes {
		g.Go(func() error {
			if err := get(ctx, conn, size, base+uint64(i)); err != nil {
				return fmt.Errorf("file %d (%d bytes): %w", i, size, err)
			}
			return nil
		})
	}
	return g.Wait()
}

// sizesOf is n files of size bytes.
func sizesOf(n int, size uint64) []uint64 {
	s := make([]uint64, n)
	for i := range s {
		s[i] = size
	}
	return s
}

// check fails the test with the trace's summary if err is not nil.
func (c *runnerCell) check(err error) {
	c.t.Helper()
	if err != nil {
		logProxy(c.t, c.px)
		c.t.Fatal(err)
	}
}

// expectHandshakes checks the number of handshakes the trace shows.
func (c *runnerCell) expectHandshakes(want int) {
	c.t.Helper()
	if got := c.rec.trace().handshakes(); got != want {
		logProxy(c.t, c.px)
		c.t.Errorf("%d handshakes, want %d", got, want)
	}
}

// expectVersion checks the version of every server Initial packet, as the
// runner's _check_version does (v1 unless the case is v2).
func (c *runnerCell) expectVersion(want uint32) {
	c.t.Helper()
	if vs := c.rec.trace().versions(toClient, kindInitial); !slices.Equal(vs, []uint32{want}) {
		c.t.Errorf("server Initial versions %#x, want %#x", vs, want)
	}
}

// serverConns returns the connections the server accepted so far.
func (c *runnerCell) serverConns() []runnerConn {
	c.srv.mu.Lock()
	defer c.srv.mu.Unlock()
	return slices.Clone(c.srv.conns)
}

// serverSide serves the test protocol's 'G' requests and watches the
// stream limit: a stream of index i may arrive only once the server has
// allowed i+1 streams (RFC 9000 §4.6), that is while i < limit + the
// streams it has finished (the only ones whose credit it may have given
// back).
type serverSide struct {
	limit    int64
	hold     int
	released chan struct{} // closed once hold streams were accepted

	mu         sync.Mutex
	conns      []runnerConn
	accepted   int
	finished   int64 // streams whose FIN the server is about to send
	maxIndex   int64
	violations []string
}

func (s *serverSide) add(c runnerConn) {
	s.mu.Lock()
	s.conns = append(s.conns, c)
	s.mu.Unlock()
}

func (s *serverSide) serve(ctx context.Context, c runnerConn) {
	for {
		st, err := c.AcceptStream(ctx)
		if err != nil {
			return
		}
		s.accept(streamIndex(st))
		go s.serveStream(ctx, st)
	}
}

// accept notes a new stream of index idx.
func (s *serverSide) accept(idx int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accepted++
	s.maxIndex = max(s.maxIndex, idx)
	if s.limit > 0 && idx >= s.limit+s.finished && len(s.violations) < 10 {
		s.violations = append(s.violations, fmt.Sprintf("stream %d arrived after only %d of %d streams were finished", idx, s.finished, s.limit))
	}
	if s.hold > 0 && s.accepted == s.hold {
		close(s.released)
	}
}

// serveStream answers one 'G' request (see protocol_test.go), once the
// server's replies are released.
func (s *serverSide) serveStream(ctx context.Context, st peerStream) error {
	defer st.Close()
	var req [17]byte
	if _, err := io.ReadFull(st, req[:]); err != nil {
		return err
	}
	if req[0] != 'G' {
		return fmt.Errorf("unknown request %q", req[0])
	}
	if _, err := io.Copy(io.Discard, st); err != nil { // the request's FIN
		return err
	}
	select {
	case <-s.released:
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := payload(st, binary.BigEndian.Uint64(req[1:9]), binary.BigEndian.Uint64(req[9:])); err != nil {
		return err
	}
	s.mu.Lock()
	s.finished++
	s.mu.Unlock()
	return st.CloseWrite()
}

// runnerTimeout bounds one cell; generous, for -race on 2 cores.
const runnerTimeout = 2 * time.Minute

// forRunnerPairs runs f for each pair, in parallel subtests.
func forRunnerPairs(t *testing.T, pairs []runnerPair, f func(t *testing.T, ctx context.Context, p runnerPair)) {
	for _, p := range pairs {
		t.Run(p.name(), func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), runnerTimeout)
			defer cancel()
			f(t, ctx, p)
		})
	}
}
