package main

import (
	"bytes"
	"io/fs"
	"net/url"
	"path"
	"strings"
)

// maxRequestLen bounds a request: "GET " and a path and the line end.
const maxRequestLen = 8 << 10

// requestLine is the HTTP/0.9 request for target (an escaped URL path).
func requestLine(target string) string {
	if target == "" {
		target = "/"
	}
	return "GET " + target + "\r\n"
}

// parseRequest parses an HTTP/0.9 request, "GET /path\r\n" ("\n" also
// accepted), and returns the file name it asks for: relative,
// slash-separated, without "." or empty elements ("" for the root). The
// query, if any, is ignored. ok is false for anything else, including a
// ".." element, which could leave the served directory.
func parseRequest(req []byte) (name string, ok bool) {
	if len(req) > maxRequestLen {
		return "", false
	}
	line, found := bytes.CutPrefix(req, []byte("GET "))
	if !found {
		return "", false
	}
	if l, found := bytes.CutSuffix(line, []byte("\r\n")); found {
		line = l
	} else if l, found := bytes.CutSuffix(line, []byte("\n")); found {
		line = l
	} else {
		return "", false
	}
	if len(line) == 0 || line[0] != '/' {
		return "", false
	}
	for _, c := range line {
		if c <= ' ' || c == 0x7f {
			return "", false // spaces, control characters and a second line
		}
	}
	target := string(line)
	if i := strings.IndexByte(target, '?'); i >= 0 {
		target = target[:i]
	}
	p, err := url.PathUnescape(target)
	if err != nil || strings.ContainsRune(p, 0) || strings.ContainsRune(p, '\\') {
		return "", false
	}
	for elem := range strings.SplitSeq(p, "/") {
		if elem == ".." {
			return "", false
		}
	}
	name = strings.TrimPrefix(path.Clean(p), "/")
	if name == "" {
		return "", true
	}
	if !fs.ValidPath(name) {
		return "", false
	}
	return name, true
}
