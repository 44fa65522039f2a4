package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/url"
	"path"
	"slices"
	"sync"

	"github.com/tsumugi-quic/tsumugi/http3"
	"github.com/tsumugi-quic/tsumugi/quic"
)

// sink receives one response body.
type sink interface {
	io.Writer
	// commit is called when the whole body arrived (the FIN was read); an
	// error from it fails the fetch.
	commit() error
	// abort is called when it did not.
	abort()
}

// fetch is one URL to get.
type fetch struct {
	url   *url.URL
	sink  sink
	n     int64  // bytes received
	err   error  // nil: the whole body arrived and was committed
	proto string // the ALPN it went over, once connected
}

// fetcher gets URLs over HTTP/0.9 (hq-interop) or HTTP/3, whichever the
// server chose: one connection per host, one stream and one goroutine per
// URL.
type fetcher struct {
	tls  *tls.Config // NextProtos is set from protos; ServerName per host
	conf *quic.Config
	// protos are the ALPNs offered, the preferred first (the server
	// chooses; RFC 7301 §3.2); nil means hq-interop alone.
	protos []string
	// progress, if set, is told of every chunk of body received; it must be
	// safe for concurrent use.
	progress func(n int)
	// connDone, if set, is called with each connection before it is
	// closed, after all its fetches finished.
	connDone func(host string, c *quic.Conn)
	// early dials with quic.DialEarly: with a session ticket in the TLS
	// config's ClientSessionCache, requests go out as 0-RTT data.
	early bool
}

// parseURL checks that raw is an https URL with a host, and adds the
// default port 443.
func parseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("%q: want https://host:port/path", raw)
	}
	if u.Port() == "" {
		u.Host = net.JoinHostPort(u.Hostname(), "443")
	}
	return u, nil
}

// outputName is the file name a URL is saved as: the last element of its
// path, or index.html for a directory.
func outputName(u *url.URL) string {
	name := path.Base(u.Path)
	if name == "/" || name == "." || name == "" {
		return "index.html"
	}
	return name
}

// run fetches every item, concurrently, and fills in their n and err.
func (f *fetcher) run(ctx context.Context, items []*fetch) {
	byHost := make(map[string][]*fetch)
	var hosts []string
	for _, it := range items {
		h := it.url.Host
		if _, ok := byHost[h]; !ok {
			hosts = append(hosts, h)
		}
		byHost[h] = append(byHost[h], it)
	}
	var wg sync.WaitGroup
	for _, h := range hosts {
		wg.Go(func() { f.runHost(ctx, h, byHost[h]) })
	}
	wg.Wait()
}

// runHost dials host once and runs its fetches over that connection.
func (f *fetcher) runHost(ctx context.Context, host string, items []*fetch) {
	tc := f.tls.Clone()
	if tc == nil {
		tc = &tls.Config{}
	}
	tc.NextProtos = f.offered()
	if tc.ServerName == "" {
		tc.ServerName = items[0].url.Hostname()
	}
	dial := quic.Dial
	if f.early {
		dial = quic.DialEarly
	}
	c, err := dial(ctx, "udp", host, tc, f.conf)
	if err != nil {
		err = &dialError{host: host, protos: tc.NextProtos, err: err}
		for _, it := range items {
			it.err = err
			it.sink.abort()
		}
		return
	}
	proto := c.ConnectionState().ALPN
	for _, it := range items {
		it.proto = proto
	}
	if proto == http3.NextProtoH3 {
		f.runH3(ctx, host, c, items)
		return
	}
	var wg sync.WaitGroup
	for _, it := range items {
		wg.Go(func() { f.get(ctx, c, it) })
	}
	wg.Wait()
	if f.connDone != nil {
		f.connDone(host, c)
	}
	c.Close()
}

// offered returns the ALPNs to offer.
func (f *fetcher) offered() []string {
	if len(f.protos) == 0 {
		return []string{alpn}
	}
	return slices.Clone(f.protos)
}

// get fetches one URL over its own stream of c.
func (f *fetcher) get(ctx context.Context, c *quic.Conn, it *fetch) {
	it.n, it.err = f.transfer(ctx, c, it)
	f.finish(it)
}

// finish commits a fetch's body if it arrived whole, and drops it if not.
func (f *fetcher) finish(it *fetch) {
	if it.err == nil {
		if err := it.sink.commit(); err != nil {
			it.err = &saveError{err}
		}
	}
	if it.err != nil {
		it.sink.abort()
	}
}

func (f *fetcher) transfer(ctx context.Context, c *quic.Conn, it *fetch) (int64, error) {
	s, err := c.OpenStream(ctx)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	// A canceled ctx (SIGINT) ends a blocked Read.
	stop := context.AfterFunc(ctx, func() { s.CancelRead(0) })
	defer stop()
	if _, err := io.WriteString(s, requestLine(it.url.EscapedPath())); err != nil {
		return 0, err
	}
	if err := s.CloseWrite(); err != nil {
		return 0, err
	}
	w := &progressWriter{w: it.sink, progress: f.progress}
	n, err := io.Copy(w, s)
	if w.err != nil {
		return n, &saveError{w.err}
	}
	if ctx.Err() != nil {
		return n, ctx.Err()
	}
	return n, err
}

// progressWriter reports writes and remembers a write error, so that it
// is told apart from a read error of io.Copy.
type progressWriter struct {
	w        io.Writer
	progress func(int)
	err      error
}

func (p *progressWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	if p.progress != nil && n > 0 {
		p.progress(n)
	}
	if err != nil {
		p.err = err
	}
	return n, err
}

// dialError is a failure to connect to host, offering ALPNs protos.
type dialError struct {
	host   string
	protos []string
	err    error
}

func (e *dialError) Error() string { return e.host + ": " + e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }

// saveError is a failure to store a body.
type saveError struct{ err error }

func (e *saveError) Error() string { return "saving: " + e.err.Error() }
func (e *saveError) Unwrap() error { return e.err }
