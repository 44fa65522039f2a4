package main

// The examples of docs/http3.md, as they are written there (with a
// loopback port 0 and a generated certificate instead of cert.pem).

import (
	"crypto/tls"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/tsumugi-quic/tsumugi/http3"
	"github.com/tsumugi-quic/tsumugi/internal/certs"
	"github.com/tsumugi-quic/tsumugi/quic"
)

var registerHello sync.Once

func TestDocsHTTP3(t *testing.T) {
	cert, pool, err := certs.Localhost()
	if err != nil {
		t.Fatal(err)
	}

	// The server.
	ln, err := quic.Listen("udp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{cert},
		NextProtos:   []string{http3.NextProtoH3}, // ALPN "h3"
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The docs register on http.DefaultServeMux; once per test binary, so
	// that -count above 1 does not register the pattern twice.
	registerHello.Do(func() {
		http.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "hello over "+r.Proto+"\n") // "HTTP/3.0"
		})
	})
	srv := &http3.Server{} // Handler nil: http.DefaultServeMux
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() {
		srv.Close()
		if err := <-served; err != http.ErrServerClosed {
			t.Errorf("Serve: %v", err)
		}
	}()

	// The client.
	tr := &http3.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool}, // cloned per connection; ALPN h3 is set
	}
	defer tr.Close()
	client := &http.Client{Transport: tr}
	resp, err := client.Get("https://" + ln.Addr().String() + "/hello")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || string(body) != "hello over HTTP/3.0\n" {
		t.Fatalf("body %q, %v", body, err)
	}
}
