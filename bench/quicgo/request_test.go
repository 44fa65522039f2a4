package main

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestReadRequest(t *testing.T) {
	errBoom := errors.New("boom")
	tests := []struct {
		name    string
		r       io.Reader
		want    string
		eof     bool
		wantErr error
	}{
		{"line and FIN in one read", iotest.DataErrReader(strings.NewReader("GET /1\r\n")), "GET /1\r\n", true, nil},
		{"line, FIN on the next read", strings.NewReader("GET /1\r\n"), "GET /1\r\n", false, nil},
		{"line, FIN later", iotest.OneByteReader(io.MultiReader(strings.NewReader("GET /1\n"), neverReader{})), "GET /1\n", false, nil},
		{"FIN without line end", strings.NewReader("GET /1"), "GET /1", true, nil},
		{"error before the line end", io.MultiReader(strings.NewReader("GET /"), iotest.ErrReader(errBoom)), "", false, errBoom},
		{"too long", io.MultiReader(bytes.NewReader(bytes.Repeat([]byte("a"), maxRequestLen+10)), neverReader{}), strings.Repeat("a", maxRequestLen+1), false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, eof, err := readRequest(tt.r)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			if string(got) != tt.want || eof != tt.eof {
				t.Errorf("got %q eof=%v, want %q eof=%v", got, eof, tt.want, tt.eof)
			}
		})
	}
}

// neverReader fails the test's expectations if read: readRequest must stop
// before it.
type neverReader struct{}

func (neverReader) Read([]byte) (int, error) { return 0, errors.New("read past the request") }

func TestParseRequest(t *testing.T) {
	tests := []struct {
		req  string
		name string
		ok   bool
	}{
		{"GET /1024\r\n", "1024", true},
		{"GET " + streamsRequest + "\r\n", "1024/" + strings.Repeat("p", 20), true},
		{"GET /a/../b\r\n", "", false},
		{"POST /1\r\n", "", false},
		{"GET /1", "", false},
		{"GET 1\r\n", "", false},
	}
	for _, tt := range tests {
		name, ok := parseRequest([]byte(tt.req))
		if name != tt.name || ok != tt.ok {
			t.Errorf("parseRequest(%q) = %q, %v; want %q, %v", tt.req, name, ok, tt.name, tt.ok)
		}
	}
	if n := len(requestLine(streamsRequest)); n != 32 {
		t.Errorf("the streams request is %d bytes, want 32", n)
	}
}

func TestSynthFiles(t *testing.T) {
	tests := []struct {
		name string
		size int64
		ok   bool
	}{
		{"0", 0, true},
		{"1024/pad", 1024, true},
		{"200000", 200000, true},
		{"-1", 0, false},
		{"x", 0, false},
		{"1099511627777", 0, false},
	}
	for _, tt := range tests {
		f, err := synthFiles{}.open(tt.name)
		if (err == nil) != tt.ok {
			t.Errorf("open(%q): error %v", tt.name, err)
			continue
		}
		if err != nil {
			continue
		}
		var b bytes.Buffer
		n, err := io.Copy(&b, f)
		if err != nil || n != tt.size {
			t.Errorf("open(%q): %d bytes, %v; want %d", tt.name, n, err, tt.size)
		}
		if n > 0 && !bytes.Equal(b.Bytes()[:min(n, int64(len(patternBlock)))], patternBlock[:min(n, int64(len(patternBlock)))]) {
			t.Errorf("open(%q): not the pattern", tt.name)
		}
	}
}
