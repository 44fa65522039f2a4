package http3

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/tsumugi-quic/tsumugi/quic"
)

// blobHandler serves /blob/N: N pseudo-random bytes, the same for every
// request of N.
func blobHandler(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/blob/"))
	if err != nil || n < 0 {
		http.Error(w, "bad size", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Write(blob(n))
}

var (
	blobOnce sync.Once
	blobData []byte
)

func blob(n int) []byte {
	blobOnce.Do(func() {
		blobData = make([]byte, 8<<20)
		rand.Read(blobData)
	})
	return blobData[:n]
}

func TestGET(t *testing.T) {
	e := newTestEnv(t, http.HandlerFunc(blobHandler))
	for _, size := range []int{0, 1, 1024, 20000, 5 << 20} {
		t.Run(strconv.Itoa(size), func(t *testing.T) {
			req, _ := http.NewRequestWithContext(testContext(t), "GET", fmt.Sprintf("%s/blob/%d", e.url, size), nil)
			resp, err := e.client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 200 || resp.Proto != "HTTP/3.0" {
				t.Fatalf("status %q, proto %q", resp.Status, resp.Proto)
			}
			if !bytes.Equal(got, blob(size)) {
				t.Fatalf("got %d bytes, want %d (or different)", len(got), size)
			}
			if resp.ContentLength != int64(size) && size < responseBufSize {
				t.Errorf("ContentLength %d, want %d", resp.ContentLength, size)
			}
		})
	}
	if e.dials != 1 {
		t.Errorf("%d connections for sequential requests, want 1", e.dials)
	}
}

func TestConcurrentRequests(t *testing.T) {
	e := newTestEnv(t, http.HandlerFunc(blobHandler))
	ctx := testContext(t)
	const n = 100
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			size := 1000 + i*517
			req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/blob/%d", e.url, size), nil)
			resp, err := e.client().Do(req)
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			got, err := io.ReadAll(resp.Body)
			if err != nil {
				errs <- err
				return
			}
			if !bytes.Equal(got, blob(size)) {
				errs <- fmt.Errorf("request %d: %d bytes, want %d", i, len(got), size)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if e.dials != 1 {
		t.Errorf("%d connections, want 1", e.dials)
	}
}

func TestPOSTEcho(t *testing.T) {
	e := newTestEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Proto != "HTTP/3.0" {
			http.Error(w, "want POST over HTTP/3", http.StatusBadRequest)
			return
		}
		w.Header().Set("X-Content-Length", strconv.FormatInt(r.ContentLength, 10))
		io.Copy(w, r.Body)
	}))
	for _, tt := range []struct {
		name   string
		size   int
		length bool // declare Content-Length
	}{
		{"empty", 0, true},
		{"1KB", 1024, true},
		{"3MB sized", 3 << 20, true},
		{"3MB unsized", 3 << 20, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader = bytes.NewReader(blob(tt.size))
			if !tt.length {
				body = io.MultiReader(body) // hides the length
			}
			req, _ := http.NewRequestWithContext(testContext(t), "POST", e.url+"/echo", body)
			resp, err := e.client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, blob(tt.size)) {
				t.Fatalf("echo: %d bytes, want %d", len(got), tt.size)
			}
			wantCL := strconv.Itoa(tt.size)
			if !tt.length {
				wantCL = "-1"
			}
			if cl := resp.Header.Get("X-Content-Length"); cl != wantCL {
				t.Errorf("server saw ContentLength %s, want %s", cl, wantCL)
			}
		})
	}
}

func TestTrailers(t *testing.T) {
	e := newTestEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		sum := sha256.Sum256(data)
		w.Header().Set("Trailer", "X-Sum")
		w.Header().Set("X-Echo-Trailer", r.Trailer.Get("X-Client-Sum"))
		w.WriteHeader(http.StatusOK)
		w.Write(data)
		w.Header().Set("X-Sum", fmt.Sprintf("%x", sum))
		w.Header().Set(http.TrailerPrefix+"X-Undeclared", "late")
	}))
	data := blob(50000)
	sum := fmt.Sprintf("%x", sha256.Sum256(data))
	req, _ := http.NewRequestWithContext(testContext(t), "PUT", e.url+"/t", bytes.NewReader(data))
	req.Trailer = http.Header{"X-Client-Sum": {sum}}
	resp, err := e.client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, ok := resp.Trailer["X-Sum"]; !ok {
		t.Errorf("trailer not declared before the body: %v", resp.Trailer)
	}
	got, err := io.ReadAll(resp.Body)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("body: %d bytes, %v", len(got), err)
	}
	if resp.Trailer.Get("X-Sum") != sum {
		t.Errorf("X-Sum trailer %q, want %q", resp.Trailer.Get("X-Sum"), sum)
	}
	if resp.Trailer.Get("X-Undeclared") != "late" {
		t.Errorf("X-Undeclared trailer %q", resp.Trailer.Get("X-Undeclared"))
	}
	if resp.Header.Get("X-Sum") != "" {
		t.Error("declared trailer sent in the header")
	}
	if got := resp.Header.Get("X-Echo-Trailer"); got != sum {
		t.Errorf("server saw request trailer %q, want %q", got, sum)
	}
}

// TestFlushStreaming checks that Flush sends what was written at once:
// the handler writes a part, flushes, and waits until the client has read
// it before writing the next. Without streaming this would deadlock.
func TestFlushStreaming(t *testing.T) {
	ack := make(chan struct{})
	e := newTestEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := range 5 {
			fmt.Fprintf(w, "part %d\n", i)
			w.(http.Flusher).Flush()
			select {
			case <-ack:
			case <-r.Context().Done():
				return
			}
		}
	}))
	ctx := testContext(t)
	req, _ := http.NewRequestWithContext(ctx, "GET", e.url+"/stream", nil)
	resp, err := e.client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.ContentLength != -1 {
		t.Errorf("ContentLength %d for a flushed response", resp.ContentLength)
	}
	buf := make([]byte, 100)
	for i := range 5 {
		want := fmt.Sprintf("part %d\n", i)
		if _, err := io.ReadFull(resp.Body, buf[:len(want)]); err != nil || string(buf[:len(want)]) != want {
			t.Fatalf("part %d: %q, %v", i, buf[:len(want)], err)
		}
		ack <- struct{}{}
	}
	if rest, err := io.ReadAll(resp.Body); err != nil || len(rest) != 0 {
		t.Fatalf("after the parts: %q, %v", rest, err)
	}
}

func TestResponseController(t *testing.T) {
	e := newTestEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		io.WriteString(w, "x")
		if err := rc.Flush(); err != nil {
			t.Errorf("Flush: %v", err)
		}
		if err := rc.EnableFullDuplex(); err != nil {
			t.Errorf("EnableFullDuplex: %v", err)
		}
	}))
	resp, err := e.client().Get(e.url + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "x" {
		t.Fatalf("body %q", b)
	}
}

func TestStatusAndHeaders(t *testing.T) {
	e := newTestEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/404":
			http.NotFound(w, r)
		case "/204":
			w.WriteHeader(http.StatusNoContent)
			if _, err := w.Write([]byte("x")); err != http.ErrBodyNotAllowed {
				t.Errorf("Write on 204: %v", err)
			}
		case "/early":
			w.Header().Set("Link", "</style.css>; rel=preload")
			w.WriteHeader(http.StatusEarlyHints)
			w.Header().Set("X-Final", "yes")
			io.WriteString(w, "<html></html>")
		case "/cl":
			w.Header().Set("Content-Length", "5")
			io.WriteString(w, "hello")
			if _, err := io.WriteString(w, "!"); err != http.ErrContentLength {
				t.Errorf("write past Content-Length: %v", err)
			}
		case "/headers":
			if r.Host == "" || r.Header.Get("X-Multi") != "a" || len(r.Header["X-Multi"]) != 2 {
				t.Errorf("request header: host %q, %v", r.Host, r.Header)
			}
			if r.Header.Get("Cookie") != "a=1; b=2" {
				t.Errorf("Cookie %q", r.Header.Get("Cookie"))
			}
			if r.URL.RawQuery != "q=1&r=%20" || r.RequestURI != "/headers?q=1&r=%20" {
				t.Errorf("URL %v, RequestURI %q", r.URL, r.RequestURI)
			}
			w.Header()["X-Set"] = []string{"1", "2"}
			w.Header().Set("Connection", "close") // must not be sent
			w.Header().Set("TE", "trailers")      // nor this, in a response
		}
	}))
	c := e.client()
	get := func(path string, mod func(*http.Request)) *http.Response {
		t.Helper()
		req, _ := http.NewRequestWithContext(testContext(t), "GET", e.url+path, nil)
		if mod != nil {
			mod(req)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	if r := get("/404", nil); r.StatusCode != 404 || r.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Errorf("/404: %d %v", r.StatusCode, r.Header)
	}
	if r := get("/204", nil); r.StatusCode != 204 {
		t.Errorf("/204: %d", r.StatusCode)
	}
	if r := get("/early", nil); r.StatusCode != 200 || r.Header.Get("X-Final") != "yes" || r.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("/early: %d %v", r.StatusCode, r.Header)
	}
	if r := get("/cl", nil); r.StatusCode != 200 || r.ContentLength != 5 {
		t.Errorf("/cl: %d %d", r.StatusCode, r.ContentLength)
	}
	r := get("/headers?q=1&r=%20", func(req *http.Request) {
		req.Header.Add("X-Multi", "a")
		req.Header.Add("X-Multi", "b")
		req.Header.Set("Connection", "keep-alive")
		req.AddCookie(&http.Cookie{Name: "a", Value: "1"})
		req.AddCookie(&http.Cookie{Name: "b", Value: "2"})
	})
	if len(r.Header["X-Set"]) != 2 || r.Header.Get("Connection") != "" || r.Header.Get("Date") == "" {
		t.Errorf("/headers: %v", r.Header)
	}
	// HEAD: the header of a GET, no content.
	req, _ := http.NewRequestWithContext(testContext(t), "HEAD", e.url+"/cl", nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || len(b) != 0 || resp.ContentLength != 5 {
		t.Errorf("HEAD: %q, %v, ContentLength %d", b, err, resp.ContentLength)
	}
}

func TestHandlerPanic(t *testing.T) {
	e := newTestEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/abort" {
			panic(http.ErrAbortHandler)
		}
		io.WriteString(w, "ok")
	}))
	resp, err := e.client().Get(e.url + "/abort")
	if err == nil {
		resp.Body.Close()
		t.Fatal("no error after the handler aborted")
	}
	if !errors.Is(err, &Error{Code: ErrCodeRequestCancelled}) {
		t.Errorf("err = %v, want H3_REQUEST_CANCELLED", err)
	}
	// The connection survives.
	resp, err = e.client().Get(e.url + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

// TestHeaderTooLarge: a request header section over MaxHeaderBytes gets
// 431 from the server (RFC 9114 §4.2.2), and our client, once it knows the
// server's SETTINGS_MAX_FIELD_SECTION_SIZE, does not send one.
func TestHeaderTooLarge(t *testing.T) {
	e := newTestEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}),
		func(s *Server) { s.MaxHeaderBytes = 1000; s.ErrorLog = discardLog })
	c := dialRaw(t, e)
	big := field{"x-big", strings.Repeat("b", 2000)}
	status, _ := readRawResponse(t, c.request(headersFrame(append(getFields("/"), big)...), true))
	if status != "431" {
		t.Fatalf("status %s, want 431", status)
	}

	resp, err := e.client().Get(e.url + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	e.tr.mu.Lock()
	var cc *clientConn
	for c := range e.tr.all {
		cc = c
	}
	e.tr.mu.Unlock()
	<-cc.h.settings
	req, _ := http.NewRequestWithContext(testContext(t), "GET", e.url+"/", nil)
	req.Header.Set(big.name, big.value)
	if resp, err := e.client().Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("the client sent a header section over the server's limit")
	}
}

func TestRequestContextCanceled(t *testing.T) {
	started := make(chan struct{})
	handlerDone := make(chan error, 1)
	e := newTestEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		// Stream until the client gives up.
		buf := make([]byte, 4096)
		for {
			if _, err := w.Write(buf); err != nil {
				handlerDone <- err
				return
			}
			w.(http.Flusher).Flush()
		}
	}))
	ctx, cancel := context.WithCancel(testContext(t))
	req, _ := http.NewRequestWithContext(ctx, "GET", e.url+"/", nil)
	resp, err := e.client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	<-started
	io.ReadFull(resp.Body, make([]byte, 10000))
	cancel()
	if _, err := io.ReadAll(resp.Body); err == nil {
		t.Error("read after cancel: no error")
	}
	resp.Body.Close()
	err = <-handlerDone
	if !errors.Is(err, &Error{Code: ErrCodeRequestCancelled}) {
		t.Errorf("handler write error %v, want H3_REQUEST_CANCELLED from the client", err)
	}
}

// TestShutdownGraceful: Shutdown lets the request in progress finish,
// whole, then closes the connection with H3_NO_ERROR.
func TestShutdownGraceful(t *testing.T) {
	started := make(chan struct{})
	release := make(chan struct{})
	e := newTestEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		w.Write(blob(1 << 20))
	}))
	ctx := testContext(t)
	type result struct {
		body []byte
		err  error
	}
	got := make(chan result, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, "GET", e.url+"/", nil)
		resp, err := e.client().Do(req)
		if err != nil {
			got <- result{nil, err}
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- result{b, err}
	}()
	<-started
	shutdown := make(chan error, 1)
	go func() { shutdown <- e.srv.Shutdown(ctx) }()
	close(release)
	r := <-got
	if r.err != nil || !bytes.Equal(r.body, blob(1<<20)) {
		t.Fatalf("request during shutdown: %d bytes, %v", len(r.body), r.err)
	}
	if err := <-shutdown; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	e.tr.mu.Lock()
	var ccs []*clientConn
	for cc := range e.tr.all {
		ccs = append(ccs, cc)
	}
	e.tr.mu.Unlock()
	for _, cc := range ccs {
		<-cc.qc.Context().Done()
		var ae *quic.ApplicationError
		if cause := context.Cause(cc.qc.Context()); !errors.As(cause, &ae) || ErrCode(ae.Code) != ErrCodeNoError {
			t.Errorf("client connection ended with %v, want H3_NO_ERROR", cause)
		}
	}
}
