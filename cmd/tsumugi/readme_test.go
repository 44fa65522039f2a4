package main

// The examples of README.md, run as they are written there (with a
// loopback port 0 and a generated certificate).

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/tsumugi-quic/tsumugi/internal/certs"
	"github.com/tsumugi-quic/tsumugi/quic"
)

// readmeServer is the README's echo server: a goroutine per connection and
// per stream; each stream is a net.Conn.
func readmeServer(ctx context.Context, ln *quic.Listener) {
	for {
		conn, err := ln.Accept(ctx)
		if err != nil {
			return
		}
		go func() {
			for {
				s, err := conn.AcceptStream(ctx)
				if err != nil {
					return
				}
				go func() {
					defer s.Close()
					io.Copy(s, s) // echo until the client's FIN
				}()
			}
		}()
	}
}

// readmeClient is the README's client.
func readmeClient(ctx context.Context, addr string, pool *x509.CertPool) (string, error) {
	conn, err := quic.Dial(ctx, "udp", addr, &tls.Config{RootCAs: pool, ServerName: "localhost", NextProtos: []string{"echo"}}, nil)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	s, err := conn.OpenStream(ctx)
	if err != nil {
		return "", err
	}
	s.Write([]byte("hello, QUIC"))
	s.CloseWrite() // FIN: the server's io.Copy returns
	reply, err := io.ReadAll(s)
	return string(reply), err
}

func TestReadmeEcho(t *testing.T) {
	cert, pool, err := certs.Localhost()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ln, err := quic.Listen("udp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"echo"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() {
		readmeServer(ctx, ln)
		close(served)
	}()
	defer func() {
		ln.Close()
		<-served
	}()
	got, err := readmeClient(ctx, ln.Addr().String(), pool)
	if err != nil || got != "hello, QUIC" {
		t.Fatalf("reply %q, %v", got, err)
	}
}

func TestReadmeHTTP(t *testing.T) {
	cert, pool, err := certs.Localhost()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ln, err := quic.Listen("udp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}

	// Server: every bidirectional stream is a net.Conn for net/http.
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello over a QUIC stream\n")
	})
	srv := &http.Server{Handler: mux}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln.StreamListener()) }()
	defer func() {
		srv.Close() // closes the stream listener, and with it ln
		<-served
	}()

	// Client: one QUIC connection; each HTTP connection is a new stream.
	conn, err := quic.Dial(ctx, "udp", ln.Addr().String(), &tls.Config{RootCAs: pool, ServerName: "localhost", NextProtos: []string{"http/1.1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	tr := &http.Transport{DialContext: conn.DialStream}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	for range 3 {
		resp, err := client.Get("http://tsumugi/hello")
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || string(body) != "hello over a QUIC stream\n" {
			t.Fatalf("body %q, %v", body, err)
		}
	}
}
