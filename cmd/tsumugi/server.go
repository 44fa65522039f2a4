package main

import (
	"bytes"
	"context"
	"io"
	"log"
	"slices"
	"sync"
	"time"

	"github.com/tsumugi-quic/tsumugi/quic"
	"github.com/tsumugi-quic/tsumugi/stream"
	"golang.org/x/sync/semaphore"
)

// requestTimeout bounds how long a stream may take to send its request.
const requestTimeout = 10 * time.Second

// hqServer serves HTTP/0.9 over QUIC: every request stream runs in its
// own goroutine, at most maxStreams at once over all connections.
type hqServer struct {
	files fileSource
	sem   *semaphore.Weighted
	log   *log.Logger // requests and failures; nil: silent

	handlers sync.WaitGroup // one per request stream
	loops    sync.WaitGroup // one per connection: its AcceptStream loop

	mu    sync.Mutex
	conns map[*quic.Conn]struct{}
}

func newHQServer(files fileSource, maxStreams int64, logger *log.Logger) *hqServer {
	return &hqServer{
		files: files,
		sem:   semaphore.NewWeighted(max(maxStreams, 1)),
		log:   logger,
		conns: make(map[*quic.Conn]struct{}),
	}
}

func (s *hqServer) logf(format string, args ...any) {
	if s.log != nil {
		s.log.Printf(format, args...)
	}
}

// serve accepts connections from ln, and streams from them, until ctx is
// done or ln is closed. It returns once it stopped accepting connections;
// the per-connection loops stop with ctx too, and request streams already
// started go on (see shutdown).
func (s *hqServer) serve(ctx context.Context, ln *quic.Listener) {
	for {
		c, err := ln.Accept(ctx)
		if err != nil {
			return
		}
		s.serveConn(ctx, c)
	}
}

// serveConn serves the request streams of c, an accepted connection that
// negotiated hq-interop, in the background until ctx is done or c is gone.
func (s *hqServer) serveConn(ctx context.Context, c *quic.Conn) {
	s.mu.Lock()
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	context.AfterFunc(c.Context(), func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
	})
	s.loops.Go(func() { s.acceptStreams(ctx, c) })
}

// acceptStreams runs one goroutine per request stream of c until ctx is
// done or c is gone. While the server is at its limit it stops accepting,
// so the peer's stream credit (MAX_STREAMS, RFC 9000 §4.6) holds further
// requests back.
func (s *hqServer) acceptStreams(ctx context.Context, c *quic.Conn) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(c.Context(), cancel)
	defer stop()
	for {
		if err := s.sem.Acquire(ctx, 1); err != nil {
			return
		}
		st, err := c.AcceptStream(ctx)
		if err != nil {
			s.sem.Release(1)
			return
		}
		s.handlers.Go(func() {
			defer s.sem.Release(1)
			s.handle(st)
		})
	}
}

// handle answers one request stream.
func (s *hqServer) handle(st *stream.Stream) {
	defer st.Close()
	st.SetReadDeadline(time.Now().Add(requestTimeout))
	req, err := readRequest(st)
	if err != nil {
		s.logf("stream %v: reading the request: %v", st.ID(), err)
		st.CancelWrite(codeBadRequest)
		return
	}
	name, ok := parseRequest(req)
	if !ok {
		s.logf("stream %v: bad request %q", st.ID(), truncate(req, 80))
		st.CancelWrite(codeBadRequest)
		return
	}
	f, err := s.files.open(name)
	if err != nil {
		s.logf("GET /%s: not found: %v", name, err)
		st.CancelWrite(codeNotFound)
		return
	}
	defer f.Close()
	n, err := io.Copy(st, f)
	if err != nil {
		s.logf("GET /%s: %v after %d bytes", name, err, n)
		st.CancelWrite(codeInternal)
		return
	}
	s.logf("GET /%s: %d bytes", name, n)
}

// readRequest reads a request line: up to its line end, or up to the FIN,
// or until it is longer than maxRequestLen, which parseRequest refuses.
func readRequest(r io.Reader) ([]byte, error) {
	buf := make([]byte, 0, 128)
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, len(buf))
		}
		n, err := r.Read(buf[len(buf):min(cap(buf), maxRequestLen+1)])
		buf = buf[:len(buf)+n]
		if bytes.IndexByte(buf[len(buf)-n:], '\n') >= 0 || err == io.EOF || len(buf) > maxRequestLen {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// shutdown waits up to grace for the request streams in flight, then
// closes every connection gracefully (data already written is delivered
// first, RFC 9000 §10.2 with code 0). serve must have returned (or no
// serveConn be called any more), its ctx done.
func (s *hqServer) shutdown(grace time.Duration) {
	s.loops.Wait() // no handler starts after this
	done := make(chan struct{})
	go func() {
		s.handlers.Wait()
		close(done)
	}()
	timer := time.NewTimer(grace)
	select {
	case <-done:
		timer.Stop()
	case <-timer.C:
		s.logf("shutdown: request streams still running after %v; closing their connections", grace)
	}
	s.mu.Lock()
	conns := make([]*quic.Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() { c.Close() })
	}
	wg.Wait()
	<-done
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}
