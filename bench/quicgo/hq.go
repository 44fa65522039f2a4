package main

import (
	"bytes"
	"context"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/quic-go/quic-go"
	"golang.org/x/sync/semaphore"
)

// alpn is the application protocol of HTTP/0.9 over QUIC ("hq-interop"),
// the one tsumugi perf speaks.
const alpn = "hq-interop"

// Stream error codes the server resets a stream with, as tsumugi serve's.
const (
	codeBadRequest = 0x10
	codeNotFound   = 0x11
	codeInternal   = 0x12
)

// requestTimeout bounds how long a stream may take to send its request.
const requestTimeout = 10 * time.Second

// hqServer serves HTTP/0.9 over quic-go the way tsumugi perf's server
// does: every request stream runs in its own goroutine, at most maxStreams
// at once over all connections, a read deadline per request.
type hqServer struct {
	sem *semaphore.Weighted

	handlers sync.WaitGroup // one per request stream
	loops    sync.WaitGroup // one per connection: its AcceptStream loop

	mu    sync.Mutex
	conns map[*quic.Conn]struct{}
}

func newHQServer(maxStreams int64) *hqServer {
	return &hqServer{
		sem:   semaphore.NewWeighted(max(maxStreams, 1)),
		conns: make(map[*quic.Conn]struct{}),
	}
}

// serve accepts connections from ln, and streams from them, until ctx is
// done or ln is closed.
func (s *hqServer) serve(ctx context.Context, ln *quic.Listener) {
	for {
		c, err := ln.Accept(ctx)
		if err != nil {
			return
		}
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
}

// acceptStreams runs one goroutine per request stream of c until ctx is
// done or c is gone.
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
func (s *hqServer) handle(st *quic.Stream) {
	st.SetReadDeadline(time.Now().Add(requestTimeout))
	req, eof, err := readRequest(st)
	defer closeStream(st, eof)
	if err != nil {
		st.CancelWrite(codeBadRequest)
		return
	}
	name, ok := parseRequest(req)
	if !ok {
		st.CancelWrite(codeBadRequest)
		return
	}
	f, err := synthFiles{}.open(name)
	if err != nil {
		st.CancelWrite(codeNotFound)
		return
	}
	defer f.Close()
	if _, err := io.Copy(st, f); err != nil {
		st.CancelWrite(codeInternal)
	}
}

// closeStream ends both directions of st, as tsumugi's Stream.Close does:
// FIN after the written data, and the receiving side given up. quic-go
// frees a stream (and returns its credit to the client) only once the
// receiving side has been read to io.EOF or cancelled. Tsumugi sends no
// STOP_SENDING when the request's FIN has arrived, while quic-go's
// CancelRead would; so when the request was read without its FIN, the FIN
// (which the client sends right after the request) is read first, within
// the request's deadline, and only then is the receiving side cancelled.
func closeStream(st *quic.Stream, eof bool) {
	st.Close()
	if eof {
		return
	}
	var scratch [64]byte
	for {
		_, err := st.Read(scratch[:])
		if err == io.EOF {
			return
		}
		if err != nil {
			st.CancelRead(0)
			return
		}
	}
}

// readRequest reads a request line: up to its line end, or up to the FIN,
// or until it is longer than maxRequestLen, which parseRequest refuses.
// eof tells whether the FIN was read too.
func readRequest(r io.Reader) (req []byte, eof bool, err error) {
	buf := make([]byte, 0, 128)
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, len(buf))
		}
		n, err := r.Read(buf[len(buf):min(cap(buf), maxRequestLen+1)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, true, nil
		}
		if bytes.IndexByte(buf[len(buf)-n:], '\n') >= 0 || len(buf) > maxRequestLen {
			return buf, false, nil
		}
		if err != nil {
			return nil, false, err
		}
	}
}

// shutdown waits for the connection loops and closes every connection,
// then waits for the request streams.
func (s *hqServer) shutdown() {
	s.loops.Wait() // no handler starts after this
	s.mu.Lock()
	conns := make([]*quic.Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() { c.CloseWithError(0, "") })
	}
	wg.Wait()
	s.handlers.Wait()
}
