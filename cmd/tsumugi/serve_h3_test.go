package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tsumugi-quic/tsumugi/http3"
	"github.com/tsumugi-quic/tsumugi/quic"
)

// h3Client is an HTTP/3 client that trusts ts, and does not follow
// redirects.
func h3Client(t *testing.T, ts *testServer) *http.Client {
	t.Helper()
	pool, err := caPool(ts.caFile)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http3.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}}
	t.Cleanup(func() { tr.Close() })
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       30 * time.Second,
	}
}

// TestServeALPN: the server prefers h3 whatever the client's order, and
// still serves clients that offer one protocol.
func TestServeALPN(t *testing.T) {
	ts := startTestServer(t)
	pool, err := caPool(ts.caFile)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		offer []string
		want  string
	}{
		{[]string{"h3", "hq-interop"}, "h3"},
		{[]string{"hq-interop", "h3"}, "h3"},
		{[]string{"hq-interop"}, "hq-interop"},
		{[]string{"h3"}, "h3"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.offer, ","), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, err := quic.Dial(ctx, "udp", ts.ln.Addr().String(), &tls.Config{RootCAs: pool, ServerName: "localhost", NextProtos: tt.offer}, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if got := c.ConnectionState().ALPN; got != tt.want {
				t.Errorf("ALPN %q, want %q", got, tt.want)
			}
		})
	}
}

func TestServeH3(t *testing.T) {
	ts := startTestServer(t)
	// A file whose name needs escaping in a link and in HTML.
	odd := "a <b>&c #1.txt"
	if err := os.WriteFile(filepath.Join(ts.root, odd), []byte("odd"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := h3Client(t, ts)
	tests := []struct {
		name   string
		method string
		path   string
		header map[string]string
		status int
		body   []byte   // nil: not checked
		has    []string // in the body
		hdr    map[string]string
	}{
		{name: "file", path: "/small.txt", status: 200, body: ts.files["small.txt"],
			hdr: map[string]string{"Content-Type": "text/plain; charset=utf-8", "Content-Length": "15"}},
		{name: "big", path: "/big.bin", status: 200, body: ts.files["big.bin"]},
		{name: "nested", path: "/sub/inner.txt", status: 200, body: ts.files["sub/inner.txt"]},
		{name: "empty", path: "/empty", status: 200, body: []byte{}},
		{name: "escaped name", path: "/a%20%3Cb%3E&c%20%231.txt", status: 200, body: []byte("odd")},
		{name: "range", path: "/big.bin", header: map[string]string{"Range": "bytes=100-199"}, status: 206, body: ts.files["big.bin"][100:200]},
		{name: "head", method: "HEAD", path: "/big.bin", status: 200, body: []byte{},
			hdr: map[string]string{"Content-Length": "3145728"}},
		{name: "missing", path: "/nope", status: 404},
		{name: "symlink out of root", path: "/link.txt", status: 404},
		{name: "dotdot", path: "/sub/../../secret.txt", status: 404},
		{name: "directory redirect", path: "/sub", status: 301, hdr: map[string]string{"Location": "sub/"}},
		{name: "directory listing", path: "/sub/", status: 200, has: []string{`<a href="inner.txt">inner.txt</a>`}},
		{name: "index", path: "/", status: 200,
			hdr: map[string]string{"Content-Type": "text/html; charset=utf-8"},
			has: []string{
				"Served by tsumugi over HTTP/3.0.",
				`<a href="/small.txt">small.txt</a> (15 bytes)`,
				`<a href="/sub/inner.txt">sub/inner.txt</a> (7 bytes)`,
				`<a href="/big.bin">big.bin</a> (3145728 bytes)`,
				`<a href="/a%20%3Cb%3E&amp;c%20%231.txt">a &lt;b&gt;&amp;c #1.txt</a> (3 bytes)`,
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = "GET"
			}
			req, err := http.NewRequest(method, ts.url(tt.path), nil)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status {
				t.Fatalf("status %s, want %d", resp.Status, tt.status)
			}
			if tt.body != nil && !bytes.Equal(body, tt.body) {
				t.Errorf("body: %d bytes, want %d", len(body), len(tt.body))
			}
			for _, s := range tt.has {
				if !strings.Contains(string(body), s) {
					t.Errorf("body lacks %q:\n%s", s, body)
				}
			}
			for k, v := range tt.hdr {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
			if strings.Contains(string(body), "secret") {
				t.Error("a file outside the root was served")
			}
		})
	}
	// The index does not list what lies outside the root.
	resp, err := c.Get(ts.url("/"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(body), "secret") || strings.Contains(string(body), "link.txt") {
		t.Errorf("the index lists a symbolic link or what is outside the root:\n%s", body)
	}
}

// TestServeH3IndexHTML: a root with index.html serves it at "/".
func TestServeH3IndexHTML(t *testing.T) {
	ts := startTestServer(t)
	page := []byte("<!DOCTYPE html><title>mine</title><p>my own page</p>\n")
	if err := os.WriteFile(filepath.Join(ts.root, "index.html"), page, 0o644); err != nil {
		t.Fatal(err)
	}
	resp, err := h3Client(t, ts).Get(ts.url("/"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(body, page) {
		t.Errorf("status %s, body %q; want index.html", resp.Status, body)
	}
}

// TestServeH3IndexBounded: the generated page lists at most
// maxIndexEntries files, and says that it left some out.
func TestServeH3IndexBounded(t *testing.T) {
	ts := startTestServer(t)
	dir := filepath.Join(ts.root, "many")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range maxIndexEntries + 10 {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%04d", i)), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := h3Client(t, ts).Get(ts.url("/"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if n := strings.Count(string(body), "<li>"); n != maxIndexEntries {
		t.Errorf("%d entries, want %d", n, maxIndexEntries)
	}
	if want := "More files are not listed."; !strings.Contains(string(body), want) {
		t.Errorf("body lacks %q", want)
	}
}

// TestServeH3Log: -v logs each HTTP/3 request with its status.
func TestServeH3Log(t *testing.T) {
	var logb syncBuffer
	ts := startTestServerLog(t, &logb, func(o *serveOptions) { o.verbose = true })
	c := h3Client(t, ts)
	for _, p := range []string{"/small.txt", "/nope"} {
		resp, err := c.Get(ts.url(p))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	for _, want := range []string{"HTTP/3.0 GET /small.txt: 200, 15 bytes", "HTTP/3.0 GET /nope: 404"} {
		if !strings.Contains(logb.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logb.String())
		}
	}
}
