package integration_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"
)

// The runner's handshake, transfer, longrtt, multiplexing, v2 and ipv6
// cases. File sizes are the runner's where a check depends on them, and
// smaller where none does (transfer: 0.5 + 1 + 2 MiB for its 2 + 3 + 5 MB),
// so that the matrix stays quick under -race on 2 cores.

// withKeyLog returns a copy of the client TLS configuration of testTLS
// that logs its secrets to a new keyLog, and the server's.
func withKeyLog(t *testing.T) (server, client *tls.Config, kl *keyLog) {
	stc, ctc := testTLS(t)
	kl = &keyLog{}
	ctc.KeyLogWriter = kl
	return stc, ctc, kl
}

// TestRunnerHandshake: one 1 KiB file; exactly one handshake, version 1,
// no Retry.
func TestRunnerHandshake(t *testing.T) {
	forRunnerPairs(t, runnerPairs, func(t *testing.T, ctx context.Context, p runnerPair) {
		cell := newRunnerCell(t, ctx, p, cellSetup{})
		conn := cell.mustDial()
		cell.check(fetchFiles(ctx, conn, []uint64{1 << 10}, 1, 0))
		cell.expectHandshakes(1)
		cell.expectVersion(versionV1)
		if n := cell.rec.trace().count(toClient, kindRetry); n != 0 {
			t.Errorf("%d Retry packets, want none", n)
		}
		if v := conn.info().version; v != versionV1 {
			t.Errorf("client's version %#x", v)
		}
	})
}

// TestRunnerTransfer: several files of megabytes over one connection, in
// parallel; one handshake.
func TestRunnerTransfer(t *testing.T) {
	forRunnerPairs(t, runnerPairs, func(t *testing.T, ctx context.Context, p runnerPair) {
		cell := newRunnerCell(t, ctx, p, cellSetup{})
		conn := cell.mustDial()
		cell.check(fetchFiles(ctx, conn, []uint64{512 << 10, 1 << 20, 2 << 20}, 10, 0))
		cell.expectHandshakes(1)
		cell.expectVersion(versionV1)
	})
}

// TestRunnerLongRTT: 750 ms each way, as the runner's simulator sets it, so
// that the client's first PTO (RFC 9002 §6.2.2: 3 × the initial RTT of
// 333 ms, or less) fires before the server's answer arrives. The runner
// wants at least two ClientHellos: the decoded trace must show the
// client's CRYPTO data at offset 0 of the Initial space sent twice.
func TestRunnerLongRTT(t *testing.T) {
	forRunnerPairs(t, runnerPairs, func(t *testing.T, ctx context.Context, p runnerPair) {
		cell := newRunnerCell(t, ctx, p, cellSetup{
			proxy:    both(impairment{Delay: 750 * time.Millisecond}),
			keepData: true,
		})
		conn := cell.mustDial()
		cell.check(fetchFiles(ctx, conn, []uint64{1 << 10}, 20, 0))
		cell.expectHandshakes(1)
		cell.expectVersion(versionV1)
		dec := decodeTrace(cell.rec.trace(), nil)
		hellos := 0
		for _, pk := range dec.packets {
			if pk.dir != toServer || pk.kind != kindInitial {
				continue
			}
			for _, f := range pk.frames {
				if f.typ == frameCrypto && f.offset == 0 {
					hellos++
				}
			}
		}
		if hellos < 2 {
			logProxy(t, cell.px)
			t.Errorf("the client sent its ClientHello %d times, want at least 2", hellos)
		}
		for _, f := range dec.failures {
			if strings.Contains(f, "Initial") {
				t.Errorf("undecodable: %s", f)
			}
		}
	})
}

// TestRunnerMultiplexing: 1,999 files of 32 bytes over one connection,
// all requested at once, from a server that allows 1,000 streams. The
// runner checks the server's initial_max_streams_bidi in the decrypted
// handshake; so do we (from the key log), and the server side also checks
// that no stream arrived beyond the credit it had given. The server holds
// its answers until 1,000 streams are open, so that a server allowing more
// would show more.
func TestRunnerMultiplexing(t *testing.T) {
	const files, limit = 1999, 1000
	forRunnerPairs(t, runnerPairs, func(t *testing.T, ctx context.Context, p runnerPair) {
		stc, ctc, kl := withKeyLog(t)
		cell := newRunnerCell(t, ctx, p, cellSetup{
			opts:      runnerOpts{maxStreams: limit},
			keepData:  true,
			serverTLS: stc, clientTLS: ctc,
			holdReplies: limit,
		})
		conn := cell.mustDial()
		cell.check(fetchFiles(ctx, conn, sizesOf(files, 32), 1000, 0))
		cell.expectHandshakes(1)
		cell.expectVersion(versionV1)
		cell.srv.mu.Lock()
		violations, maxIndex := cell.srv.violations, cell.srv.maxIndex
		cell.srv.mu.Unlock()
		if len(violations) > 0 {
			t.Errorf("the server let streams in beyond its limit: %q", violations)
		}
		if maxIndex != files-1 {
			t.Errorf("highest stream index %d, want %d", maxIndex, files-1)
		}
		dec := decodeTrace(cell.rec.trace(), kl)
		params := dec.serverParams(t)
		if got, ok := params[0x08]; !ok || got > limit { // initial_max_streams_bidi
			t.Errorf("server's initial_max_streams_bidi %d (present %v), want at most %d", got, ok, limit)
		}
	})
}

// serverParams returns the transport parameters in the first connection's
// EncryptedExtensions, failing the test if they cannot be read.
func (d *decoding) serverParams(t *testing.T) map[uint64]uint64 {
	t.Helper()
	if len(d.conns) == 0 {
		t.Fatalf("no connection decoded: %q", d.failures)
	}
	ee := tlsMessages(d.conns[0].crypto[toClient][spaceHandshake].contiguous())[tlsEncryptedExtensions]
	if len(ee) == 0 {
		t.Fatalf("no EncryptedExtensions decoded: %q", d.failures)
	}
	params, err := transportParameters(ee[0])
	if err != nil {
		t.Fatal(err)
	}
	return params
}

// TestRunnerV2: the client offers v1 in its first Initial and v2 as well;
// the server picks v2 by compatible version negotiation (RFC 9368, RFC
// 9369 §4): its Initials and every Handshake packet either way are v2.
func TestRunnerV2(t *testing.T) {
	forRunnerPairs(t, runnerPairs, func(t *testing.T, ctx context.Context, p runnerPair) {
		if p.server.name == "quic-go" || p.client.name == "quic-go" {
			// Tried: a quic-go server offered v1 and v2 stays in v1, and a
			// quic-go client sends no version_information (RFC 9368 §3),
			// so a Tsumugi server rightly stays in v1 too.
			t.Skip("unsupported: quic-go v0.65.0 has no compatible version negotiation (see TestRunnerV2Direct)")
		}
		cell := newRunnerCell(t, ctx, p, cellSetup{opts: runnerOpts{v2: true}})
		conn := cell.mustDial()
		cell.check(fetchFiles(ctx, conn, []uint64{1 << 10}, 30, 0))
		tr := cell.rec.trace()
		var first *packetHeader
		tr.packets(toServer, kindInitial, func(_ *traceEntry, ph *packetHeader) {
			if first == nil {
				first = ph
			}
		})
		if first == nil || first.version != versionV1 {
			t.Errorf("the client's first Initial is not v1: %+v", first)
		}
		if vs := tr.versions(toClient, kindInitial); !bytes.Contains(versionBytes(vs), versionBytes([]uint32{versionV2})) {
			t.Errorf("server Initial versions %#x: no v2", vs)
		}
		for _, d := range []direction{toServer, toClient} {
			if vs := tr.versions(d, kindHandshake); len(vs) != 1 || vs[0] != versionV2 {
				t.Errorf("%v: Handshake versions %#x, want only v2", d, vs)
			}
		}
		cell.expectHandshakes(1)
		if v := conn.info().version; v != versionV2 {
			t.Errorf("client's version %#x, want v2", v)
		}
		for _, sc := range cell.serverConns() {
			if v := sc.info().version; v != versionV2 {
				t.Errorf("server's version %#x, want v2", v)
			}
		}
	})
}

// TestRunnerV2Direct: QUIC v2 without version negotiation, which quic-go
// speaks: the client starts in v2 (offering v1 too) and every long-header
// packet either way is v2. It checks our v2 wire format (RFC 9369: salt,
// labels, long-header types) against an independent implementation.
func TestRunnerV2Direct(t *testing.T) {
	forRunnerPairs(t, runnerPairs, func(t *testing.T, ctx context.Context, p runnerPair) {
		stc, ctc, kl := withKeyLog(t)
		cell := newRunnerCell(t, ctx, p, cellSetup{opts: runnerOpts{v2: true, v2First: true}, keepData: true, serverTLS: stc, clientTLS: ctc})
		conn := cell.mustDial()
		cell.check(fetchFiles(ctx, conn, []uint64{64 << 10}, 31, 0))
		tr := cell.rec.trace()
		for _, d := range []direction{toServer, toClient} {
			for _, k := range []packetKind{kindInitial, kindHandshake} {
				if vs := tr.versions(d, k); len(vs) != 1 || vs[0] != versionV2 {
					t.Errorf("%v: %v versions %#x, want only v2", d, k, vs)
				}
			}
		}
		cell.expectHandshakes(1)
		if v := conn.info().version; v != versionV2 {
			t.Errorf("client's version %#x, want v2", v)
		}
		dec := decodeTrace(tr, kl)
		if len(dec.failures) > 0 || len(dec.packets) == 0 {
			t.Errorf("%d packets decoded, %d not: %.5q", len(dec.packets), len(dec.failures), dec.failures)
		}
	})
}

func versionBytes(vs []uint32) []byte {
	var b []byte
	for _, v := range vs {
		b = append(b, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
	}
	return b
}

// TestRunnerIPv6: the transfer case over [::1]; every datagram the proxy
// handled crossed IPv6 sockets.
func TestRunnerIPv6(t *testing.T) {
	if c, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback}); err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	} else {
		c.Close()
	}
	forRunnerPairs(t, runnerPairs, func(t *testing.T, ctx context.Context, p runnerPair) {
		cell := newRunnerCell(t, ctx, p, cellSetup{opts: runnerOpts{network: "udp6"}})
		if host, _, _ := net.SplitHostPort(cell.px.addr()); host != "::1" {
			t.Fatalf("proxy on %s", cell.px.addr())
		}
		conn := cell.mustDial()
		cell.check(fetchFiles(ctx, conn, []uint64{5 << 10, 10 << 10}, 40, 0))
		cell.expectHandshakes(1)
		cell.expectVersion(versionV1)
		for _, e := range cell.rec.trace() {
			if !e.back.Addr().Is6() || e.back.Addr().Is4In6() {
				t.Fatalf("a datagram crossed %v", e.back)
			}
		}
	})
}
