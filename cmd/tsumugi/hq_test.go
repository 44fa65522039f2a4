package main

import (
	"io/fs"
	"strings"
	"testing"
)

func TestParseRequest(t *testing.T) {
	tests := []struct {
		req  string
		name string
		ok   bool
	}{
		{"GET /index.html\r\n", "index.html", true},
		{"GET /a/b/c.txt\n", "a/b/c.txt", true},
		{"GET /\r\n", "", true},
		{"GET /a//b/./c\r\n", "a/b/c", true},
		{"GET /dir/\r\n", "dir", true},
		{"GET /a%20b\r\n", "a b", true},
		{"GET /x?y=1\r\n", "x", true},
		{"GET /../etc/passwd\r\n", "", false},
		{"GET /a/../../b\r\n", "", false},
		{"GET /a/..\r\n", "", false},
		{"GET /%2e%2e/secret\r\n", "", false},
		{"GET /a%00b\r\n", "", false},
		{"GET /a%5cb\r\n", "", false},
		{"GET /%zz\r\n", "", false},
		{"GET index.html\r\n", "", false},
		{"GET /a b\r\n", "", false},
		{"GET /a\r\nGET /b\r\n", "", false},
		{"GET /a", "", false},
		{"POST /a\r\n", "", false},
		{"get /a\r\n", "", false},
		{"GET \r\n", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		name, ok := parseRequest([]byte(tt.req))
		if name != tt.name || ok != tt.ok {
			t.Errorf("parseRequest(%q) = %q, %v; want %q, %v", tt.req, name, ok, tt.name, tt.ok)
		}
	}
}

func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{"GET /index.html\r\n", "GET /a/../b\n", "GET /%2e%2e/x\r\n", "GET /\r\n", "GET /a?b\r\n", "GET /1024/pad\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, req []byte) {
		name, ok := parseRequest(req)
		if !ok {
			return
		}
		if name != "" && !fs.ValidPath(name) {
			t.Fatalf("parseRequest(%q) = %q: not a valid relative path", req, name)
		}
		for e := range strings.SplitSeq(name, "/") {
			if e == ".." {
				t.Fatalf("parseRequest(%q) = %q: escapes", req, name)
			}
		}
		if len(req) > 0 && string(req[:4]) != "GET " {
			t.Fatalf("accepted %q", req)
		}
	})
}
