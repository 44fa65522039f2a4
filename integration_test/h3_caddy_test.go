package integration_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tsumugi-quic/tsumugi/quic"
)

// Caddy (Debian package caddy) as an HTTP/3 server for our client: its
// file_server over a directory of payloads, HTTP/3 on by default for an
// https site. It runs with no admin endpoint, no automatic certificates
// (ours is given), its storage and HOME in temporary directories, and
// loopback ports only, so it needs no network.

// caddyfile is the configuration: global options, then one site.
const caddyfile = `{
	admin off
	auto_https disable_redirects
	skip_install_trust
	http_port %d
	https_port %d
	storage file_system %s
}

https://localhost:%d {
	bind 127.0.0.1
	tls %s %s
	root * %s
	file_server
}
`

func TestH3OurClientCaddy(t *testing.T) {
	bin := h3Binary(t, "caddy", "caddy")
	cert := newH3Cert(t)
	dir := t.TempDir()
	htdocs := filepath.Join(dir, "www")
	writePayloadFiles(t, htdocs, h3TransferFiles())
	port, httpPort := freePort(t), freePort(t)
	conf := filepath.Join(dir, "Caddyfile")
	content := fmt.Sprintf(caddyfile, httpPort, port, filepath.Join(dir, "data"), port, cert.certFile, cert.keyFile, htdocs)
	if err := os.WriteFile(conf, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(dir, "home")
	env := []string{
		"HOME=" + home,
		"XDG_DATA_HOME=" + filepath.Join(home, "data"),
		"XDG_CONFIG_HOME=" + filepath.Join(home, "config"),
		"XDG_CACHE_HOME=" + filepath.Join(home, "cache"),
	}
	p := startPeer(t, dir, env, bin, "run", "--config", conf, "--adapter", "caddyfile")

	// Caddy's site is localhost (SNI and Host); its socket is 127.0.0.1.
	c, tr := ourH3Client(t, &tls.Config{RootCAs: cert.pool})
	target := fmt.Sprintf("127.0.0.1:%d", port)
	tr.Dial = func(ctx context.Context, addr string, tc *tls.Config, conf *quic.Config) (*quic.Conn, error) {
		if host, _, _ := net.SplitHostPort(addr); host != "localhost" {
			return nil, fmt.Errorf("unexpected dial to %s", addr)
		}
		return quic.Dial(ctx, "udp", target, tc, conf)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := fmt.Sprintf("https://localhost:%d", port)
	waitH3Ready(t, ctx, p, c, base+h3Path(h3Small, 1), h3Small, 1)
	h3Transfers(t, ctx, c, base)
}
