package integration_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"testing"
	"time"
)

// Close must deliver what was written and closed before it (CONTRACT:
// "graceful: data already written and closed is delivered first") — a
// known data-loss pain in other stacks — also when packets carrying that
// data are lost and must be sent again after Close was called.

var closeLoss = both(impairment{Loss: 0.05})

// TestCloseDeliversServerData: a Tsumugi server writes 2 MB, closes the
// stream and at once closes the connection; the client must read all of it.
func TestCloseDeliversServerData(t *testing.T) {
	for _, client := range []impl{ours, qgo, xnet} {
		t.Run(client.name+"-client", func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			stc, ctc := testTLS(t)
			addr, accept := ours.listen(t, stc, peerOptions{})
			cfg := closeLoss
			cfg.Seed = 11
			px := newProxy(t, addr, cfg)
			served := make(chan error, 1)
			go func() { served <- serveThenClose(ctx, accept) }()
			c, err := client.dial(ctx, px.addr(), ctc, peerOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			err = get(ctx, c, 2<<20, 12)
			if serr := <-served; serr != nil {
				t.Errorf("server: %v", serr)
			}
			logProxy(t, px)
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// serveThenClose answers one 'G' request and closes the connection right
// after the stream's FIN is written, without waiting for anything.
func serveThenClose(ctx context.Context, accept func(context.Context) (peerConn, error)) error {
	c, err := accept(ctx)
	if err != nil {
		return err
	}
	s, err := c.AcceptStream(ctx)
	if err != nil {
		c.Close()
		return err
	}
	var req [17]byte
	if _, err := io.ReadFull(s, req[:]); err != nil || req[0] != 'G' {
		c.Close()
		return fmt.Errorf("request: %q %v", req[0], err)
	}
	if err := payload(s, binary.BigEndian.Uint64(req[1:9]), binary.BigEndian.Uint64(req[9:])); err != nil {
		c.Close()
		return err
	}
	if err := s.CloseWrite(); err != nil {
		c.Close()
		return err
	}
	return c.Close()
}

// TestCloseDeliversClientData: a Tsumugi client writes 2 MB, closes the
// stream and at once closes the connection; the server must receive all of
// it.
func TestCloseDeliversClientData(t *testing.T) {
	for _, server := range []impl{ours, qgo, xnet} {
		t.Run(server.name+"-server", func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			stc, ctc := testTLS(t)
			addr, accept := server.listen(t, stc, peerOptions{})
			cfg := closeLoss
			cfg.Seed = 13
			px := newProxy(t, addr, cfg)
			type result struct {
				n   int64
				sum [32]byte
				err error
			}
			got := make(chan result, 1)
			go func() {
				var r result
				defer func() { got <- r }()
				c, err := accept(ctx)
				if err != nil {
					r.err = err
					return
				}
				defer c.Close()
				s, err := c.AcceptStream(ctx)
				if err != nil {
					r.err = err
					return
				}
				defer s.Close()
				h := sha256.New()
				r.n, r.err = io.Copy(h, s)
				h.Sum(r.sum[:0])
			}()
			c, err := ours.dial(ctx, px.addr(), ctc, peerOptions{})
			if err != nil {
				t.Fatal(err)
			}
			const size = 2 << 20
			s, err := c.OpenStream(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := payload(s, size, 14); err != nil {
				t.Fatal(err)
			}
			if err := s.CloseWrite(); err != nil {
				t.Fatal(err)
			}
			if err := c.Close(); err != nil {
				t.Errorf("close: %v", err)
			}
			r := <-got
			logProxy(t, px)
			if r.err != nil || r.n != size || r.sum != payloadSum(size, 14) {
				t.Fatalf("server got %d bytes (want %d), hash ok %v, err %v", r.n, size, r.sum == payloadSum(size, 14), r.err)
			}
		})
	}
}
