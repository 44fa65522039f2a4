package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/tsumugi-quic/tsumugi/http3"
	"github.com/tsumugi-quic/tsumugi/metrics"
	"github.com/tsumugi-quic/tsumugi/quic"
)

const getSynopsis = "[-proto auto|h3|hq] [-insecure] [-ca FILE] [-out DIR] [-qlog DIR] [-keylog FILE] [-timeout D] URL..."

const getDescription = `
Get fetches https://host:port/path URLs over QUIC, with HTTP/3 (ALPN "h3")
or with HTTP/0.9 (ALPN "hq-interop", the protocol of the QUIC interop
runner), whichever the server picks: -proto auto (the default) offers
both, h3 first; -proto h3 or -proto hq offers only that one. It opens one
connection per host, and one stream and one goroutine per URL, and saves
each file as DIR/<last path element> (index.html for "/"). Over HTTP/3
redirects are followed, and only a 2xx response is taken for the file.

It exits 0 only if every file arrived whole (up to the server's FIN);
otherwise it exits 1 and prints one line per failed URL that says why:
unreachable, certificate rejected, ALPN refused, file missing (HTTP/3
status 404, or the HTTP/0.9 server's reset code), another HTTP status,
stream reset, or connection closed (with code and reason). A file that did
not arrive whole is not kept.

Progress is shown on standard error when it is a terminal.
SSLKEYLOGFILE in the environment works like -keylog, and QLOGDIR like -qlog
(one qlog trace per connection, <ODCID>_client.sqlog).`

// getOptions configure a fetch.
type getOptions struct {
	proto    string
	insecure bool
	ca       string
	out      string
	keylog   string
	qlog     string
	timeout  time.Duration
	verbose  bool
}

// getProtos are the ALPNs each -proto offers, the preferred first.
var getProtos = map[string][]string{
	"auto": {http3.NextProtoH3, alpn},
	"h3":   {http3.NextProtoH3},
	"hq":   {alpn},
}

// runGet is `tsumugi get`.
func runGet(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o getOptions
	fs := newFlagSet("get", getSynopsis, getDescription, stderr)
	fs.StringVar(&o.proto, "proto", "auto", "`protocol`: auto (h3 or hq, as the server picks), h3 or hq")
	fs.BoolVar(&o.insecure, "insecure", false, "accept any server certificate")
	fs.StringVar(&o.ca, "ca", "", "trust the CA certificates in `file` (PEM) instead of the system's")
	fs.StringVar(&o.out, "out", ".", "`directory` to save files in")
	fs.StringVar(&o.keylog, "keylog", "", "append TLS secrets to `file` (NSS key log format)")
	fs.StringVar(&o.qlog, "qlog", os.Getenv("QLOGDIR"), "write a qlog trace of each connection into `directory`")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Second, "give up on a server whose handshake takes longer")
	fs.BoolVar(&o.verbose, "v", false, "print each file saved")
	if code, stop := parseFlags(fs, args); stop {
		return code
	}
	if fs.NArg() == 0 {
		fmt.Fprintf(stderr, "tsumugi get: no URL\n")
		fs.Usage()
		return 2
	}
	protos, ok := getProtos[o.proto]
	if !ok {
		fmt.Fprintf(stderr, "tsumugi get: -proto must be auto, h3 or hq, not %q\n", o.proto)
		return 2
	}

	tc := &tls.Config{InsecureSkipVerify: o.insecure}
	if o.ca != "" {
		pool, err := caPool(o.ca)
		if err != nil {
			fmt.Fprintf(stderr, "tsumugi get: -ca: %v\n", err)
			return 2
		}
		tc.RootCAs = pool
	}
	kl, err := keyLogWriter(o.keylog)
	if err != nil {
		fmt.Fprintf(stderr, "tsumugi get: %v\n", err)
		return 1
	}
	if kl != nil {
		defer kl.Close()
		tc.KeyLogWriter = kl
	}

	failed := 0
	fail := func(url, msg string) {
		fmt.Fprintf(stderr, "tsumugi get: %s: %s\n", url, msg)
		failed++
	}
	var items []*fetch
	names := make(map[string]string) // output name → URL
	for _, raw := range fs.Args() {
		u, err := parseURL(raw)
		if err != nil {
			fail(raw, "bad URL: "+err.Error())
			continue
		}
		name := outputName(u)
		if first, dup := names[name]; dup {
			fail(raw, fmt.Sprintf("not fetched: it would be saved as %s, like %s", name, first))
			continue
		}
		names[name] = raw
		fsink, err := newFileSink(o.out, name)
		if err != nil {
			fail(raw, "saving: "+err.Error())
			continue
		}
		items = append(items, &fetch{url: u, sink: fsink})
	}

	f := &fetcher{
		tls:    tc,
		conf:   withCollector(&quic.Config{HandshakeTimeout: o.timeout, QlogDir: o.qlog}, metrics.New()),
		protos: protos,
	}
	bar := newProgress(stderr, len(items))
	if bar != nil {
		f.progress = bar.add
	}
	f.run(ctx, items)
	if bar != nil {
		bar.finish()
	}
	for _, it := range items {
		if it.err != nil {
			fail(it.url.String(), why(it.err, o.timeout))
		} else if o.verbose {
			fmt.Fprintf(stdout, "%s: %d bytes (%s)\n", it.sink.(*fileSink).final, it.n, it.proto)
		}
	}
	if failed > 0 {
		return 1
	}
	return 0
}

// fileSink writes a body to a temporary file in the output directory and
// renames it to its final name once it arrived whole.
type fileSink struct {
	f     *os.File
	final string
}

func newFileSink(dir, name string) (*fileSink, error) {
	f, err := os.CreateTemp(dir, "."+name+".*.part")
	if err != nil {
		return nil, err
	}
	return &fileSink{f: f, final: filepath.Join(dir, name)}, nil
}

func (s *fileSink) Write(b []byte) (int, error) { return s.f.Write(b) }

func (s *fileSink) commit() error {
	if err := s.f.Chmod(0o644); err != nil {
		return err
	}
	if err := s.f.Close(); err != nil {
		return err
	}
	return os.Rename(s.f.Name(), s.final)
}

func (s *fileSink) abort() {
	s.f.Close()
	os.Remove(s.f.Name())
}
