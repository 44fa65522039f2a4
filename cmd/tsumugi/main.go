// Command tsumugi shows, serves, fetches and measures with Tsumugi, a QUIC
// transport for Go.
//
// Usage:
//
//	tsumugi demo
//	tsumugi serve [-listen ADDR] [-root DIR] [-cert FILE -key FILE] [-metrics ADDR] [-qlog DIR] [-keylog FILE] [-retry] [-max-streams N]
//	tsumugi get [-proto auto|h3|hq] [-insecure] [-ca FILE] [-out DIR] [-qlog DIR] [-keylog FILE] URL...
//	tsumugi perf -mode bulk|streams|handshakes|memory [options]
//	tsumugi interop [-www DIR] [-downloads DIR] [-certs DIR] [-listen ADDR]
//
// "tsumugi <command> -h" describes each command.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
	hidden  bool
}

var commands = []command{
	{"demo", "fetch generated files from a server in this process, over loopback", runDemo, false},
	{"serve", "serve a directory with HTTP/3 and HTTP/0.9 (hq-interop) over QUIC", runServe, false},
	{"get", "fetch https:// URLs with HTTP/3 or HTTP/0.9 (hq-interop) over QUIC", runGet, false},
	{"perf", "measure throughput, streams, handshakes or memory on loopback", runPerf, false},
	{perfServerCommand, "the server side of perf -proc", runPerfServer, true},
	{"interop", "run as a QUIC interop runner endpoint (ROLE, TESTCASE, REQUESTS)", runInterop, false},
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "Tsumugi is a QUIC transport for Go; this command shows, serves, fetches and measures with it.\n\n")
	fmt.Fprintf(w, "Usage:\n\n\ttsumugi <command> [arguments]\n\nThe commands are:\n\n")
	for _, c := range commands {
		if !c.hidden {
			fmt.Fprintf(w, "\t%-8s %s\n", c.name, c.summary)
		}
	}
	fmt.Fprintf(w, "\nUse \"tsumugi <command> -h\" for more about a command.\n")
}

// run is main without the exit, for tests.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return 0
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "tsumugi: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func main() {
	// SIGINT and SIGTERM cancel ctx: serve drains, get and perf stop.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
