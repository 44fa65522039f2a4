package integration_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	quicgo "github.com/quic-go/quic-go"
	qgoh3 "github.com/quic-go/quic-go/http3"
)

// The tsumugi command against quic-go (issue 6): `tsumugi serve` answers
// quic-go clients over HTTP/3 and HTTP/0.9 (hq-interop), and `tsumugi get`
// fetches from quic-go servers over both; every byte is compared.

// cliFiles writes a directory with a large and a small file and returns it
// with their contents.
func cliFiles(t *testing.T) (dir string, files map[string][]byte) {
	t.Helper()
	dir = t.TempDir()
	files = map[string][]byte{"big.bin": make([]byte, 3<<20), "small.txt": []byte("hello from a file\n")}
	rand.Read(files["big.bin"])
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir, files
}

// TestCLIServeToQuicGo: quic-go's HTTP/3 client and a quic-go HTTP/0.9
// client fetch files from `tsumugi serve`, which then exits 0 on SIGINT.
func TestCLIServeToQuicGo(t *testing.T) {
	bin := buildTsumugi(t, t.TempDir())
	root, files := cliFiles(t)
	cert := newH3Cert(t)
	cmd := exec.Command(bin, "serve", "-listen", "127.0.0.1:0", "-root", root, "-cert", cert.certFile, "-key", cert.keyFile)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	defer func() {
		cmd.Process.Kill()
	}()
	// "serving DIR on https://ADDR (QUIC, ...)"
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("tsumugi serve printed no address: %v; stderr: %s", err, stderr.String())
	}
	go func() { exited <- cmd.Wait() }()
	i := strings.Index(line, "https://")
	if i < 0 {
		t.Fatalf("tsumugi serve printed %q", line)
	}
	addr := strings.Fields(line[i+len("https://"):])[0]
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	clientTLS := &tls.Config{InsecureSkipVerify: true, ServerName: "localhost"}

	// HTTP/3.
	tr := &qgoh3.Transport{TLSClientConfig: clientTLS, QUICConfig: &quicgo.Config{MaxIdleTimeout: 30 * time.Second}}
	defer tr.Close()
	for name, want := range files {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+addr+"/"+name, nil)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatalf("h3 GET %s: %v", name, err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || !bytes.Equal(got, want) {
			t.Fatalf("h3 GET %s: status %d, %d bytes (want %d), %v", name, resp.StatusCode, len(got), len(want), err)
		}
	}

	// HTTP/0.9 over hq-interop: "GET /path" then FIN; the file then FIN.
	hqTLS := clientTLS.Clone()
	hqTLS.NextProtos = []string{"hq-interop"}
	c, err := quicgo.DialAddr(ctx, addr, hqTLS, &quicgo.Config{MaxIdleTimeout: 30 * time.Second})
	if err != nil {
		t.Fatalf("hq-interop dial: %v", err)
	}
	defer c.CloseWithError(0, "")
	for name, want := range files {
		s, err := c.OpenStreamSync(ctx)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(s, "GET /"+name+"\r\n")
		s.Close() // FIN on our side
		got, err := io.ReadAll(s)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("hq GET %s: %d bytes (want %d), %v", name, len(got), len(want), err)
		}
	}

	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("tsumugi serve after SIGINT: %v; stderr: %s", err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Errorf("tsumugi serve did not exit after SIGINT")
	}
}

// TestCLIGetFromQuicGo: `tsumugi get` fetches from quic-go's HTTP/3
// server (-proto auto) and from an HTTP/0.9 server on quic-go (-proto hq).
func TestCLIGetFromQuicGo(t *testing.T) {
	bin := buildTsumugi(t, t.TempDir())
	root, files := cliFiles(t)
	cert := newH3Cert(t).cert
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// quic-go's HTTP/3 server with net/http's file server.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &qgoh3.Server{
		Handler:    http.FileServer(http.Dir(root)),
		TLSConfig:  qgoh3.ConfigureTLSConfig(&tls.Config{Certificates: []tls.Certificate{cert}}),
		QUICConfig: &quicgo.Config{MaxIdleTimeout: 30 * time.Second},
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(pc) }()
	t.Cleanup(func() {
		srv.Close()
		pc.Close()
		<-done
	})

	// An HTTP/0.9 (hq-interop) server on quic-go.
	hqLn, err := quicgo.ListenAddr("127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"hq-interop"}},
		&quicgo.Config{MaxIdleTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hqLn.Close() })
	go func() {
		for {
			c, err := hqLn.Accept(ctx)
			if err != nil {
				return
			}
			go func() {
				for {
					s, err := c.AcceptStream(ctx)
					if err != nil {
						return
					}
					go func() {
						req, _ := io.ReadAll(io.LimitReader(s, 1024))
						path := strings.TrimPrefix(strings.TrimSpace(strings.TrimPrefix(string(req), "GET ")), "/")
						b, err := os.ReadFile(filepath.Join(root, filepath.Base(path)))
						if err != nil {
							s.CancelWrite(0x10)
							return
						}
						s.Write(b)
						s.Close()
					}()
				}
			}()
		}
	}()

	for _, tc := range []struct{ proto, addr string }{
		{"auto", pc.LocalAddr().String()},
		{"hq", hqLn.Addr().String()},
	} {
		out := t.TempDir()
		args := []string{"get", "-insecure", "-proto", tc.proto, "-out", out}
		for name := range files {
			args = append(args, "https://"+tc.addr+"/"+name)
		}
		cmd := exec.CommandContext(ctx, bin, args...)
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("tsumugi get -proto %s: %v\n%s", tc.proto, err, msg)
		}
		for name, want := range files {
			got, err := os.ReadFile(filepath.Join(out, name))
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("-proto %s: %s: %d bytes (want %d), %v", tc.proto, name, len(got), len(want), err)
			}
		}
	}
}
