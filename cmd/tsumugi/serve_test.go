package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/tsumugi-quic/tsumugi/internal/certs"
	"github.com/tsumugi-quic/tsumugi/quic"
	"github.com/tsumugi-quic/tsumugi/stream"
)

// testPKI writes a certificate for localhost and 127.0.0.1, its key and the
// CA to trust it, as PEM files in dir.
func testPKI(t *testing.T, dir string) (certFile, keyFile, caFile string) {
	t.Helper()
	cert, _, err := certs.Localhost()
	if err != nil {
		t.Fatal(err)
	}
	key, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]})
	certFile, keyFile, caFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), filepath.Join(dir, "ca.pem")
	for name, b := range map[string][]byte{
		certFile: certPEM,
		caFile:   certPEM, // self-signed: it is its own CA
		keyFile:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}),
	} {
		if err := os.WriteFile(name, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return
}

// testServer is a `tsumugi serve` over a temporary root with a few files.
type testServer struct {
	*serveInstance
	root, caFile string
	files        map[string][]byte
	cancel       context.CancelFunc
	done         chan struct{}
}

func startTestServer(t *testing.T, extra ...func(*serveOptions)) *testServer {
	t.Helper()
	return startTestServerLog(t, io.Discard, extra...)
}

// startTestServerLog is startTestServer with the server's log going to
// stderr.
func startTestServerLog(t *testing.T, stderr io.Writer, extra ...func(*serveOptions)) *testServer {
	t.Helper()
	dir := t.TempDir()
	root := filepath.Join(dir, "www")
	files := map[string][]byte{
		"small.txt":     []byte("hello, tsumugi\n"),
		"big.bin":       make([]byte, 3<<20),
		"sub/inner.txt": []byte("inside\n"),
		"empty":         {},
	}
	rand.Read(files["big.bin"])
	for name, b := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A secret beside the root, and a symbolic link to it inside.
	if err := os.WriteFile(filepath.Join(dir, "secret.txt"), []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "secret.txt"), filepath.Join(root, "link.txt")); err != nil {
		t.Log("no symlink:", err)
	}
	certFile, keyFile, caFile := testPKI(t, dir)
	o := serveOptions{listen: "127.0.0.1:0", root: root, certFile: certFile, keyFile: keyFile, maxStreams: 100, drain: 5 * time.Second}
	for _, f := range extra {
		f(&o)
	}
	inst, err := startServe(o, stderr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ts := &testServer{serveInstance: inst, root: root, caFile: caFile, files: files, cancel: cancel, done: make(chan struct{})}
	go func() {
		inst.run(ctx)
		close(ts.done)
	}()
	t.Cleanup(ts.stop)
	return ts
}

func (ts *testServer) stop() {
	ts.cancel()
	<-ts.done
}

func (ts *testServer) url(p string) string { return "https://" + ts.ln.Addr().String() + p }

// get runs `tsumugi get` with args and returns the exit code and stderr.
func get(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out, errb syncBuffer
	code := run(context.Background(), append([]string{"get"}, args...), &out, &errb)
	return code, errb.String()
}

func TestServeGet(t *testing.T) {
	ts := startTestServer(t)
	for _, tt := range []struct{ proto, want string }{
		{"auto", "h3"},
		{"h3", "h3"},
		{"hq", "hq-interop"},
	} {
		t.Run(tt.proto, func(t *testing.T) {
			out := t.TempDir()
			var stdout, stderr syncBuffer
			code := run(context.Background(), []string{"get", "-v", "-proto", tt.proto, "-ca", ts.caFile, "-out", out,
				ts.url("/small.txt"), ts.url("/big.bin"), ts.url("/sub/inner.txt"), ts.url("/empty")}, &stdout, &stderr)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			for name, want := range ts.files {
				got, err := os.ReadFile(filepath.Join(out, filepath.Base(name)))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s: got %d bytes, want %d", name, len(got), len(want))
				}
			}
			if n := strings.Count(stdout.String(), "("+tt.want+")"); n != len(ts.files) {
				t.Errorf("%d of %d files over %s:\n%s", n, len(ts.files), tt.want, stdout.String())
			}
			if left, _ := filepath.Glob(filepath.Join(out, ".*part")); len(left) > 0 {
				t.Errorf("temporary files left: %v", left)
			}
		})
	}
}

func TestGetFailures(t *testing.T) {
	ts := startTestServer(t)
	const notFound = "file missing: HTTP status 404 Not Found"
	tests := []struct {
		name string
		path string
		hq   string // the failure line over HTTP/0.9
		h3   string // over HTTP/3; "" means the fetch succeeds
	}{
		{"missing", "/nope.txt", "file missing: the server reset the stream with code 0x11 (not found)", notFound},
		// HTTP/3: the file server cleans the path, and the result is not in the root.
		{"dotdot", "/sub/../../secret.txt", "code 0x10 (bad request)", notFound},
		{"encoded dotdot", "/%2e%2e/secret.txt", "code 0x10 (bad request)", notFound},
		{"symlink out of root", "/link.txt", "code 0x11 (not found)", notFound},
		// HTTP/3 redirects /sub to /sub/, a directory listing.
		{"directory", "/sub", "code 0x11 (not found)", ""},
	}
	for _, tt := range tests {
		for _, proto := range []string{"hq", "h3"} {
			t.Run(tt.name+"/"+proto, func(t *testing.T) {
				want := tt.hq
				if proto == "h3" {
					want = tt.h3
				}
				out := t.TempDir()
				code, stderr := get(t, "-proto", proto, "-ca", ts.caFile, "-out", out, ts.url("/small.txt"), ts.url(tt.path))
				if want == "" {
					if code != 0 {
						t.Fatalf("exit %d: %s", code, stderr)
					}
					return
				}
				if code == 0 {
					t.Fatal("exit 0")
				}
				lines := strings.Split(strings.TrimSpace(stderr), "\n")
				if len(lines) != 1 || !strings.Contains(lines[0], tt.path) || !strings.Contains(lines[0], want) {
					t.Errorf("stderr = %q, want one line about %s with %q", stderr, tt.path, want)
				}
				entries, _ := os.ReadDir(out)
				if len(entries) != 1 || entries[0].Name() != "small.txt" {
					t.Errorf("output directory holds %v, want only small.txt", entries)
				}
			})
		}
	}
}

// TestBadRequests speaks to the server directly.
func TestBadRequests(t *testing.T) {
	ts := startTestServer(t)
	pool, err := caPool(ts.caFile)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := quic.Dial(ctx, "udp", ts.ln.Addr().String(), &tls.Config{RootCAs: pool, ServerName: "localhost", NextProtos: []string{alpn}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tests := []struct {
		name string
		req  string
		code uint64
		body string
	}{
		{"post", "POST /small.txt\r\n", codeBadRequest, ""},
		{"no slash", "GET small.txt\r\n", codeBadRequest, ""},
		{"no line end", "GET /small.txt", codeBadRequest, ""},
		{"two lines", "GET /small.txt\r\nGET /big.bin\r\n", codeBadRequest, ""},
		{"too long", "GET /" + strings.Repeat("a", maxRequestLen) + "\r\n", codeBadRequest, ""},
		{"empty", "", codeBadRequest, ""},
		{"newline only", "GET /small.txt\n", 0, "hello, tsumugi\n"},
		{"query ignored", "GET /small.txt?x=1\r\n", 0, "hello, tsumugi\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := c.OpenStream(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			// The request may be refused before it is all written.
			io.WriteString(s, tt.req)
			s.CloseWrite()
			body, err := io.ReadAll(s)
			var se *stream.StreamError
			switch {
			case tt.code == 0 && err != nil:
				t.Fatalf("read: %v", err)
			case tt.code == 0 && string(body) != tt.body:
				t.Fatalf("body %q, want %q", body, tt.body)
			case tt.code != 0 && !errors.As(err, &se):
				t.Fatalf("read: %v, want a stream reset", err)
			case tt.code != 0 && (se.Code != tt.code || !se.Remote):
				t.Fatalf("reset %+v, want code 0x%x from the server", se, tt.code)
			}
		})
	}
}

func TestMetricsEndpoint(t *testing.T) {
	ts := startTestServer(t, func(o *serveOptions) { o.metrics = "127.0.0.1:0" })
	for _, proto := range []string{"h3", "hq"} {
		if code, stderr := get(t, "-proto", proto, "-ca", ts.caFile, "-out", t.TempDir(), ts.url("/small.txt")); code != 0 {
			t.Fatalf("get -proto %s: %s", proto, stderr)
		}
	}
	if code, _ := get(t, "-proto", "h3", "-ca", ts.caFile, "-out", t.TempDir(), ts.url("/nope")); code == 0 {
		t.Fatal("get /nope: exit 0")
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	scrape := func() map[string]*dto.MetricFamily {
		resp, err := client.Get("http://" + ts.metrics.addr.String() + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		p := expfmt.NewTextParser(model.UTF8Validation)
		fams, err := p.TextToMetricFamilies(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return fams
	}
	value := func(fams map[string]*dto.MetricFamily, name, label, val string) float64 {
		for _, m := range fams[name].GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == val {
					return m.GetCounter().GetValue() + m.GetGauge().GetValue() + float64(m.GetHistogram().GetSampleCount())
				}
			}
		}
		t.Errorf("%s{%s=%q} missing", name, label, val)
		return 0
	}
	// The server records an HTTP/3 request once the client acknowledged
	// the whole response, which may be just after get returned.
	fams := scrape()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); fams = scrape() {
		if value(fams, "tsumugi_http3_requests_total", "class", "2xx") >= 1 &&
			value(fams, "tsumugi_http3_requests_total", "class", "4xx") >= 1 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if v := value(fams, "tsumugi_connections_opened_total", "role", "server"); v < 3 {
		t.Errorf("server connections opened = %v, want ≥ 3", v)
	}
	if v := value(fams, "tsumugi_packets_received_total", "packet_type", "1rtt"); v < 1 {
		t.Errorf("1-RTT packets received = %v, want ≥ 1", v)
	}
	if v := value(fams, "tsumugi_streams_opened_total", "type", "client_bidi"); v < 1 {
		t.Errorf("client bidi streams = %v, want ≥ 1", v)
	}
	for class, want := range map[string]float64{"2xx": 1, "4xx": 1, "5xx": 0} {
		if v := value(fams, "tsumugi_http3_requests_total", "class", class); v != want {
			t.Errorf("HTTP/3 requests %s = %v, want %v", class, v, want)
		}
		if v := value(fams, "tsumugi_http3_request_duration_seconds", "class", class); v != want {
			t.Errorf("HTTP/3 request durations %s = %v, want %v", class, v, want)
		}
	}
	if fams["go_goroutines"] == nil {
		t.Error("Go runtime metrics missing")
	}
}

// TestServeCommand runs `tsumugi serve` itself, fetches a file and stops
// it as SIGINT would: it must exit 0.
func TestServeCommand(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f.txt"), []byte("via serve\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb syncBuffer
	exit := make(chan int, 1)
	go func() {
		exit <- run(ctx, []string{"serve", "-listen", "127.0.0.1:0", "-root", dir, "-max-streams", "4"}, &out, &errb)
	}()
	re := regexp.MustCompile(`on https://(127\.0\.0\.1:\d+)`)
	var addr string
	for deadline := time.Now().Add(10 * time.Second); addr == "" && time.Now().Before(deadline); {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			addr = m[1]
		}
		time.Sleep(5 * time.Millisecond)
	}
	if addr == "" {
		cancel()
		t.Fatalf("no address in output: %q %q", out.String(), errb.String())
	}
	outDir := t.TempDir()
	if code, stderr := get(t, "-insecure", "-out", outDir, "https://"+addr+"/f.txt"); code != 0 {
		t.Errorf("get: %s", stderr)
	}
	cancel()
	if code := <-exit; code != 0 {
		t.Errorf("serve exited %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "stopped") {
		t.Errorf("output: %q", out.String())
	}
}

// TestServeDrain stops the server while a transfer runs, over each
// protocol: the transfer completes and the server stops.
func TestServeDrain(t *testing.T) {
	for _, proto := range []string{"hq", "h3"} {
		t.Run(proto, func(t *testing.T) {
			ts := startTestServer(t)
			pool, err := caPool(ts.caFile)
			if err != nil {
				t.Fatal(err)
			}
			big := ts.files["big.bin"]
			stopped := false
			f := &fetcher{
				tls:    &tls.Config{RootCAs: pool, ServerName: "localhost"},
				conf:   &quic.Config{HandshakeTimeout: 5 * time.Second},
				protos: getProtos[proto],
			}
			sink := &memSink{}
			f.progress = func(int) {
				if !stopped {
					stopped = true
					go ts.stop() // as SIGINT would, mid-transfer
				}
			}
			u, _ := parseURL(ts.url("/big.bin"))
			it := &fetch{url: u, sink: sink}
			f.run(context.Background(), []*fetch{it})
			if it.err != nil {
				t.Fatalf("transfer interrupted: %v", it.err)
			}
			if !bytes.Equal(sink.b.Bytes(), big) {
				t.Fatalf("got %d bytes, want %d", sink.b.Len(), len(big))
			}
			if it.proto != getProtos[proto][0] {
				t.Errorf("fetched over %q", it.proto)
			}
			<-ts.done
		})
	}
}

// memSink collects a body in memory.
type memSink struct{ b bytes.Buffer }

func (m *memSink) Write(p []byte) (int, error) { return m.b.Write(p) }
func (m *memSink) commit() error               { return nil }
func (m *memSink) abort()                      {}
