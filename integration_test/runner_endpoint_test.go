package integration_test

import (
	"errors"
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

// TestRunnerConnectionMigration: the runner's connectionmigration case
// needs a client that migrates on its own (RFC 9000 §9.2) and a server that
// offers a preferred_address (§9.6); Tsumugi does neither (its server
// follows a client's NAT rebinding: see the rebind cases). `tsumugi
// interop` must say so the runner's way, exiting with status 127 in either
// role, as it must for any case it does not know.
func TestRunnerConnectionMigration(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bin := buildTsumugi(t, dir)
	for _, tc := range []struct{ role, testcase string }{
		{"client", "connectionmigration"},
		{"server", "connectionmigration"},
		{"client", "no-such-case"},
	} {
		t.Run(tc.role+"/"+tc.testcase, func(t *testing.T) {
			cmd := exec.Command(bin, "interop", "-www", dir, "-downloads", dir, "-certs", dir, "-listen", "127.0.0.1:0")
			cmd.Env = append(os.Environ(), "ROLE="+tc.role, "TESTCASE="+tc.testcase, "REQUESTS=https://127.0.0.1:1/x")
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 127 {
				t.Fatalf("exit: %v, want status 127\n%s", err, out)
			}
		})
	}
}
