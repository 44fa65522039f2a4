package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"time"

	"github.com/tsumugi-quic/tsumugi/internal/certs"
	"github.com/tsumugi-quic/tsumugi/metrics"
	"github.com/tsumugi-quic/tsumugi/quic"
)

const serveSynopsis = "[-listen ADDR] [-root DIR] [-cert FILE -key FILE] [-metrics ADDR] [-qlog DIR] [-keylog FILE] [-retry] [-max-streams N]"

const serveDescription = `
Serve runs an HTTP/0.9 server over QUIC (ALPN "hq-interop", as the QUIC
interop runner uses it). A request is one stream: "GET /path\r\n" ("\n" is
accepted too), then FIN. The answer is the bytes of the file -root/path,
then FIN. Each request stream runs in its own goroutine, at most
-max-streams at once.

When a request cannot be answered, the server resets the stream
(RESET_STREAM) with one of these application error codes:

	0x10  bad request: not "GET /path", a ".." in the path, or longer than 8 KiB
	0x11  not found: no such file, a directory, or a file that cannot be
	      opened inside -root (a symbolic link leading out of it, say)
	0x12  internal error: the file could not be read while it was sent

Paths never leave -root: it is opened with os.Root, which refuses ".." and
symbolic links that point outside.

Without -cert and -key, a self-signed certificate for localhost, 127.0.0.1
and ::1 is made at start (clients then need "get -insecure").
SSLKEYLOGFILE in the environment works like -keylog, and QLOGDIR like -qlog
(one qlog trace per connection, <ODCID>_server.sqlog). With -retry every
new client first gets a Retry (address validation, RFC 9000 §8.1.2).

On SIGINT or SIGTERM the server stops accepting, lets the requests in
flight finish (for up to -drain), closes its connections and exits 0.`

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
	fmt.Fprintf(stdout, "serving %s on https://%s (QUIC, ALPN %s)\n", o.root, srv.ln.Addr(), alpn)
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
	tc := &tls.Config{Certificates: []tls.Certificate{s.cert}, NextProtos: []string{alpn}}
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
	conf := &quic.Config{QlogDir: o.qlog, RequireAddressValidation: o.retry, Allow0RTT: o.allow0RTT, Versions: o.versions}
	if s.ln, err = quic.Listen("udp", o.listen, tc, withCollector(conf, s.collector)); err != nil {
		return nil, err
	}
	var logger *log.Logger
	if o.verbose {
		logger = log.New(stderr, "", log.LstdFlags|log.Lmicroseconds)
	}
	s.hq = newHQServer(rootFiles{s.root}, o.maxStreams, logger)
	return s, nil
}

// run serves until ctx is done, then drains and closes everything.
func (s *serveInstance) run(ctx context.Context) {
	s.hq.serve(ctx, s.ln)
	s.hq.shutdown(s.drain)
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
