package integration_test

import (
	"bytes"
	"context"
	"net/netip"
	"runtime"
	"slices"
	"testing"
)

// The runner's rebind-port, rebind-addr and ecn cases.

// rebindAt returns a hook that rebinds the proxy's flows when the server
// has sent the datagrams numbered in at: a NAT rebinding in the middle of
// the transfer (the runner's simulator rebinds at 1 s, then every 5 s; a
// count hits the transfer however fast the machine is). locals are the
// addresses to bind to, in turn (the zero Addr: a new port only).
func rebindAt(t *testing.T, at []uint64, locals []netip.Addr) func(*datagramInfo) verdict {
	n := 0 // calls in one direction never overlap
	return func(d *datagramInfo) verdict {
		if d.Dir == toClient && n < len(at) && d.Seq == at[n] {
			if _, err := d.Proxy.rebind(locals[n%len(locals)]); err != nil {
				t.Errorf("rebind: %v", err)
			}
			n++
		}
		return verdict{}
	}
}

// TestRunnerRebindPort and TestRunnerRebindAddr: the client's address, as
// the server sees it, changes twice during a 2 MiB transfer: its port, or
// its IP address too (127.0.0.2, 127.0.0.3: Linux routes all of 127/8 to
// lo; where that is not so, only the port changes). As the runner checks:
// the server must send to every new path, its first packet on a new path
// carries PATH_CHALLENGE (RFC 9000 §9.3.3), and the client answers every
// challenge with a PATH_RESPONSE; the file arrives intact. A Tsumugi
// server is let off with an ACK-only packet before its PATH_CHALLENGE
// (see TestRunnerRebindChallengeFirst).
func TestRunnerRebindPort(t *testing.T) {
	runRebind(t, runnerPairs, rebindLocals(false), false)
}

func TestRunnerRebindAddr(t *testing.T) {
	runRebind(t, runnerPairs, rebindLocals(true), false)
}

// TestRunnerRebindChallengeFirst holds a Tsumugi server to the runner's
// check of rebind-addr: its first packet on a new path carries
// PATH_CHALLENGE.
func TestRunnerRebindChallengeFirst(t *testing.T) {
	runRebind(t, []runnerPair{pairOurs, pairQgoClient}, rebindLocals(true), true)
}

// rebindLocals are the addresses to rebind to: a second and a third
// loopback address if addr and the system allow, else new ports only.
func rebindLocals(addr bool) []netip.Addr {
	if second := secondLoopback(); addr && second.IsValid() {
		return []netip.Addr{second, second.Next()}
	}
	return []netip.Addr{{}}
}

// runRebind runs the rebind cases; strict holds every server to the
// runner's "PATH_CHALLENGE in the first packet on a new path".
func runRebind(t *testing.T, pairs []runnerPair, locals []netip.Addr, strict bool) {
	if !locals[0].IsValid() {
		t.Log("rebinding ports only")
	}
	forRunnerPairs(t, pairs, func(t *testing.T, ctx context.Context, p runnerPair) {
		stc, ctc, kl := withKeyLog(t)
		cell := newRunnerCell(t, ctx, p, cellSetup{
			proxy:     proxyConfig{ToServer: runnerLink, ToClient: runnerLink, Hook: rebindAt(t, []uint64{300, 900}, locals)},
			keepData:  true,
			serverTLS: stc, clientTLS: ctc,
		})
		conn := cell.mustDial()
		cell.check(fetchFiles(ctx, conn, []uint64{2 << 20}, 400, 0))
		cell.expectHandshakes(1)
		tr := cell.rec.trace()
		dec := decodeTrace(tr, kl)
		lenient := !strict && p.server.name == "tsumugi"
		// The paths the server sent on, in order; whether each new one
		// has seen a PATH_CHALLENGE yet.
		var paths []netip.AddrPort
		challenged := map[netip.AddrPort]bool{}
		var challenges, responses [][]byte
		for i, pk := range dec.packets {
			if pk.dir == toServer {
				for _, f := range pk.frames {
					if f.typ == framePathResponse {
						responses = append(responses, f.data)
					}
				}
				continue
			}
			back := tr[pk.entry].back
			first := !slices.Contains(paths, back)
			if first {
				paths = append(paths, back)
			}
			for _, f := range pk.frames {
				if f.typ == framePathChallenge {
					challenges = append(challenges, f.data)
				}
			}
			if len(paths) == 1 || challenged[back] {
				continue
			}
			if pk.has(framePathChallenge) {
				challenged[back] = true
				continue
			}
			if (first && !lenient) || !onlyAcks(pk.frames) {
				t.Errorf("the server's packet %d (pn %d, frames %#x) on path %v comes before its PATH_CHALLENGE", i, pk.pn, frameTypes(pk.frames), back)
				challenged[back] = true // one report per path
			}
		}
		t.Logf("server paths %v; %d challenges, %d responses", paths, len(challenges), len(responses))
		if len(paths) < 3 {
			t.Errorf("the server sent on %d paths, want 3 (2 rebindings)", len(paths))
		}
		for _, c := range challenges {
			if !slices.ContainsFunc(responses, func(r []byte) bool { return bytes.Equal(r, c) }) {
				t.Errorf("PATH_CHALLENGE %x without a PATH_RESPONSE", c)
			}
		}
		if len(dec.failures) > 0 {
			t.Errorf("%d packets not decoded: %.5q", len(dec.failures), dec.failures)
		}
		if locals[0].IsValid() {
			var ips []netip.Addr
			for _, ap := range paths {
				if !slices.Contains(ips, ap.Addr()) {
					ips = append(ips, ap.Addr())
				}
			}
			if len(ips) < 3 {
				t.Errorf("the server sent to %d client addresses, want 3", len(ips))
			}
		}
	})
}

// onlyAcks reports whether frames are ACK and PADDING frames only.
func onlyAcks(frames []frame) bool {
	for _, f := range frames {
		if f.typ != frameAck && f.typ != frameAckECN && f.typ != framePadding {
			return false
		}
	}
	return true
}

func frameTypes(frames []frame) []uint64 {
	var types []uint64
	for _, f := range frames {
		types = append(types, f.typ)
	}
	return types
}

// TestRunnerECN: a 256 KiB transfer through a proxy that carries ECN
// codepoints (plain sockets would drop them: see proxy_ecn_linux_test.go).
// As the runner checks: both sides mark their packets ECT(0) or ECT(1),
// none CE, and both send ACK frames with ECN counts (decrypted). Tsumugi's
// endpoints must also have validated ECN (RFC 9000 §13.4.2), and a quic-go
// peer still marks its last packets (it stops when validation fails).
func TestRunnerECN(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("ECN is read and set on Linux only")
	}
	forRunnerPairs(t, runnerPairs, func(t *testing.T, ctx context.Context, p runnerPair) {
		stc, ctc, kl := withKeyLog(t)
		cell := newRunnerCell(t, ctx, p, cellSetup{
			proxy:     proxyConfig{ToServer: runnerLink, ToClient: runnerLink, ECN: true},
			keepData:  true,
			serverTLS: stc, clientTLS: ctc,
		})
		conn := cell.mustDial()
		cell.check(fetchFiles(ctx, conn, []uint64{256 << 10}, 500, 0))
		cell.expectHandshakes(1)
		tr := cell.rec.trace()
		dec := decodeTrace(tr, kl)
		var ackECN [2]int
		for _, pk := range dec.packets {
			for _, f := range pk.frames {
				if f.typ == frameAckECN {
					ackECN[pk.dir]++
				}
			}
		}
		for _, d := range []direction{toServer, toClient} {
			s := cell.px.stats(d)
			t.Logf("%v: ECN codepoints %v (Not-ECT, ECT(1), ECT(0), CE); %d ACK_ECN frames", d, s.ECN, ackECN[d])
			if s.ECN[1]+s.ECN[2] == 0 {
				t.Errorf("%v: no datagram marked ECT", d)
			}
			if s.ECN[3] != 0 {
				t.Errorf("%v: %d datagrams marked CE", d, s.ECN[3])
			}
			if ackECN[d] == 0 {
				t.Errorf("%v: no ACK frame with ECN counts", d)
			}
			var last *traceEntry
			for i := range tr {
				if tr[i].dir == d && tr[i].has(kindOneRTT) {
					last = &tr[i]
				}
			}
			if last == nil || last.ecn == 0 {
				t.Errorf("%v: the last 1-RTT datagram is not ECN-marked", d)
			}
		}
		conns := append([]runnerConn{conn}, cell.serverConns()...)
		for _, c := range conns {
			if st := c.info().stats; st != nil && !st.ECN {
				t.Error("a Tsumugi endpoint did not validate ECN")
			}
		}
	})
}
