package integration_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"testing"
)

// The runner's retry, resumption, zerortt and keyupdate cases.

// TestRunnerRetry: the server answers the first Initial with a Retry (RFC
// 9000 §8.1.2); the client's next Initial carries its token and goes on
// with the packet numbers it had (RFC 9000 §17.2.5.3), as the runner
// checks; one handshake.
func TestRunnerRetry(t *testing.T) {
	forRunnerPairs(t, runnerPairs, func(t *testing.T, ctx context.Context, p runnerPair) {
		cell := newRunnerCell(t, ctx, p, cellSetup{opts: runnerOpts{retry: true}, keepData: true})
		conn := cell.mustDial()
		cell.check(fetchFiles(ctx, conn, []uint64{10 << 10}, 50, 0))
		cell.expectHandshakes(1)
		cell.expectVersion(versionV1)
		tr := cell.rec.trace()
		var tokens [][]byte
		tr.packets(toClient, kindRetry, func(_ *traceEntry, h *packetHeader) { tokens = append(tokens, h.token) })
		if len(tokens) == 0 {
			logProxy(t, cell.px)
			t.Fatal("no Retry packet crossed the proxy")
		}
		highestBefore, found := int64(-1), false
		for _, pk := range decodeTrace(tr, nil).packets {
			if pk.dir != toServer || pk.kind != kindInitial {
				continue
			}
			if len(pk.hdr.token) == 0 {
				highestBefore = max(highestBefore, int64(pk.pn))
				continue
			}
			if int64(pk.pn) <= highestBefore {
				t.Errorf("the client's Initial with the token has packet number %d, not above %d", pk.pn, highestBefore)
			}
			for _, tok := range tokens {
				found = found || bytes.Equal(pk.hdr.token, tok)
			}
			break
		}
		if !found {
			t.Error("no client Initial carried the Retry token")
		}
	})
}

// sessionCache is a client session cache that tells when a ticket was
// stored: a resumed connection needs the first one's ticket.
type sessionCache struct {
	tls.ClientSessionCache
	stored chan struct{}
}

func newSessionCache() *sessionCache {
	return &sessionCache{ClientSessionCache: tls.NewLRUClientSessionCache(8), stored: make(chan struct{}, 16)}
}

func (c *sessionCache) Put(key string, cs *tls.ClientSessionState) {
	c.ClientSessionCache.Put(key, cs)
	if cs != nil {
		select {
		case c.stored <- struct{}{}:
		default:
		}
	}
}

// resumable opens a first connection, fetches a file on it and waits for
// its session ticket, then closes it: the cell's next connection can
// resume.
func (c *runnerCell) resumable(cache *sessionCache) runnerConn {
	c.t.Helper()
	first := c.mustDial()
	c.check(fetchFiles(c.ctx, first, []uint64{5 << 10}, 60, 0))
	select {
	case <-cache.stored:
	case <-c.ctx.Done():
		c.t.Fatal("no session ticket arrived")
	}
	first.Close()
	return first
}

// TestRunnerResumption: two connections, the second resuming the first's
// TLS session: both sides report a resumed session, and the decrypted
// trace shows the server's Certificate in the first handshake and none in
// the second, as the runner checks; its Handshake packets are much smaller.
func TestRunnerResumption(t *testing.T) {
	forRunnerPairs(t, runnerPairs, func(t *testing.T, ctx context.Context, p runnerPair) {
		stc, ctc, kl := withKeyLog(t)
		cache := newSessionCache()
		ctc.ClientSessionCache = cache
		cell := newRunnerCell(t, ctx, p, cellSetup{keepData: true, serverTLS: stc, clientTLS: ctc})
		first := cell.resumable(cache)
		second := cell.mustDial()
		cell.check(fetchFiles(ctx, second, []uint64{10 << 10}, 61, 0))
		cell.expectHandshakes(2)
		cell.expectVersion(versionV1)
		if first.info().didResume || !second.info().didResume {
			t.Errorf("client: resumed %v then %v, want false then true", first.info().didResume, second.info().didResume)
		}
		if sc := cell.serverConns(); len(sc) != 2 || !sc[1].info().didResume {
			t.Errorf("server: %d connections, the second not resumed", len(sc))
		}
		dec := decodeTrace(cell.rec.trace(), kl)
		if len(dec.conns) != 2 {
			t.Fatalf("%d connections decoded: %q", len(dec.conns), dec.failures)
		}
		for i, wantCert := range []bool{true, false} {
			msgs := tlsMessages(dec.conns[i].crypto[toClient][spaceHandshake].contiguous())
			if len(msgs[tlsEncryptedExtensions]) == 0 {
				t.Fatalf("connection %d: no EncryptedExtensions decoded: %q", i, dec.failures)
			}
			if got := len(msgs[tlsCertificate]) > 0; got != wantCert {
				t.Errorf("connection %d: server Certificate %v, want %v", i, got, wantCert)
			}
		}
		tr := cell.rec.trace()
		ids := tr.serverIDs()
		b1, b2 := tr.bytesOf(toClient, kindHandshake, []byte(ids[0])), tr.bytesOf(toClient, kindHandshake, []byte(ids[1]))
		t.Logf("server Handshake packets: %d bytes, then %d resumed", b1, b2)
		if b2*2 > b1 {
			t.Errorf("the resumed handshake's Handshake packets (%d bytes) are not much smaller than the first's (%d)", b2, b1)
		}
	})
}

// TestRunnerZeroRTT: the second connection sends its 40 requests as 0-RTT
// data (the runner's 40 files of 32 bytes): the proxy sees 0-RTT packets,
// the client reports 0-RTT used (and a quic-go server too: Tsumugi's server
// does not tell, see TestRunnerZeroRTTServerState), and at most half of
// the requests went out in 1-RTT packets, as the runner allows. crypto/tls
// logs no early traffic secret for QUIC, so the 0-RTT packets themselves
// cannot be opened: the decrypted 1-RTT packets show what was not early.
func TestRunnerZeroRTT(t *testing.T) {
	const files = 40
	forRunnerPairs(t, runnerPairs, func(t *testing.T, ctx context.Context, p runnerPair) {
		cell, second, kl := zeroRTTCell(t, ctx, p, files)
		if !second.info().used0RTT {
			t.Errorf("client: 0-RTT not used (session resumed: %v)", second.info().didResume)
		}
		if sc := cell.serverConns(); p.server.name == "quic-go" && (len(sc) != 2 || !sc[1].info().used0RTT) {
			t.Errorf("server: %d connections, the second without 0-RTT", len(sc))
		}
		tr := cell.rec.trace()
		if n := tr.count(toServer, kind0RTT); n == 0 {
			logProxy(t, cell.px)
			t.Fatal("no 0-RTT packet crossed the proxy")
		}
		dec := decodeTrace(tr, kl)
		if len(dec.conns) != 2 {
			t.Fatalf("%d connections decoded: %q", len(dec.conns), dec.failures)
		}
		late, oneRTT := 0, 0 // requests (a stream's first bytes) in the second connection's 1-RTT packets
		for _, pk := range dec.packets {
			if pk.conn != dec.conns[1] || pk.dir != toServer || pk.kind != kindOneRTT {
				continue
			}
			oneRTT++
			for _, f := range pk.frames {
				if f.typ >= 0x08 && f.typ <= 0x0f && f.offset == 0 && len(f.data) > 0 {
					late++
				}
			}
		}
		t.Logf("%d 0-RTT packets; %d of %d requests in the %d 1-RTT packets", tr.count(toServer, kind0RTT), late, files, oneRTT)
		if dec.conns[1].secrets == nil { // the 1-RTT packets could not be read
			t.Fatalf("no key log secrets for the second connection: %q", dec.failures)
		}
		if late > files/2 {
			t.Errorf("%d of %d requests went out in 1-RTT packets", late, files)
		}
	})
}

// zeroRTTCell runs the zerortt case's two connections: the second fetches
// files of 32 bytes with its requests sent as 0-RTT data.
func zeroRTTCell(t *testing.T, ctx context.Context, p runnerPair, files int) (*runnerCell, runnerConn, *keyLog) {
	stc, ctc, kl := withKeyLog(t)
	cache := newSessionCache()
	ctc.ClientSessionCache = cache
	cell := newRunnerCell(t, ctx, p, cellSetup{opts: runnerOpts{allow0RTT: true}, keepData: true, serverTLS: stc, clientTLS: ctc})
	cell.resumable(cache)
	cell.setup.opts.early = true
	second := cell.mustDial()
	cell.check(fetchFiles(ctx, second, sizesOf(files, 32), 70, 0))
	select {
	case <-second.handshakeDone():
	case <-ctx.Done():
		t.Fatal("the handshake never completed")
	}
	cell.expectHandshakes(2)
	return cell, second, kl
}

// TestRunnerZeroRTTServerState: a Tsumugi server that accepted 0-RTT data
// says so in ConnectionState().Used0RTT, as its documentation promises
// ("the client sent 0-RTT data and the server accepted it") and quic-go's
// server does.
func TestRunnerZeroRTTServerState(t *testing.T) {
	forRunnerPairs(t, []runnerPair{pairOurs, pairQgoClient}, func(t *testing.T, ctx context.Context, p runnerPair) {
		cell, _, _ := zeroRTTCell(t, ctx, p, 4)
		if sc := cell.serverConns(); len(sc) != 2 || !sc[1].info().used0RTT {
			t.Errorf("server: %d connections, the second without 0-RTT", len(sc))
		}
	})
}

// TestRunnerKeyUpdate: the client updates its keys early in a 1 MiB
// transfer (Tsumugi every 10 packets: its client acknowledges sparsely, about 50 packets in all for 1 MiB; quic-go
// after its first 100 packets, always). As the runner checks, the
// decrypted trace must show 1-RTT packets in key phase 1 from both the
// client and the server; Tsumugi's endpoints count the update too.
func TestRunnerKeyUpdate(t *testing.T) {
	forRunnerPairs(t, runnerPairs, func(t *testing.T, ctx context.Context, p runnerPair) {
		stc, ctc, kl := withKeyLog(t)
		cell := newRunnerCell(t, ctx, p, cellSetup{opts: runnerOpts{keyUpdate: 10}, keepData: true, serverTLS: stc, clientTLS: ctc})
		conn := cell.mustDial()
		cell.check(fetchFiles(ctx, conn, []uint64{1 << 20}, 80, 0))
		cell.expectHandshakes(1)
		dec := decodeTrace(cell.rec.trace(), kl)
		var phase1 [2]int
		for _, pk := range dec.packets {
			if pk.kind == kindOneRTT && pk.keyPhase {
				phase1[pk.dir]++
			}
		}
		t.Logf("1-RTT packets in key phase 1: %d from the client, %d from the server", phase1[toServer], phase1[toClient])
		if phase1[toServer] == 0 || phase1[toClient] == 0 {
			t.Errorf("key phase 1 packets: %d from the client, %d from the server; want some from both (%d undecodable: %.3q)",
				phase1[toServer], phase1[toClient], len(dec.failures), dec.failures)
		}
		if st := conn.info().stats; st != nil {
			t.Logf("client: %d packets sent, %d key updates", st.PacketsSent, st.KeyUpdates)
		}
		conns := append([]runnerConn{conn}, cell.serverConns()...)
		for _, c := range conns {
			if st := c.info().stats; st != nil && st.KeyUpdates == 0 {
				t.Errorf("a Tsumugi endpoint counted no key update")
			}
		}
	})
}
