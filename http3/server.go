package http3

import (
	"context"
	"log"
	"net/http"
	"sync"

	"github.com/tsumugi-quic/tsumugi/metrics"
	"github.com/tsumugi-quic/tsumugi/quic"
)

// NextProtoH3 is HTTP/3's ALPN protocol ID (RFC 9114 §3.1): put it in the
// tls.Config.NextProtos of the quic.Listener a Server serves, and of a
// client.
const NextProtoH3 = "h3"

// Defaults.
const (
	defaultMaxHeaderBytes        = http.DefaultMaxHeaderBytes // 1 MiB
	defaultMaxConcurrentHandlers = 100
)

// Server serves HTTP/3 (RFC 9114) on QUIC connections, handing each
// request to an http.Handler in its own goroutine. Its zero value is
// ready: set Handler, then call Serve with a quic.Listener whose TLS
// config offers ALPN "h3", or ServeConn with connections you accepted.
type Server struct {
	// Handler answers requests; nil means http.DefaultServeMux.
	Handler http.Handler

	// MaxHeaderBytes bounds a request's header section, and its trailer
	// section, by the size RFC 9114 §4.2.2 defines (names and values plus
	// 32 bytes a line). It is advertised as SETTINGS_MAX_FIELD_SECTION_SIZE;
	// a larger header section gets 431. Zero means 1 MiB.
	MaxHeaderBytes int

	// MaxConcurrentHandlers bounds the handler goroutines of one
	// connection; further requests wait, unread, until one finishes. Zero
	// means 100, which is also the default QUIC limit on the requests a
	// client may open at once.
	MaxConcurrentHandlers int

	// ErrorLog receives handler panics and protocol errors; nil means the
	// log package's standard logger.
	ErrorLog *log.Logger

	// Metrics, if set, records every request answered with a status: the
	// status class, and the time from the request's header to the client's
	// acknowledgment of the whole response (metrics.Collector.HTTP3Request).
	// A header section over MaxHeaderBytes counts as its 431; a handler that
	// panics, as a 500 (the client sees the stream reset). Malformed
	// requests, reset without a response, are not counted.
	Metrics *metrics.Collector

	mu        sync.Mutex
	ctx       context.Context // done when shutting down or closed
	cancel    context.CancelFunc
	listeners map[*quic.Listener]struct{}
	conns     map[*serverConn]struct{}
	stopping  bool
	connWG    sync.WaitGroup // ServeConn calls started by Serve
}

func (s *Server) init() {
	if s.ctx == nil {
		s.ctx, s.cancel = context.WithCancel(context.Background())
		s.listeners = make(map[*quic.Listener]struct{})
		s.conns = make(map[*serverConn]struct{})
	}
}

// Serve accepts connections on ln and serves each in its own goroutine,
// until Shutdown or Close (then it returns http.ErrServerClosed) or until
// ln fails. Shutdown and Close close ln.
func (s *Server) Serve(ln *quic.Listener) error {
	s.mu.Lock()
	s.init()
	if s.stopping {
		s.mu.Unlock()
		return http.ErrServerClosed
	}
	s.listeners[ln] = struct{}{}
	ctx := s.ctx
	s.mu.Unlock()
	for {
		qc, err := ln.Accept(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return http.ErrServerClosed
			}
			return err
		}
		s.connWG.Add(1)
		go func() {
			defer s.connWG.Done()
			s.ServeConn(qc)
		}()
	}
}

// ServeConn serves HTTP/3 on one connection whose handshake is complete
// and whose ALPN is "h3". It returns when the connection ends: nil after a
// graceful end, otherwise why it ended.
func (s *Server) ServeConn(qc *quic.Conn) error {
	s.mu.Lock()
	s.init()
	if s.stopping {
		s.mu.Unlock()
		qc.CloseWithError(uint64(ErrCodeNoError), "server closed")
		return http.ErrServerClosed
	}
	sc := newServerConn(s, qc)
	s.conns[sc] = struct{}{}
	s.mu.Unlock()

	err := sc.serve()

	s.mu.Lock()
	delete(s.conns, sc)
	s.mu.Unlock()
	return err
}

// Shutdown stops the server gracefully: it stops accepting connections,
// sends GOAWAY on every connection (RFC 9114 §5.2) so that clients open no
// new requests, waits for the requests in progress to be answered and
// acknowledged, closes each connection with H3_NO_ERROR, then closes the
// listeners. When ctx ends first, the remaining connections are closed at
// once and ctx's error returned.
func (s *Server) Shutdown(ctx context.Context) error {
	conns, listeners := s.stop()
	for _, sc := range conns {
		sc.goAway()
	}
	var err error
	for _, sc := range conns {
		select {
		case <-sc.drained:
		case <-ctx.Done():
			err = ctx.Err()
		}
		sc.close()
	}
	for _, ln := range listeners {
		ln.Close()
	}
	done := make(chan struct{})
	go func() {
		s.connWG.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	return err
}

// Close closes every connection at once with H3_NO_ERROR, and the
// listeners. Handlers still running see their streams fail.
func (s *Server) Close() error {
	conns, listeners := s.stop()
	for _, sc := range conns {
		sc.close()
	}
	for _, ln := range listeners {
		ln.Close()
	}
	return nil
}

// stop marks the server as stopping and returns what it serves.
func (s *Server) stop() ([]*serverConn, []*quic.Listener) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	s.stopping = true
	s.cancel()
	var conns []*serverConn
	for sc := range s.conns {
		conns = append(conns, sc)
	}
	var lns []*quic.Listener
	for ln := range s.listeners {
		lns = append(lns, ln)
	}
	clear(s.listeners)
	return conns, lns
}

// stoppingNow reports whether Shutdown or Close was called.
func (s *Server) stoppingNow() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopping
}

func (s *Server) handler() http.Handler {
	if s.Handler != nil {
		return s.Handler
	}
	return http.DefaultServeMux
}

func (s *Server) maxHeaderBytes() uint64 {
	if s.MaxHeaderBytes > 0 {
		return uint64(s.MaxHeaderBytes)
	}
	return defaultMaxHeaderBytes
}

func (s *Server) maxConcurrentHandlers() int {
	if s.MaxConcurrentHandlers > 0 {
		return s.MaxConcurrentHandlers
	}
	return defaultMaxConcurrentHandlers
}

func (s *Server) logf(format string, args ...any) {
	if s.ErrorLog != nil {
		s.ErrorLog.Printf(format, args...)
	} else {
		log.Printf(format, args...)
	}
}
