package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
)

func TestPerfModes(t *testing.T) {
	num := `(\d+(\.\d+)?|NaN)`
	tests := []struct {
		args []string
		re   string
	}{
		{[]string{"-mode", "bulk", "-size", "2000000"}, `^RESULT bulk secs=NUM gbps=NUM cpu_s_per_GB=NUM$`},
		{[]string{"-mode", "streams", "-n", "200", "-c", "20"}, `^RESULT streams secs=NUM streams_per_s=NUM cpu_us_per_stream=NUM$`},
		{[]string{"-mode", "handshakes", "-n", "10", "-c", "2"}, `^RESULT handshakes secs=NUM hs_per_s=NUM cpu_us_per_hs=NUM p50_us=NUM p99_us=NUM$`},
		{[]string{"-mode", "memory", "-n", "4", "-streams", "50"}, `^RESULT memory conn_heap_B=-?\d+ stream_heap_B=-?\d+$`},
		{[]string{"-mode", "bulk", "-size", "1000000", "-proc"}, `^RESULT bulk secs=NUM gbps=NUM cpu_s_per_GB=NUM$`},
		{[]string{"-mode", "memory", "-n", "2", "-streams", "20", "-proc"}, `^RESULT memory conn_heap_B=-?\d+ stream_heap_B=-?\d+$`},
		{[]string{"-mode", "streams", "-n", "50", "-c", "5", "-metrics"}, `^RESULT streams secs=NUM streams_per_s=NUM cpu_us_per_stream=NUM$`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errb syncBuffer
			code := run(context.Background(), append([]string{"perf"}, tt.args...), &out, &errb)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			line := strings.TrimSuffix(out.String(), "\n")
			re := regexp.MustCompile(strings.ReplaceAll(tt.re, "NUM", num))
			if !re.MatchString(line) {
				t.Errorf("output %q does not match %s", out.String(), re)
			}
			t.Log(line)
		})
	}
}

func TestResultFormat(t *testing.T) {
	got := result("x", "a", 1234.5, "b", 0.000123456, "c", int64(7), "d", 2.5)
	if want := "RESULT x a=1234 b=0.0001235 c=7 d=2.500"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
