package integration_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	quicgo "github.com/quic-go/quic-go"
	qgoh3 "github.com/quic-go/quic-go/http3"
)

// quic-go v0.65.0's http3 package (an independent HTTP/3 and QPACK
// implementation) against ours, both ways.

// TestH3OurClientQuicGoServer: our http3.Transport fetches from quic-go's
// http3.Server.
func TestH3OurClientQuicGoServer(t *testing.T) {
	cert := newH3Cert(t)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &h3PayloadHandler{}
	srv := &qgoh3.Server{
		Handler:    h,
		TLSConfig:  qgoh3.ConfigureTLSConfig(&tls.Config{Certificates: []tls.Certificate{cert.cert}}),
		QUICConfig: &quicgo.Config{MaxIdleTimeout: 30 * time.Second, MaxIncomingStreams: 200},
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(pc) }()
	t.Cleanup(func() {
		srv.Close()
		pc.Close()
		if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, quicgo.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			t.Errorf("quic-go Serve: %v", err)
		}
	})
	c, _ := ourH3Client(t, &tls.Config{RootCAs: cert.pool, ServerName: "localhost"})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	h3Transfers(t, ctx, c, "https://"+pc.LocalAddr().String())
	if p := h.proto(h3Path(h3Large, 2)); p != "HTTP/3.0" {
		t.Errorf("quic-go's server saw %q", p)
	}
}

// TestH3QuicGoClientOurServer: quic-go's http3.Transport fetches from our
// http3.Server.
func TestH3QuicGoClientOurServer(t *testing.T) {
	cert := newH3Cert(t)
	h := &h3PayloadHandler{}
	addr := startOurH3Server(t, cert.cert, h)
	tr := &qgoh3.Transport{
		TLSClientConfig: &tls.Config{RootCAs: cert.pool, ServerName: "localhost"},
		QUICConfig:      &quicgo.Config{MaxIdleTimeout: 30 * time.Second},
	}
	t.Cleanup(func() { tr.Close() })
	c := &http.Client{Transport: tr, Timeout: 60 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	h3Transfers(t, ctx, c, "https://"+addr)
	if p := h.proto(h3Path(h3Large, 2)); p != "HTTP/3.0" {
		t.Errorf("our server saw %q", p)
	}
}
