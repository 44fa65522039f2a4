package integration_test

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"golang.org/x/net/nettest"

	"github.com/tsumugi-quic/tsumugi/quic"
)

// TestStreamNetConn runs x/net's net.Conn conformance suite on real Tsumugi
// streams over loopback: c1 is a stream a client connection opened, c2 the
// same stream as the server connection accepted it. Every pipe has its own
// listener and connections; stop closes the streams, both connections and
// the listener.
func TestStreamNetConn(t *testing.T) {
	nettest.TestConn(t, func() (c1, c2 net.Conn, stop func(), err error) {
		return streamPipe(t)
	})
}

func streamPipe(t *testing.T) (c1, c2 net.Conn, stop func(), err error) {
	stc, ctc := testTLS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ln, err := quic.Listen("udp", "127.0.0.1:0", stc, nil)
	if err != nil {
		return nil, nil, nil, err
	}
	closers := []io.Closer{ln}
	fail := func(err error) (net.Conn, net.Conn, func(), error) {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i].Close()
		}
		return nil, nil, nil, err
	}
	client, err := quic.Dial(ctx, "udp", ln.Addr().String(), ctc, nil)
	if err != nil {
		return fail(err)
	}
	closers = append(closers, client)
	server, err := ln.Accept(ctx)
	if err != nil {
		return fail(err)
	}
	closers = append(closers, server)
	cs, err := client.OpenStream(ctx)
	if err != nil {
		return fail(err)
	}
	closers = append(closers, cs)
	// A stream reaches the peer with its first frame: send one byte, and
	// consume it on the other side, so that the pipe starts empty.
	if _, err := cs.Write([]byte{'!'}); err != nil {
		return fail(err)
	}
	ss, err := server.AcceptStream(ctx)
	if err != nil {
		return fail(err)
	}
	closers = append(closers, ss)
	var b [1]byte
	if _, err := io.ReadFull(ss, b[:]); err != nil || b[0] != '!' {
		return fail(errors.Join(errors.New("reading the first byte"), err))
	}
	stop = func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i].Close()
		}
	}
	return cs, ss, stop, nil
}
