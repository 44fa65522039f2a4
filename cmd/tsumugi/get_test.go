package main

import (
	"context"
	"crypto/tls"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tsumugi-quic/tsumugi/http3"
	"github.com/tsumugi-quic/tsumugi/internal/certs"
	"github.com/tsumugi-quic/tsumugi/quic"
)

// rawServer is a QUIC server with its own ALPN and connection handler.
func rawServer(t *testing.T, proto string, handle func(*quic.Conn)) string {
	t.Helper()
	cert, _, err := certs.Localhost()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := quic.Listen("udp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{proto}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept(context.Background())
			if err != nil {
				return
			}
			handle(c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	return ln.Addr().String()
}

// h3Server is an http3.Server with handler on a loopback port, with a
// certificate clients must not check.
func h3Server(t *testing.T, handler http.Handler) string {
	t.Helper()
	cert, _, err := certs.Localhost()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := quic.Listen("udp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{http3.NextProtoH3}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http3.Server{Handler: handler, ErrorLog: log.New(io.Discard, "", 0)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(ln)
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return ln.Addr().String()
}

func TestGetErrorLines(t *testing.T) {
	hq := startTestServer(t)
	alpnAddr := rawServer(t, "echo", func(*quic.Conn) {})
	h3Addr := rawServer(t, "h3", func(*quic.Conn) {})
	closeAddr := rawServer(t, alpn, func(c *quic.Conn) { c.CloseWithError(0x42, "go away") })
	resetAddr := rawServer(t, alpn, func(c *quic.Conn) {
		go func() {
			s, err := c.AcceptStream(context.Background())
			if err != nil {
				return
			}
			s.CancelWrite(0x99)
			s.CancelRead(0x99)
		}()
	})
	h3CloseAddr := rawServer(t, "h3", func(c *quic.Conn) { c.CloseWithError(0x101, "bad frames") })
	h3Site := h3Server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/panic":
			panic("handler bug")
		case "/forbidden":
			http.Error(w, "no", http.StatusForbidden)
		default:
			http.Error(w, "oops", http.StatusInternalServerError)
		}
	}))
	// A UDP socket that never answers.
	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"certificate", []string{hq.url("/small.txt")}, "certificate rejected: "},
		{"alpn", []string{"-insecure", "https://" + alpnAddr + "/x"}, `ALPN refused: the server speaks none of "h3", "hq-interop"`},
		{"alpn hq", []string{"-insecure", "-proto", "hq", "https://" + h3Addr + "/x"}, `ALPN refused: the server does not speak "hq-interop"`},
		{"alpn h3", []string{"-insecure", "-proto", "h3", "https://" + closeAddr + "/x"}, `ALPN refused: the server does not speak "h3"`},
		{"closed", []string{"-insecure", "https://" + closeAddr + "/x"}, "connection closed by the server with application error 0x42: go away"},
		{"reset", []string{"-insecure", "https://" + resetAddr + "/x"}, "stream reset by the server with code 0x99"},
		{"h3 closed", []string{"-insecure", "https://" + h3CloseAddr + "/x"}, "connection closed by the server with application error 0x101 (H3_GENERAL_PROTOCOL_ERROR): bad frames"},
		{"h3 reset", []string{"-insecure", "https://" + h3Site + "/panic"}, "stream reset by the server with H3_INTERNAL_ERROR"},
		{"h3 403", []string{"-insecure", "https://" + h3Site + "/forbidden"}, "HTTP status 403 Forbidden"},
		{"h3 500", []string{"-insecure", "https://" + h3Site + "/x"}, "HTTP status 500 Internal Server Error"},
		{"unreachable", []string{"-insecure", "-timeout", "300ms", "https://" + silent.LocalAddr().String() + "/x"}, "unreachable: no QUIC handshake within 300ms"},
		{"scheme", []string{"http://127.0.0.1:1/x"}, "bad URL"},
		{"duplicate name", []string{"-insecure", hq.url("/small.txt"), hq.url("/sub/small.txt")}, "would be saved as small.txt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			code, stderr := get(t, append([]string{"-out", t.TempDir()}, tt.args...)...)
			if code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			if !strings.Contains(stderr, tt.want) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("stderr = %q, want one line with %q", stderr, tt.want)
			}
			t.Logf("%s in %v", strings.TrimSpace(stderr), time.Since(start).Round(time.Millisecond))
		})
	}
}

func TestOutputName(t *testing.T) {
	for raw, want := range map[string]string{
		"https://h:1/a/b.txt": "b.txt",
		"https://h:1/":        "index.html",
		"https://h:1":         "index.html",
		"https://h:1/dir/":    "dir",
	} {
		u, err := parseURL(raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := outputName(u); got != want {
			t.Errorf("outputName(%s) = %q, want %q", raw, got, want)
		}
	}
	if u, _ := parseURL("https://example.com/x"); u.Host != "example.com:443" {
		t.Errorf("default port: %s", u.Host)
	}
}

func TestKeyLog(t *testing.T) {
	ts := startTestServer(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "keys.log")
	t.Setenv("SSLKEYLOGFILE", file)
	if code, stderr := get(t, "-ca", ts.caFile, "-out", dir, ts.url("/small.txt")); code != 0 {
		t.Fatal(stderr)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "CLIENT_HANDSHAKE_TRAFFIC_SECRET") {
		t.Errorf("key log lacks secrets: %q", b)
	}
}
