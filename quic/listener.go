package quic

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"

	"github.com/tsumugi-quic/tsumugi/stream"
)

// maxAcceptQueue bounds connections that finished their handshake but that
// the application has not accepted yet; beyond it new ones are refused.
const maxAcceptQueue = 256

// Listener accepts QUIC connections on one endpoint.
type Listener struct {
	ep *Endpoint

	mu     sync.Mutex
	queue  []*Conn
	signal chan struct{} // capacity 1: queue not empty, or closed
	closed bool

	streamsOnce sync.Once
	streams     *streamListener
}

// Listen starts a QUIC server on the UDP address addr. tlsConf must hold a
// certificate and name the application protocols in NextProtos (ALPN is
// mandatory in QUIC, RFC 9001 §8.1). conf may be nil.
func Listen(network, addr string, tlsConf *tls.Config, conf *Config) (*Listener, error) {
	tc, err := serverTLSConfig(tlsConf)
	if err != nil {
		return nil, err
	}
	ep, err := newEndpoint(network, addr, conf)
	if err != nil {
		return nil, err
	}
	if conf != nil && conf.PreferredAddress != "" {
		pa, err := netip.ParseAddrPort(conf.PreferredAddress)
		if err == nil {
			err = ep.listenPreferred(pa)
		}
		if err != nil {
			ep.Close()
			return nil, fmt.Errorf("quic: preferred address: %w", err)
		}
	}
	return listenOn(ep, tc), nil
}

// listenOn makes ep accept connections with the checked TLS config tc.
func listenOn(ep *Endpoint, tc *tls.Config) *Listener {
	l := &Listener{ep: ep, signal: make(chan struct{}, 1)}
	ep.mu.Lock()
	ep.serverTLS = tc
	ep.listener = l
	ep.mu.Unlock()
	return l
}

func serverTLSConfig(c *tls.Config) (*tls.Config, error) {
	if c == nil {
		return nil, errors.New("quic: a server needs a tls.Config with a certificate")
	}
	if len(c.NextProtos) == 0 {
		return nil, errors.New("quic: tls.Config.NextProtos must name the application protocol (ALPN)")
	}
	c = c.Clone()
	c.MinVersion = tls.VersionTLS13
	return c, nil
}

// Addr returns the listener's UDP address.
func (l *Listener) Addr() net.Addr { return l.ep.LocalAddr() }

// Accept waits for a connection whose handshake is complete.
func (l *Listener) Accept(ctx context.Context) (*Conn, error) {
	for {
		l.mu.Lock()
		if len(l.queue) > 0 {
			c := l.queue[0]
			l.queue[0] = nil
			l.queue = l.queue[1:]
			l.mu.Unlock()
			return c, nil
		}
		closed := l.closed
		l.mu.Unlock()
		if closed {
			return nil, ErrEndpointClosed
		}
		select {
		case <-l.signal:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// enqueue offers a connection whose handshake completed; false means the
// queue is full or the listener closed.
func (l *Listener) enqueue(c *Conn) bool {
	l.mu.Lock()
	if l.closed || len(l.queue) >= maxAcceptQueue {
		l.mu.Unlock()
		return false
	}
	l.queue = append(l.queue, c)
	// Signal under the lock: Close closes the channel under it too.
	select {
	case l.signal <- struct{}{}:
	default:
	}
	l.mu.Unlock()
	return true
}

// Dial opens a client connection from the listener's endpoint, sharing its
// socket.
func (l *Listener) Dial(ctx context.Context, addr string, tlsConf *tls.Config) (*Conn, error) {
	return l.ep.dial(ctx, addr, tlsConf, false)
}

// Close closes the listener, its connections and its socket.
func (l *Listener) Close() error {
	l.mu.Lock()
	if !l.closed {
		l.closed = true
		close(l.signal)
	}
	q := l.queue
	l.queue = nil
	l.mu.Unlock()
	for _, c := range q {
		c.abortLocal(ErrEndpointClosed)
	}
	return l.ep.Close()
}

// StreamListener returns a net.Listener whose Accept yields every new
// bidirectional stream of every connection this listener accepts, as a
// net.Conn: with it, net/http can serve over QUIC streams. Once it is
// called, connections are accepted on its behalf: don't also call Accept.
// Closing it closes the Listener.
func (l *Listener) StreamListener() net.Listener {
	l.streamsOnce.Do(func() {
		l.streams = &streamListener{l: l, signal: make(chan struct{}, 1)}
		l.ep.group.Go(l.streams.acceptConns)
	})
	return l.streams
}

// streamListener is the net.Listener of StreamListener.
type streamListener struct {
	l      *Listener
	mu     sync.Mutex
	queue  []*stream.Stream
	signal chan struct{}
}

func (s *streamListener) acceptConns() error {
	for {
		c, err := s.l.Accept(s.l.ep.ctx)
		if err != nil {
			s.wake()
			return nil
		}
		s.l.ep.group.Go(func() error {
			for {
				st, err := c.AcceptStream(c.Context())
				if err != nil {
					return nil
				}
				s.mu.Lock()
				s.queue = append(s.queue, st)
				s.mu.Unlock()
				s.wake()
			}
		})
	}
}

func (s *streamListener) wake() {
	select {
	case s.signal <- struct{}{}:
	default:
	}
}

// Accept returns the next new stream.
func (s *streamListener) Accept() (net.Conn, error) {
	for {
		s.mu.Lock()
		if len(s.queue) > 0 {
			st := s.queue[0]
			s.queue[0] = nil
			s.queue = s.queue[1:]
			s.mu.Unlock()
			return st, nil
		}
		s.mu.Unlock()
		if s.l.ep.ctx.Err() != nil {
			return nil, net.ErrClosed
		}
		select {
		case <-s.signal:
		case <-s.l.ep.ctx.Done():
		}
	}
}

func (s *streamListener) Close() error   { return s.l.Close() }
func (s *streamListener) Addr() net.Addr { return s.l.Addr() }
