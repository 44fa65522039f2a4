package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tsumugi-quic/tsumugi/internal/certs"
)

// writeTestCerts writes a self-signed certificate as the interop runner's
// /certs would hold it.
func writeTestCerts(t *testing.T, dir string) {
	t.Helper()
	cert, _, err := certs.Localhost()
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := certs.PEM(cert)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "cert.pem"), certPEM, 0o600)
	os.WriteFile(filepath.Join(dir, "priv.key"), keyPEM, 0o600)
}

// freeUDPPort finds a UDP port on loopback that is free right now.
func freeUDPPort(t *testing.T) string {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().String()
}

// TestInteropEndpoint runs our interop server and client against each
// other for the test cases that need no network simulator, as the runner
// would, and checks every file.
func TestInteropEndpoint(t *testing.T) {
	for _, tc := range []string{"handshake", "transfer", "multiplexing", "retry", "resumption", "zerortt", "keyupdate", "v2", "connectionmigration", "multiconnect", "http3"} {
		t.Run(tc, func(t *testing.T) {
			www, downloads, certDir := t.TempDir(), t.TempDir(), t.TempDir()
			writeTestCerts(t, certDir)
			files := map[string][]byte{}
			var urls []string
			addr := freeUDPPort(t)
			for i, size := range []int{1000, 5000, 300 << 10} {
				name := filepath.Base(t.Name()) + "-" + string(rune('a'+i))
				b := make([]byte, size)
				rand.Read(b)
				os.WriteFile(filepath.Join(www, name), b, 0o600)
				files[name] = b
				urls = append(urls, "https://"+addr+"/"+name)
			}
			t.Setenv("TESTCASE", tc)
			ctx, cancel := context.WithCancel(context.Background())
			served := make(chan int, 1)
			var serverOut bytes.Buffer
			t.Setenv("ROLE", "server")
			go func() {
				_, prefPort, _ := net.SplitHostPort(freeUDPPort(t))
				served <- run(ctx, []string{"interop", "-www", www, "-certs", certDir, "-listen", addr, "-preferred-port", prefPort}, &serverOut, &serverOut)
			}()
			time.Sleep(100 * time.Millisecond) // let the server bind
			t.Setenv("ROLE", "client")
			t.Setenv("REQUESTS", joinURLs(urls))
			var clientOut bytes.Buffer
			if code := run(context.Background(), []string{"interop", "-downloads", downloads}, &clientOut, &clientOut); code != 0 {
				t.Errorf("client exit %d: %s", code, clientOut.String())
			}
			cancel()
			if code := <-served; code != 0 {
				t.Errorf("server exit %d: %s", code, serverOut.String())
			}
			for name, want := range files {
				got, err := os.ReadFile(filepath.Join(downloads, name))
				if err != nil || !bytes.Equal(got, want) {
					t.Errorf("%s: %d bytes, %v", name, len(got), err)
				}
			}
		})
	}
}

func joinURLs(urls []string) string {
	var b bytes.Buffer
	for i, u := range urls {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(u)
	}
	return b.String()
}

func TestInteropUnsupported(t *testing.T) {
	t.Setenv("TESTCASE", "chacha20")
	t.Setenv("ROLE", "client")
	var out bytes.Buffer
	if code := run(context.Background(), []string{"interop"}, &out, &out); code != 127 {
		t.Fatalf("exit %d, want 127", code)
	}
}
