package main

import (
	"context"
	"strings"
	"testing"
)

func TestDemo(t *testing.T) {
	var out, errb syncBuffer
	if code := run(context.Background(), []string{"demo"}, &out, &errb); code != 0 {
		t.Fatalf("demo exited %d:\n%s%s", code, out.String(), errb.String())
	}
	for _, want := range []string{"fetched 64 files", "SHA-256", "goodput", "packets sent", "2 handshakes"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
}

func TestDemoFileSet(t *testing.T) {
	files, sums := demoFileSet()
	if len(files) != demoFiles || len(sums) != demoFiles {
		t.Fatalf("%d files, %d sums", len(files), len(sums))
	}
	lo, hi := 1<<62, 0
	for _, b := range files {
		lo, hi = min(lo, len(b)), max(hi, len(b))
	}
	if lo != demoMinSize || hi != demoMaxSize {
		t.Errorf("sizes %d..%d, want %d..%d", lo, hi, demoMinSize, demoMaxSize)
	}
}
