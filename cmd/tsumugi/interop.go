package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"github.com/tsumugi-quic/tsumugi/http3"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tsumugi-quic/tsumugi/metrics"
	"github.com/tsumugi-quic/tsumugi/quic"
	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

const interopSynopsis = "[-www DIR] [-downloads DIR] [-certs DIR] [-listen ADDR]"

const interopDescription = `
Interop runs an endpoint the way the QUIC interop runner
(github.com/quic-interop/quic-interop-runner) drives one, from the
environment:

	ROLE       client or server
	TESTCASE   the test case (below)
	REQUESTS   client: the URLs to fetch, separated by spaces
	SSLKEYLOGFILE, QLOGDIR   key log file and qlog directory

The server serves -www (default /www) with the certificate and key in
-certs (cert.pem, priv.key; default /certs) on -listen (default :443).
The client saves files into -downloads (default /downloads).

Test cases: handshake, transfer, longrtt, multiplexing, blackhole,
handshakeloss, transferloss, handshakecorruption, transfercorruption,
amplificationlimit, ecn, ipv6, rebind-port, rebind-addr, retry,
resumption, zerortt, keyupdate, v2, multiconnect (one connection per file),
http3 (the client speaks HTTP/3), connectionmigration (the server offers
a preferred address on -preferred-port of its address, and the client moves
there). Any other test case exits with status 127, as the runner expects
for unsupported ones.`

// interopCases lists the test cases this endpoint supports, with what each
// changes.
var interopCases = map[string]bool{
	"handshake": true, "transfer": true, "longrtt": true, "multiplexing": true,
	"blackhole": true, "handshakeloss": true, "transferloss": true,
	"handshakecorruption": true, "transfercorruption": true,
	"amplificationlimit": true, "ecn": true, "ipv6": true,
	"rebind-port": true, "rebind-addr": true, "retry": true,
	"resumption": true, "zerortt": true, "keyupdate": true, "v2": true,
	"connectionmigration": true, "multiconnect": true, "http3": true,
}

// preferredAddress returns the address to offer as preferred for a server
// listening on listen: the same IP (or, for an unspecified one, the
// host's first global IPv4 address) on port.
func preferredAddress(listen string, port int) (string, error) {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return "", err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || ip.IsUnspecified() {
		ip = netip.MustParseAddr("127.0.0.1")
		addrs, _ := net.InterfaceAddrs()
		for _, a := range addrs {
			if pn, ok := a.(*net.IPNet); ok {
				if x, ok := netip.AddrFromSlice(pn.IP); ok && x.Unmap().Is4() && x.IsGlobalUnicast() {
					ip = x.Unmap()
					break
				}
			}
		}
	}
	return netip.AddrPortFrom(ip, uint16(port)).String(), nil
}

// runInterop is `tsumugi interop`.
func runInterop(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("interop", interopSynopsis, interopDescription, stderr)
	www := fs.String("www", "/www", "`directory` the server serves")
	downloads := fs.String("downloads", "/downloads", "`directory` the client saves into")
	certDir := fs.String("certs", "/certs", "`directory` with cert.pem and priv.key")
	listen := fs.String("listen", ":443", "UDP `address` the server listens on")
	prefPort := fs.Int("preferred-port", 4444, "connectionmigration: the `port` of the server's preferred address")
	if code, stop := parseFlags(fs, args); stop {
		return code
	}
	testcase := os.Getenv("TESTCASE")
	if !interopCases[testcase] {
		fmt.Fprintf(stderr, "tsumugi interop: unsupported test case %q\n", testcase)
		return 127
	}
	switch role := os.Getenv("ROLE"); role {
	case "server":
		o := serveOptions{
			listen: *listen, root: *www, maxStreams: 1000, drain: time.Second,
			certFile: filepath.Join(*certDir, "cert.pem"), keyFile: filepath.Join(*certDir, "priv.key"),
			qlog: os.Getenv("QLOGDIR"),
		}
		switch testcase {
		case "retry":
			o.retry = true
		case "zerortt":
			o.allow0RTT = true
		case "v2":
			o.versions = []uint32{wire.Version2, wire.Version1}
		case "connectionmigration":
			var err error
			if o.preferred, err = preferredAddress(*listen, *prefPort); err != nil {
				fmt.Fprintf(stderr, "tsumugi interop: %v\n", err)
				return 2
			}
		}
		srv, err := startServe(o, stderr)
		if err != nil {
			fmt.Fprintf(stderr, "tsumugi interop: %v\n", err)
			return 1
		}
		srv.run(ctx)
		return 0
	case "client":
		return interopClient(ctx, testcase, strings.Fields(os.Getenv("REQUESTS")), *downloads, stderr)
	default:
		fmt.Fprintf(stderr, "tsumugi interop: ROLE must be client or server, not %q\n", role)
		return 2
	}
}

// interopClient fetches the requests as the test case asks: over one
// connection, or (resumption, zerortt) the first alone and the rest over a
// second connection that resumes the first one's session.
func interopClient(ctx context.Context, testcase string, requests []string, dir string, stderr io.Writer) int {
	kl, err := keyLogWriter("")
	if err != nil {
		fmt.Fprintf(stderr, "tsumugi interop: %v\n", err)
		return 1
	}
	if kl != nil {
		defer kl.Close()
	}
	// The runner's certificates come from its own CA.
	tc := &tls.Config{InsecureSkipVerify: true, KeyLogWriter: kl, ClientSessionCache: tls.NewLRUClientSessionCache(4)}
	conf := &quic.Config{HandshakeTimeout: 30 * time.Second, QlogDir: os.Getenv("QLOGDIR"), MaxIdleTimeout: time.Minute}
	switch testcase {
	case "keyupdate":
		conf.KeyUpdateInterval = 16 // update keys early and often in the transfer
	case "v2":
		conf.Versions = []uint32{wire.Version1, wire.Version2}
	}
	rounds := [][]string{requests}
	switch {
	case (testcase == "resumption" || testcase == "zerortt") && len(requests) > 1:
		rounds = [][]string{requests[:1], requests[1:]}
	case testcase == "multiconnect":
		// One connection per file (the runner's handshakeloss case).
		rounds = rounds[:0]
		for _, r := range requests {
			rounds = append(rounds, []string{r})
		}
	}
	protos := []string{alpn}
	if testcase == "http3" {
		protos = []string{http3.NextProtoH3}
	}
	failed := false
	for i, round := range rounds {
		var items []*fetch
		for _, raw := range round {
			u, err := parseURL(raw)
			if err != nil {
				fmt.Fprintf(stderr, "%s: %v\n", raw, err)
				failed = true
				continue
			}
			fsink, err := newFileSink(dir, outputName(u))
			if err != nil {
				fmt.Fprintf(stderr, "%s: saving: %v\n", raw, err)
				failed = true
				continue
			}
			items = append(items, &fetch{url: u, sink: fsink})
		}
		f := &fetcher{tls: tc, conf: withCollector(conf, metrics.New()), early: testcase == "zerortt" && i > 0, protos: protos}
		f.run(ctx, items)
		for _, it := range items {
			if it.err != nil {
				fmt.Fprintf(stderr, "%s: %v\n", it.url, why(it.err, conf.HandshakeTimeout))
				failed = true
			}
		}
	}
	if failed {
		return 1
	}
	return 0
}
