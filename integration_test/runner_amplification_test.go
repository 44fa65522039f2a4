package integration_test

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
)

// TestRunnerAmplificationLimit: the runner's amplificationlimit case. The
// server's certificate chain has 9 certificates (over 7,500 bytes), far
// more than 3 times the client's first Initial; the proxy lets the
// ClientHello through and drops the client's next 6 datagrams (the
// runner's "droplist --drops_to_server=2,3,4,5,6,7"), so that the server
// has nothing but the ClientHello to count on. Go's ClientHello now takes
// two datagrams (its post-quantum key share), so "the ClientHello" is
// every datagram the client sent before the server answered. Until the client's
// address is validated (RFC 9000 §8.1: a Handshake packet from it, or an
// Initial to a connection ID of 8 bytes or more the server chose), the
// server must send at most 3 times what it received (RFC 9000 §8.1). The
// decrypted trace must also show the whole chain sent (Handshake CRYPTO
// data up to 7,500 bytes at least).
func TestRunnerAmplificationLimit(t *testing.T) {
	confs, err := nineCerts()
	if err != nil {
		t.Fatal(err)
	}
	forRunnerPairs(t, runnerPairs, func(t *testing.T, ctx context.Context, p runnerPair) {
		stc, ctc := confs[0].Clone(), confs[1].Clone()
		kl := &keyLog{}
		ctc.KeyLogWriter = kl
		var answered atomic.Bool // the server has sent something
		drops := 0               // client datagrams dropped; client→server calls never overlap
		hook := func(d *datagramInfo) verdict {
			if d.Dir == toClient {
				answered.Store(true)
				return verdict{}
			}
			if answered.Load() && drops < 6 {
				drops++
				return verdict{Drop: true}
			}
			return verdict{}
		}
		// The client's ACKs come in fewer datagrams when the machine is
		// slow, and then its anti-deadlock probes (RFC 9002 §6.2.2.1),
		// backing off from 1 s, are what the proxy drops: give the
		// handshake time.
		cell := newRunnerCell(t, ctx, p, cellSetup{
			opts:      runnerOpts{patientHandshake: true},
			proxy:     proxyConfig{ToServer: runnerLink, ToClient: runnerLink, Hook: hook},
			keepData:  true,
			serverTLS: stc, clientTLS: ctc,
		})
		conn := cell.mustDial()
		cell.check(fetchFiles(ctx, conn, []uint64{5 << 10}, 600, 0))
		cell.expectHandshakes(1)
		cell.expectVersion(versionV1)
		tr := cell.rec.trace()
		dec := decodeTrace(tr, kl)
		if len(dec.conns) != 1 {
			t.Fatalf("%d connections decoded: %q", len(dec.conns), dec.failures)
		}
		if n := dec.conns[0].crypto[toClient][spaceHandshake].max; n < 7500 {
			t.Errorf("the server sent %d bytes of Handshake CRYPTO data, want at least 7,500: not the whole chain?", n)
		}
		// The runner fails a server at 4 times and lets 3 to 4 times
		// slide; quic-go v0.65.0 checks its limit before a packet rather
		// than for it, and may overshoot by one datagram. Tsumugi is held
		// to RFC 9000's 3 times.
		factor := 3
		if p.server.name == "quic-go" {
			factor = 4
		}
		checkAmplification(t, tr, factor)
	})
}

// checkAmplification follows the runner's reading of the trace: every
// datagram the server sent counts against factor times the bytes of the
// client Initials it received, until the client's first Handshake packet
// or its first Initial to a server-chosen connection ID of at least 8
// bytes.
func checkAmplification(t *testing.T, tr trace, factor int) {
	t.Helper()
	var serverIDs [][]byte
	received, sent, validated := 0, 0, false
	for _, e := range tr {
		if e.dir == toClient {
			for _, p := range e.packets {
				if p.kind == kindInitial && len(p.scid) >= 8 && !slices.ContainsFunc(serverIDs, func(id []byte) bool { return string(id) == string(p.scid) }) {
					serverIDs = append(serverIDs, p.scid)
				}
			}
			sent += e.size
			if sent > factor*received {
				t.Errorf("the server sent %d bytes to an unvalidated address that sent it %d (limit: %d times)", sent, received, factor)
				return
			}
			continue
		}
		if e.dropped { // never reached the server
			continue
		}
		if e.has(kindHandshake) {
			validated = true
			break
		}
		if len(e.packets) > 0 && e.packets[0].kind == kindInitial &&
			slices.ContainsFunc(serverIDs, func(id []byte) bool { return string(id) == string(e.packets[0].dcid) }) {
			validated = true
			break
		}
		if e.has(kindInitial) {
			received += e.size
		}
	}
	t.Logf("before the client's address was validated: %d bytes received, %d sent (%.2f times)", received, sent, float64(sent)/float64(max(received, 1)))
	if !validated {
		t.Error("the trace never shows the client's address validated")
	}
	if sent <= received {
		t.Errorf("the server sent only %d bytes for %d: the limit was never tested", sent, received)
	}
}
