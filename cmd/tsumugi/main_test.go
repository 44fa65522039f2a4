package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// perf -proc re-executes this binary as the perf server.
	if len(os.Args) > 1 && os.Args[1] == perfServerCommand {
		os.Exit(runPerfServer(context.Background(), os.Args[2:], os.Stdout, os.Stderr))
	}
	goleak.VerifyTestMain(m)
}

// syncBuffer is a bytes.Buffer safe for a command writing while a test
// reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string // in stdout+stderr
	}{
		{nil, 2, "The commands are"},
		{[]string{"help"}, 0, "perf"},
		{[]string{"nope"}, 2, `unknown command "nope"`},
		{[]string{"serve", "-h"}, 0, "0x11  not found"},
		{[]string{"get", "-h"}, 0, "-insecure"},
		{[]string{"get"}, 2, "no URL"},
		{[]string{"get", "-proto", "h2", "https://127.0.0.1:1/x"}, 2, `-proto must be auto, h3 or hq, not "h2"`},
		{[]string{"get", "-h"}, 0, "-proto"},
		{[]string{"serve", "-h"}, 0, `HTTP/3 (ALPN "h3")`},
		{[]string{"demo", "-h"}, 0, "no arguments"},
		{[]string{"demo", "x"}, 2, "takes no arguments"},
		{[]string{"perf", "-h"}, 0, "RESULT handshakes"},
		{[]string{"perf", "-mode", "warp"}, 2, "-mode must be"},
		{[]string{"perf", "-mode", "bulk", "-size", "-1"}, 2, "-size"},
		{[]string{"serve", "-bogus"}, 2, "flag provided but not defined"},
		{[]string{"serve", "-cert", "x.pem"}, 1, "-cert and -key go together"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errb syncBuffer
			code := run(context.Background(), tt.args, &out, &errb)
			all := out.String() + errb.String()
			if code != tt.code {
				t.Errorf("exit %d, want %d\n%s", code, tt.code, all)
			}
			if !strings.Contains(all, tt.want) {
				t.Errorf("output lacks %q:\n%s", tt.want, all)
			}
		})
	}
}
