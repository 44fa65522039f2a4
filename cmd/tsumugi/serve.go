package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"sync"
	"time"

	"github.com/tsumugi-quic/tsumugi/http3"
	"github.com/tsumugi-quic/tsumugi/internal/certs"
	"github.com/tsumugi-quic/tsumugi/metrics"
	"github.com/tsumugi-quic/tsumugi/quic"
)

const serveSynopsis = "[-listen ADDR] [-root DIR] [-cert FILE -key FILE] [-metrics ADDR] [-qlog DIR] [-keylog FILE] [-retry] [-max-streams N]"

const serveDescription = `
Serve serves the files under -root over QUIC, with HTTP/3 (ALPN "h3") and
with HTTP/0.9 (ALPN "hq-interop", as the QUIC interop runner uses it), on
the same port. A client that offers both gets HTTP/3.

HTTP/3: every file under -root, with the usual net/http file serving
(Content-Type, Range, If-Modified-Since, directory listings; a request for
.../index.html is redirected to its directory). "/" is -root/index.html if
there is one, else a generated HTML page that lists the files (up to 1000).
A missing file is 404 Not Found. Browsers need the certificate trusted;
for Chromium without -cert see below.

HTTP/0.9: a request is one stream: "GET /path\r\n" ("\n" is accepted
too), then FIN. The answer is the bytes of the file -root/path, then FIN.
When a request cannot be answered, the server resets the stream
(RESET_STREAM) with one of these application error codes:

	0x10  bad request: not "GET /path", a ".." in the path, or longer than 8 KiB
	0x11  not found: no such file, a directory, or a file that cannot be
	      opened inside -root (a symbolic link leading out of it, say)
	0x12  internal error: the file could not be read while it was sent

Each request runs in its own goroutine, at most -max-streams at once over
all connections and both protocols. Paths never leave -root: it is opened
with os.Root, which refuses ".." and symbolic links that point outside.

Without -cert and -key, a self-signed certificate for localhost, 127.0.0.1
and ::1 is made at start (clients then need "get -insecure"; Chromium
needs --origin-to-force-quic-on=HOST:PORT and
--ignore-certificate-errors-spki-list= with the SPKI hash printed at
start). SSLKEYLOGFILE in the environment works like -keylog, and QLOGDIR
like -qlog (one qlog trace per connection, <ODCID>_server.sqlog). With
-retry every new client first gets a Retry (address validation,
RFC 9000 §8.1.2). -metrics adds HTTP/3 request counts and durations by
status class to the QUIC metrics.

On SIGINT or SIGTERM the server stops accepting, sends HTTP/3 clients a
GOAWAY, lets the requests in flight finish (for up to -drain), closes its
connections and exits 0.`

// serveOptions configure a server.
type serveOptions struct {
	listen     string
	root       string
	certFile   string
	keyFile    string
	metrics    string
	keylog     string
	qlog       string
	retry      bool
	maxStreams int64
	// Set by `tsumugi interop`, not by flags.
	allow0RTT bool
	versions  []uint32
	preferred string // a preferred address to offer (RFC 9000 §9.6)
	drain     time.Duration
	verbose   bool
}

func (o *serveOptions) register(fs *flag.FlagSet) {
	fs.StringVar(&o.listen, "listen", "127.0.0.1:4433", "UDP `address` to listen on")
	fs.StringVar(&o.root, "root", ".", "`directory` to serve")
	fs.StringVar(&o.certFile, "cert", "", "TLS certificate chain `file` (PEM); with -key")
	fs.StringVar(&o.keyFile, "key", "", "TLS private key `file` (PEM); with -cert")
	fs.StringVar(&o.metrics, "metrics", "", "serve Prometheus metrics at http://`address`/metrics")
	fs.StringVar(&o.keylog, "keylog", "", "append TLS secrets to `file` (NSS key log format)")
	fs.StringVar(&o.qlog, "qlog", os.Getenv("QLOGDIR"), "write a qlog trace of each connection into `directory`")
	fs.BoolVar(&o.retry, "retry", false, "validate every client's address with a Retry first")
	fs.Int64Var(&o.maxStreams, "max-streams", 1000, "request streams served at once, over all connections")
	fs.DurationVar(&o.drain, "drain", 10*time.Second, "on SIGINT/SIGTERM, how long requests in flight may take to finish")
	fs.BoolVar(&o.verbose, "v", false, "log every request")
}

// runServe is `tsumugi serve`. It serves until ctx is done.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o serveOptions
	fs := newFlagSet("serve", serveSynopsis, serveDescription, stderr)
	o.register(fs)
	if code, stop := parseFlags(fs, args); stop {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "tsumugi serve: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	srv, err := startServe(o, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "tsumugi serve: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "serving %s on https://%s (QUIC, ALPN %s and %s)\n", o.root, srv.ln.Addr(), http3.NextProtoH3, alpn)
	if srv.selfSigned {
		fmt.Fprintf(stdout, "self-signed certificate (SPKI sha256 %s): fetch with  tsumugi get -insecure https://%s/FILE\n",
			certs.SPKIHash(srv.cert.Leaf), srv.ln.Addr())
	}
	if srv.metrics != nil {
		fmt.Fprintf(stdout, "metrics on http://%s/metrics\n", srv.metrics.addr)
	}
	srv.run(ctx)
	fmt.Fprintf(stdout, "stopped\n")
	return 0
}

// serveInstance is a running `tsumugi serve`.
type serveInstance struct {
	ln         *quic.Listener
	hq         *hqServer
	h3         *http3.Server
	root       *os.Root
	cert       tls.Certificate
	selfSigned bool
	keylog     io.Closer
	collector  *metrics.Collector
	metrics    *metricsServer
	drain      time.Duration
}

// startServe opens the root, the certificate, the listener and the metrics
// endpoint. Call run to serve.
func startServe(o serveOptions, stderr io.Writer) (_ *serveInstance, err error) {
	s := &serveInstance{drain: o.drain, collector: metrics.New()}
	defer func() {
		if err != nil {
			s.closeAll()
		}
	}()
	if s.root, err = os.OpenRoot(o.root); err != nil {
		return nil, err
	}
	if s.cert, s.selfSigned, err = serverCertificate(o.certFile, o.keyFile); err != nil {
		return nil, err
	}
	// crypto/tls picks the first of ours that the client offers: h3 when
	// it offers both (RFC 7301 §3.2 leaves the choice to the server).
	tc := &tls.Config{Certificates: []tls.Certificate{s.cert}, NextProtos: []string{http3.NextProtoH3, alpn}}
	kl, err := keyLogWriter(o.keylog)
	if err != nil {
		return nil, err
	}
	if kl != nil {
		s.keylog = kl
		tc.KeyLogWriter = kl
	}
	if o.metrics != "" {
		if s.metrics, err = startMetricsServer(o.metrics, s.collector); err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
	}
	conf := &quic.Config{QlogDir: o.qlog, RequireAddressValidation: o.retry, Allow0RTT: o.allow0RTT,
		Versions: o.versions, PreferredAddress: o.preferred}
	if s.ln, err = quic.Listen("udp", o.listen, tc, withCollector(conf, s.collector)); err != nil {
		return nil, err
	}
	var logger *log.Logger
	errLog := log.New(io.Discard, "", 0)
	if o.verbose {
		logger = log.New(stderr, "", log.LstdFlags|log.Lmicroseconds)
		errLog = logger
	}
	s.hq = newHQServer(rootFiles{s.root}, o.maxStreams, logger)
	s.h3 = &http3.Server{
		Handler:  newSiteHandler(s.root, s.hq.sem, logger),
		ErrorLog: errLog,
		Metrics:  s.collector,
	}
	return s, nil
}

// run serves until ctx is done, then drains and closes everything: each
// connection goes to the server of the protocol it negotiated.
func (s *serveInstance) run(ctx context.Context) {
	var h3Conns sync.WaitGroup
	for {
		c, err := s.ln.Accept(ctx)
		if err != nil {
			break
		}
		if c.ConnectionState().ALPN == http3.NextProtoH3 {
			h3Conns.Go(func() { s.h3.ServeConn(c) })
		} else {
			s.hq.serveConn(ctx, c)
		}
	}
	// Both drain at once, each for up to s.drain: HTTP/3 sends GOAWAY
	// (RFC 9114 §5.2) and waits for its requests; HTTP/0.9 waits for its
	// streams.
	var wg sync.WaitGroup
	wg.Go(func() { s.hq.shutdown(s.drain) })
	wg.Go(func() {
		dctx, cancel := context.WithTimeout(context.Background(), s.drain)
		defer cancel()
		if err := s.h3.Shutdown(dctx); err != nil {
			s.h3.ErrorLog.Printf("shutdown: HTTP/3 requests still running after %v; their connections were closed", s.drain)
		}
	})
	wg.Wait()
	h3Conns.Wait()
	s.closeAll()
}

func (s *serveInstance) closeAll() {
	if s.ln != nil {
		s.ln.Close()
	}
	if s.metrics != nil {
		s.metrics.close()
	}
	if s.keylog != nil {
		s.keylog.Close()
	}
	if s.root != nil {
		s.root.Close()
	}
}
