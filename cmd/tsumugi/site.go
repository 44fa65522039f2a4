package main

import (
	"bytes"
	"html/template"
	"io/fs"
	"log"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"time"

	"golang.org/x/sync/semaphore"
)

// siteHandler is what `tsumugi serve` answers HTTP/3 requests with: the
// files under -root, through http.FileServerFS over the os.Root's file
// system (so no path, ".." or symbolic link leads out of it), and at "/",
// unless the root has an index.html, a generated page listing the files.
type siteHandler struct {
	root  *os.Root
	files http.Handler
	sem   *semaphore.Weighted // shared with the hq-interop server: -max-streams
	log   *log.Logger         // nil: silent
}

func newSiteHandler(root *os.Root, sem *semaphore.Weighted, logger *log.Logger) *siteHandler {
	return &siteHandler{root: root, files: http.FileServerFS(confinedFS{root.FS()}), sem: sem, log: logger}
}

// confinedFS is an os.Root's file system whose Open failures all read as
// fs.ErrNotExist, which http.FileServerFS answers with 404: a name that
// os.Root refuses (a symbolic link out of the root, say) is not there, as
// the HTTP/0.9 server says with 0x11, rather than a 500.
type confinedFS struct{ fsys fs.FS }

func (c confinedFS) Open(name string) (fs.File, error) {
	f, err := c.fsys.Open(name)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return f, nil
}

func (h *siteHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// One request at a time per -max-streams slot, over both protocols;
	// a request waiting for one holds no more than its goroutine, which
	// http3.Server bounds per connection.
	if err := h.sem.Acquire(r.Context(), 1); err != nil {
		return // the client went away
	}
	defer h.sem.Release(1)
	var rec *statusRecorder
	if h.log != nil {
		rec = &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		w = rec
	}
	if r.URL.Path == "/" && !h.hasIndex() {
		h.index(w, r)
	} else {
		h.files.ServeHTTP(w, r)
	}
	if rec != nil {
		h.log.Printf("%s %s %s: %d, %d bytes", r.Proto, r.Method, r.URL.Path, rec.status, rec.n)
	}
}

// hasIndex reports whether the root holds an index.html, which the file
// server then answers "/" with.
func (h *siteHandler) hasIndex() bool {
	st, err := h.root.Stat("index.html")
	return err == nil && st.Mode().IsRegular()
}

// maxIndexEntries bounds the files the index page lists, and
// maxIndexVisits the entries (directories and other files too) it looks
// at to find them.
const (
	maxIndexEntries = 1000
	maxIndexVisits  = 10 * maxIndexEntries
)

// indexEntry is one file on the index page.
type indexEntry struct {
	Name string // slash-separated, relative to the root
	Href string // escaped absolute path
	Size int64
}

var indexTemplate = template.Must(template.New("index").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>tsumugi serve</title></head>
<body>
<h1>Files</h1>
<p>Served by tsumugi over {{.Proto}}.</p>
<ul>
{{range .Entries}}<li><a href="{{.Href}}">{{.Name}}</a> ({{.Size}} bytes)</li>
{{end}}</ul>
{{if .More}}<p>More files are not listed.</p>
{{end}}</body>
</html>
`))

// index writes the page that lists the regular files under the root,
// walking its tree in lexical order (symbolic links are not followed), the
// first maxIndexEntries of them.
func (h *siteHandler) index(w http.ResponseWriter, r *http.Request) {
	var data struct {
		Proto   string
		Entries []indexEntry
		More    bool
	}
	data.Proto = r.Proto
	visited := 0
	err := fs.WalkDir(h.root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if visited++; visited > maxIndexVisits {
			data.More = true
			return fs.SkipAll
		}
		if err != nil {
			if p == "." {
				return err
			}
			return nil // an unreadable subdirectory: list the rest
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if len(data.Entries) == maxIndexEntries {
			data.More = true
			return fs.SkipAll // a huge tree costs no more than a full page
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		data.Entries = append(data.Entries, indexEntry{
			Name: p,
			Href: (&url.URL{Path: "/" + p}).EscapedPath(),
			Size: info.Size(),
		})
		return nil
	})
	if err != nil {
		http.Error(w, "cannot list the files", http.StatusInternalServerError)
		return
	}
	var b bytes.Buffer
	if err := indexTemplate.Execute(&b, &data); err != nil {
		http.Error(w, "cannot list the files", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	w.Header().Set("Last-Modified", time.Now().UTC().Format(http.TimeFormat))
	if r.Method != http.MethodHead {
		w.Write(b.Bytes())
	}
}

// statusRecorder remembers a response's status and size for the request
// log.
type statusRecorder struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
	n           int64
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wroteHeader && code >= 200 {
		s.status, s.wroteHeader = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wroteHeader = true
	n, err := s.ResponseWriter.Write(b)
	s.n += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the http3 ResponseWriter.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
