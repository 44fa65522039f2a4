package main

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"

	"github.com/tsumugi-quic/tsumugi/http3"
	"github.com/tsumugi-quic/tsumugi/quic"
)

// userAgent is the User-Agent of HTTP/3 requests.
const userAgent = "tsumugi-get"

// runH3 fetches items over c, a connection to host that negotiated h3,
// with an http3.Transport that takes c as its first connection to host.
// Redirects are followed (up to 10, as net/http does); another host, or
// host again once c is gone, gets a connection of its own.
func (f *fetcher) runH3(ctx context.Context, host string, c *quic.Conn, items []*fetch) {
	tc := f.tls.Clone() // the Transport names each other host in SNI
	if tc == nil {
		tc = &tls.Config{}
	}
	var handed atomic.Bool
	tr := &http3.Transport{
		TLSClientConfig: tc,
		QUICConfig:      f.conf,
		Dial: func(ctx context.Context, addr string, tc *tls.Config, conf *quic.Config) (*quic.Conn, error) {
			if addr == host && handed.CompareAndSwap(false, true) {
				return c, nil
			}
			return quic.Dial(ctx, "udp", addr, tc, conf)
		},
	}
	client := &http.Client{Transport: tr}
	var wg sync.WaitGroup
	for _, it := range items {
		wg.Go(func() {
			it.n, it.err = f.transferH3(ctx, client, it)
			f.finish(it)
		})
	}
	wg.Wait()
	if f.connDone != nil {
		f.connDone(host, c)
	}
	tr.Close() // closes c with H3_NO_ERROR (RFC 9114 §5.2)
	if !handed.Load() {
		c.CloseWithError(uint64(http3.ErrCodeNoError), "")
	}
}

// transferH3 GETs one URL into its sink. Only a 2xx response counts as the
// file; any other final status is a statusError.
func (f *fetcher) transferH3(ctx context.Context, client *http.Client, it *fetch) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, it.url.String(), nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("User-Agent", userAgent)
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is on the failure line already
		}
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return 0, &statusError{status: resp.Status, code: resp.StatusCode}
	}
	w := &progressWriter{w: it.sink, progress: f.progress}
	n, err := io.Copy(w, resp.Body)
	if w.err != nil {
		return n, &saveError{w.err}
	}
	if ctx.Err() != nil {
		return n, ctx.Err()
	}
	return n, err
}

// statusError is an HTTP response whose status is not 2xx.
type statusError struct {
	status string // "404 Not Found"
	code   int
}

func (e *statusError) Error() string { return "HTTP status " + e.status }
