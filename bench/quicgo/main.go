// Command quicgo runs the workloads of "tsumugi perf" with quic-go on both
// ends, so that Tsumugi's figures can be set beside quic-go's, measured the
// same way on the same machine in the same run.
//
// Usage:
//
//	quicgo perf -mode bulk|streams|handshakes|memory [-size N] [-n N] [-c N] [-streams N] [-proc]
//
// It prints the same "RESULT <mode> key=value ..." lines as tsumugi perf.
// This is its own module, so that the main module never requires quic-go.
// scripts/perf-compare.sh builds it and runs it beside tsumugi perf.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func usage(w io.Writer) {
	fmt.Fprintf(w, "quicgo runs tsumugi perf's workloads with quic-go on both ends.\n\n")
	fmt.Fprintf(w, "Usage:\n\n\tquicgo perf -mode bulk|streams|handshakes|memory [options]\n\n")
	fmt.Fprintf(w, "Use \"quicgo perf -h\" for the options.\n")
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
	case "perf":
		return runPerf(ctx, args[1:], stdout, stderr)
	case perfServerCommand:
		return runPerfServer(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "quicgo: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
