package integration_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
)

// The test protocol, one request per bidirectional stream:
//
//	'E' data... FIN          → the server echoes data, then FIN
//	'G' size(8) seed(8) FIN  → the server sends size pseudo-random bytes
//	                           generated from seed, then FIN
//
// Every implementation's server runs serveConn; clients check bytes with
// SHA-256.

// payload writes size bytes generated from seed to w.
func payload(w io.Writer, size, seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	buf := make([]byte, 32<<10)
	for size > 0 {
		n := min(size, uint64(len(buf)))
		for i := 0; i < int(n); i += 8 {
			binary.LittleEndian.PutUint64(buf[i:min(i+8, len(buf))], rng.Uint64())
		}
		if _, err := w.Write(buf[:n]); err != nil {
			return err
		}
		size -= n
	}
	return nil
}

// payloadSum is the SHA-256 of payload(size, seed).
func payloadSum(size, seed uint64) [32]byte {
	h := sha256.New()
	payload(h, size, seed)
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

// serveConn answers requests on every stream the peer opens until the
// connection ends.
func serveConn(ctx context.Context, c peerConn) {
	for {
		s, err := c.AcceptStream(ctx)
		if err != nil {
			return
		}
		go serveStream(s)
	}
}

func serveStream(s peerStream) error {
	defer s.Close()
	var op [1]byte
	if _, err := io.ReadFull(s, op[:]); err != nil {
		return err
	}
	switch op[0] {
	case 'E':
		if _, err := io.Copy(s, s); err != nil {
			return err
		}
	case 'G':
		var hdr [16]byte
		if _, err := io.ReadFull(s, hdr[:]); err != nil {
			return err
		}
		// Read the request's FIN: a stream is finished only once both
		// sides have read everything (RFC 9000 §3.2, Data Read).
		if _, err := io.Copy(io.Discard, s); err != nil {
			return err
		}
		if err := payload(s, binary.BigEndian.Uint64(hdr[:8]), binary.BigEndian.Uint64(hdr[8:])); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown request %q", op[0])
	}
	return s.CloseWrite()
}

// get fetches size bytes generated from seed on a new stream and checks them.
func get(ctx context.Context, c peerConn, size, seed uint64) error {
	s, err := c.OpenStream(ctx)
	if err != nil {
		return fmt.Errorf("open stream: %w", err)
	}
	defer s.Close()
	var req [17]byte
	req[0] = 'G'
	binary.BigEndian.PutUint64(req[1:9], size)
	binary.BigEndian.PutUint64(req[9:], seed)
	if _, err := s.Write(req[:]); err != nil {
		return fmt.Errorf("write request: %w", err)
	}
	if err := s.CloseWrite(); err != nil {
		return fmt.Errorf("close write: %w", err)
	}
	h := sha256.New()
	n, err := io.Copy(h, s)
	if err != nil {
		return fmt.Errorf("read after %d bytes: %w", n, err)
	}
	if uint64(n) != size {
		return fmt.Errorf("got %d bytes, want %d", n, size)
	}
	if [32]byte(h.Sum(nil)) != payloadSum(size, seed) {
		return errors.New("SHA-256 mismatch")
	}
	return nil
}

// echo sends size bytes generated from seed on a new stream and checks that
// they come back whole; writing and reading run concurrently.
func echo(ctx context.Context, c peerConn, size, seed uint64) error {
	s, err := c.OpenStream(ctx)
	if err != nil {
		return fmt.Errorf("open stream: %w", err)
	}
	defer s.Close()
	werr := make(chan error, 1)
	go func() {
		if _, err := s.Write([]byte{'E'}); err != nil {
			werr <- err
			return
		}
		if err := payload(s, size, seed); err != nil {
			werr <- err
			return
		}
		werr <- s.CloseWrite()
	}()
	h := sha256.New()
	n, err := io.Copy(h, s)
	if err != nil {
		return fmt.Errorf("read after %d bytes: %w", n, err)
	}
	if err := <-werr; err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if uint64(n) != size || [32]byte(h.Sum(nil)) != payloadSum(size, seed) {
		return fmt.Errorf("echo of %d bytes came back as %d different bytes", size, n)
	}
	return nil
}
