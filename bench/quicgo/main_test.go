package main

import (
	"bytes"
	"context"
	"os"
	"regexp"
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
		{nil, 2, "quicgo perf -mode"},
		{[]string{"help"}, 0, "quicgo perf -mode"},
		{[]string{"nope"}, 2, `unknown command "nope"`},
		{[]string{"perf", "-h"}, 0, "RESULT handshakes"},
		{[]string{"perf", "-mode", "warp"}, 2, "-mode must be"},
		{[]string{"perf", "-mode", "bulk", "-size", "-1"}, 2, "-size"},
		{[]string{"perf", "-mode", "streams", "-c", "0"}, 2, "must be positive"},
		{[]string{"perf", "-mode", "bulk", "-metrics"}, 2, "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errb syncBuffer
			code := run(context.Background(), tt.args, &out, &errb)
			if code != tt.code {
				t.Errorf("exit %d, want %d", code, tt.code)
			}
			if all := out.String() + errb.String(); !strings.Contains(all, tt.want) {
				t.Errorf("output lacks %q:\n%s", tt.want, all)
			}
		})
	}
}

// TestPerfModes checks that every mode runs and prints tsumugi perf's
// RESULT line; it asserts nothing about the figures.
func TestPerfModes(t *testing.T) {
	num := `(\d+(\.\d+)?|NaN)`
	tests := []struct {
		args []string
		re   string
	}{
		{[]string{"-mode", "bulk", "-size", "2000000"}, `^RESULT bulk secs=NUM gbps=NUM cpu_s_per_GB=NUM$`},
		{[]string{"-mode", "bulk", "-size", "0"}, `^RESULT bulk secs=NUM gbps=NUM cpu_s_per_GB=NUM$`},
		{[]string{"-mode", "streams", "-n", "200", "-c", "20"}, `^RESULT streams secs=NUM streams_per_s=NUM cpu_us_per_stream=NUM$`},
		{[]string{"-mode", "streams", "-n", "300", "-c", "150"}, `^RESULT streams secs=NUM streams_per_s=NUM cpu_us_per_stream=NUM$`},
		{[]string{"-mode", "handshakes", "-n", "10", "-c", "2"}, `^RESULT handshakes secs=NUM hs_per_s=NUM cpu_us_per_hs=NUM p50_us=NUM p99_us=NUM$`},
		{[]string{"-mode", "memory", "-n", "4", "-streams", "150"}, `^RESULT memory conn_heap_B=-?\d+ stream_heap_B=-?\d+$`},
		{[]string{"-mode", "bulk", "-size", "1000000", "-proc"}, `^RESULT bulk secs=NUM gbps=NUM cpu_s_per_GB=NUM$`},
		{[]string{"-mode", "handshakes", "-n", "5", "-proc"}, `^RESULT handshakes secs=NUM hs_per_s=NUM cpu_us_per_hs=NUM p50_us=NUM p99_us=NUM$`},
		{[]string{"-mode", "memory", "-n", "2", "-streams", "20", "-proc"}, `^RESULT memory conn_heap_B=-?\d+ stream_heap_B=-?\d+$`},
	}
	re := func(s string) *regexp.Regexp { return regexp.MustCompile(strings.ReplaceAll(s, "NUM", num)) }
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errb syncBuffer
			code := run(context.Background(), append([]string{"perf"}, tt.args...), &out, &errb)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			line := strings.TrimSuffix(out.String(), "\n")
			if r := re(tt.re); !r.MatchString(line) {
				t.Errorf("output %q does not match %s", out.String(), r)
			}
			t.Log(line)
		})
	}
}
