package integration_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// buildTsumugi builds the tsumugi command of this repository into dir and returns its path,
// or skips the test where there is no go command to build with.
func buildTsumugi(t *testing.T, dir string) string {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command to build tsumugi with: %v", err)
	}
	bin := filepath.Join(dir, "tsumugi")
	// In the main module (the parent directory), with its own go.sum:
	// the command's dependencies are none of this module's business.
	cmd := exec.Command(goCmd, "build", "-o", bin, "./cmd/tsumugi")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestRunnerConnectionMigration: the runner's connectionmigration case. A
// Tsumugi server offers a preferred address (RFC 9000 §9.6: a second
// socket of its own); the client, having reached the server through the
// proxy, validates that address once the handshake is confirmed and moves
// its connection there (§9.2) in the middle of a 2 MiB transfer. The new
// path bypasses the proxy, so what the runner reads from its captures
// there (the server's PATH_CHALLENGE, the client's new connection ID) is
// not seen; the checks are the transfer's bytes, one handshake on the
// proxy's path, both ends' addresses after the move, and that the proxy
// stopped carrying the connection. quic-go v0.65.0 neither offers a
// preferred address nor moves to one: its cells are unsupported.
func TestRunnerConnectionMigration(t *testing.T) {
	forRunnerPairs(t, []runnerPair{pairOurs}, func(t *testing.T, ctx context.Context, p runnerPair) {
		cell := newRunnerCell(t, ctx, p, cellSetup{opts: runnerOpts{preferred: true}})
		conn := cell.mustDial()
		cell.check(fetchFiles(ctx, conn, []uint64{2 << 20}, 800, 0))
		cell.expectHandshakes(1)
		oc, ok := conn.(runnerOursConn)
		if !ok {
			t.Fatalf("a %T", conn)
		}
		sc := cell.serverConns()
		if len(sc) != 1 {
			t.Fatalf("the server accepted %d connections", len(sc))
		}
		server := sc[0].(runnerOursConn).c
		remote := oc.c.RemoteAddr().String()
		if remote == cell.px.addr() {
			t.Fatalf("the client still talks to %s, the proxy", remote)
		}
		if got, want := server.RemoteAddr().String(), oc.c.LocalAddr().String(); got != want {
			t.Errorf("the server sees the client at %s, want %s (its own address, not the proxy's)", got, want)
		}
		seen := len(cell.rec.trace())
		cell.check(fetchFiles(ctx, conn, []uint64{256 << 10}, 801, 0))
		late := cell.rec.trace()[seen:]
		var kinds []string
		for _, e := range late {
			for _, p := range e.packets {
				kinds = append(kinds, fmt.Sprintf("%v %v %dB", e.dir, p.kind, e.size))
			}
		}
		t.Logf("moved to %s; the proxy carried %d datagrams before, %d during a later 256 KiB fetch: %q", remote, seen, len(late), kinds)
	})
}

// TestRunnerUnsupportedCase: `tsumugi interop` exits with status 127 for a
// test case it does not know, in either role, as the runner expects.
func TestRunnerUnsupportedCase(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bin := buildTsumugi(t, dir)
	for _, role := range []string{"client", "server"} {
		t.Run(role, func(t *testing.T) {
			cmd := exec.Command(bin, "interop", "-www", dir, "-downloads", dir, "-certs", dir, "-listen", "127.0.0.1:0")
			cmd.Env = append(os.Environ(), "ROLE="+role, "TESTCASE=no-such-case", "REQUESTS=https://127.0.0.1:1/x")
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 127 {
				t.Fatalf("exit: %v, want status 127\n%s", err, out)
			}
		})
	}
}
