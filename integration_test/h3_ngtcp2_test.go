package integration_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// ngtcp2's example HTTP/3 client and server (Debian packages ngtcp2-client
// and ngtcp2-server: gtlsclient and gtlsserver, ngtcp2 with nghttp3 and
// GnuTLS). Both exit 0 even when a transfer failed, so the tests compare
// the files.

// TestH3Ngtcp2ClientOurServer: gtlsclient downloads from our http3.Server.
func TestH3Ngtcp2ClientOurServer(t *testing.T) {
	bin := h3Binary(t, "gtlsclient", "ngtcp2-client")
	cert := newH3Cert(t)
	h := &h3PayloadHandler{}
	addr := startOurH3Server(t, cert.cert, h)
	_, port := splitAddr(t, addr)
	cases := []struct {
		name  string
		pairs [][2]uint64
	}{
		{"1KB", [][2]uint64{{h3Small, 1}}},
		{"5MB", [][2]uint64{{h3Large, 2}}},
		{"100concurrent", h3TransferFiles()[2:]},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			args := []string{"--quiet", "--exit-on-all-streams-close", "--timeout=30s", "--download", dir, "127.0.0.1", port}
			for _, p := range tc.pairs {
				args = append(args, "https://127.0.0.1:"+port+h3Path(p[0], p[1]))
			}
			p := startPeer(t, dir, nil, bin, args...)
			if !p.wait(60 * time.Second) {
				t.Fatal("gtlsclient still running after 60 s")
			}
			for _, pr := range tc.pairs {
				if err := fileSum(filepath.Join(dir, filepath.Base(h3Path(pr[0], pr[1]))), pr[0], pr[1]); err != nil {
					t.Error(err)
				}
			}
			if pr := h.proto(h3Path(tc.pairs[0][0], tc.pairs[0][1])); pr != "HTTP/3.0" {
				t.Errorf("our server saw %q", pr)
			}
		})
	}
}

// TestH3OurClientNgtcp2Server: our http3.Transport fetches from gtlsserver
// serving files from a directory.
func TestH3OurClientNgtcp2Server(t *testing.T) {
	bin := h3Binary(t, "gtlsserver", "ngtcp2-server")
	cert := newH3Cert(t)
	htdocs := t.TempDir()
	writePayloadFiles(t, htdocs, h3TransferFiles())
	port := freePort(t)
	p := startPeer(t, htdocs, nil, bin, "--quiet", "--timeout=30s", "-d", htdocs,
		"127.0.0.1", strconv.Itoa(port), cert.keyFile, cert.certFile)
	c, _ := ourH3Client(t, &tls.Config{RootCAs: cert.pool, ServerName: "localhost"})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := fmt.Sprintf("https://127.0.0.1:%d", port)
	waitH3Ready(t, ctx, p, c, base+h3Path(h3Small, 1), h3Small, 1)
	h3Transfers(t, ctx, c, base)
}

// waitH3Ready retries a first fetch while p, a peer server that was just
// started, may not be listening yet.
func waitH3Ready(t *testing.T, ctx context.Context, p *peerProcess, c *http.Client, url string, size, seed uint64) {
	t.Helper()
	var err error
	for range 50 {
		select {
		case <-p.done:
			t.Fatalf("the server exited: %v", p.err)
		default:
		}
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err = h3Get(rctx, c, url, size, seed)
		cancel()
		if err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the server never answered: %v", err)
}

// splitAddr splits host:port.
func splitAddr(t *testing.T, addr string) (host, port string) {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return host, port
}
