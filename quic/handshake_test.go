package quic

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tsumugi-quic/tsumugi/internal/memnet"
	"github.com/tsumugi-quic/tsumugi/internal/quictest"
	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

// TestHandshakeOursToOurs: our client and server, over memnet.
func TestHandshakeOursToOurs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		ln, _ := tn.listen(nil)
		var small []int
		cc, err := tn.dial(testCtx(t), nil, tn.clientTLS(testALPN), func(pc *memnet.Conn) {
			pc.SetSendFilter(memnet.Tap(func(d *memnet.Datagram) {
				if hasInitial(d.Data) && len(d.Data) < 1200 {
					small = append(small, len(d.Data))
				}
			}))
		})
		if err != nil {
			t.Fatal(err)
		}
		sc, err := ln.Accept(testCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		if len(small) > 0 {
			t.Errorf("client Initial datagrams below 1200 bytes (RFC 9000 §14.1): %v", small)
		}
		for _, c := range []*Conn{cc, sc} {
			st := c.ConnectionState()
			if st.ALPN != testALPN || st.Version != wire.Version1 || !st.TLS.HandshakeComplete {
				t.Errorf("state %+v", st)
			}
		}
		// Data flows both ways.
		go func() {
			s, err := sc.AcceptStream(testCtx(t))
			if err != nil {
				return
			}
			io.Copy(s, s)
			s.CloseWrite()
		}()
		s, err := cc.OpenStream(testCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		msg := bytes.Repeat([]byte("tsumugi "), 10000)
		go func() { s.Write(msg); s.CloseWrite() }()
		got, err := io.ReadAll(s)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("echo: %d bytes, %v", len(got), err)
		}
	})
}

// TestHandshakeTransportParameters: our server sends the connection IDs
// RFC 9000 §7.3 asks for, and our configuration.
func TestHandshakeTransportParameters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		conf := &Config{MaxIdleTimeout: 7 * time.Second, MaxIncomingStreams: 11, MaxIncomingUniStreams: 3,
			InitialStreamReceiveWindow: 100000, InitialConnectionReceiveWindow: 300000}
		p, _, _ := tn.peerPair(conf, quictest.DefaultParams())
		sp, ok := p.PeerParams()
		if !ok {
			t.Fatal("no transport parameters")
		}
		if !bytes.Equal(sp.OriginalDestinationConnectionID, p.OriginalDstConnID()) {
			t.Errorf("original_destination_connection_id %x, want %x", sp.OriginalDestinationConnectionID, p.OriginalDstConnID())
		}
		if !bytes.Equal(sp.InitialSourceConnectionID, p.DstConnID()) || len(sp.InitialSourceConnectionID) != defaultConnectionIDLength {
			t.Errorf("initial_source_connection_id %x, but the server's Initial came from %x", sp.InitialSourceConnectionID, p.DstConnID())
		}
		if sp.RetrySourceConnectionID != nil {
			t.Errorf("retry_source_connection_id without Retry")
		}
		if sp.StatelessResetToken == nil {
			t.Errorf("no stateless_reset_token")
		}
		checks := []struct {
			name      string
			got, want uint64
		}{
			{"max_idle_timeout", uint64(sp.MaxIdleTimeout), uint64(7 * time.Second)},
			{"initial_max_streams_bidi", sp.InitialMaxStreamsBidi, 11},
			{"initial_max_streams_uni", sp.InitialMaxStreamsUni, 3},
			{"initial_max_stream_data_bidi_remote", sp.InitialMaxStreamDataBidiRemote, 100000},
			{"initial_max_data", sp.InitialMaxData, 300000},
			{"active_connection_id_limit", sp.ActiveConnectionIDLimit, activeConnectionIDLimit},
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
			}
		}
	})
}

// TestHandshakeBadClientParameters: the server checks the client's
// initial_source_connection_id (RFC 9000 §7.3) and closes with
// TRANSPORT_PARAMETER_ERROR; the connection never reaches Accept.
func TestHandshakeBadClientParameters(t *testing.T) {
	tests := []struct {
		name string
		edit func(p *wire.TransportParameters)
	}{
		{"iscid-mismatch", func(p *wire.TransportParameters) { p.InitialSourceConnectionID = []byte{1, 2, 3, 4, 5, 6, 7, 8} }},
		{"iscid-empty", func(p *wire.TransportParameters) { p.InitialSourceConnectionID = []byte{} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tn := newTestNet(t)
				ln, _ := tn.listen(nil)
				params := quictest.DefaultParams()
				tt.edit(&params)
				p, _ := tn.peer(params)
				err := p.Handshake(testCtx(t))
				var ce *quictest.CloseError
				if !errors.As(err, &ce) || ce.Frame.Code != uint64(wire.TransportParameterError) {
					t.Fatalf("handshake: %v, want CONNECTION_CLOSE TRANSPORT_PARAMETER_ERROR", err)
				}
				if c, err := ln.Accept(shortCtx(t, time.Second)); err == nil {
					t.Fatalf("Accept returned %v", c)
				}
			})
		})
	}
}

// TestALPN: ALPN is mandatory (RFC 9001 §8.1); a missing or refused
// protocol is a clear error on both sides, never a hang.
func TestALPN(t *testing.T) {
	for _, protos := range [][]string{{"other"}, nil} {
		t.Run(fmt.Sprintf("scripted-client-%q", protos), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tn := newTestNet(t)
				ln, _ := tn.listen(nil)
				conf := tn.clientTLS(protos...)
				p, _ := tn.peerTLS(quictest.DefaultParams(), conf)
				err := p.Handshake(testCtx(t))
				var ce *quictest.CloseError
				if !errors.As(err, &ce) || ce.Frame.Code != uint64(wire.CryptoErrorBase+120) {
					t.Fatalf("handshake: %v, want CRYPTO_ERROR no_application_protocol (0x178)", err)
				}
				if _, err := ln.Accept(shortCtx(t, time.Second)); !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("Accept: %v", err)
				}
				time.Sleep(time.Minute) // past the closing period
				synctest.Wait()
				if n := tn.serverConns(ln); n != 0 {
					t.Fatalf("%d server connections left", n)
				}
			})
		})
	}
	t.Run("ours-mismatch", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			tn := newTestNet(t)
			tn.listen(nil)
			start := time.Now()
			_, err := tn.dial(testCtx(t), nil, tn.clientTLS("other"), nil)
			var te *TransportError
			if !errors.As(err, &te) || te.Code != wire.CryptoErrorBase+120 || !te.Remote {
				t.Fatalf("dial: %v, want the server's CRYPTO_ERROR no_application_protocol", err)
			}
			// Dial returns at once; the client's draining period
			// (RFC 9000 §10.2.2) runs on in the background.
			if d := time.Since(start); d > 0 {
				t.Fatalf("the refusal took %v", d)
			}
		})
	})
	t.Run("not-configured", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			tn := newTestNet(t)
			if _, err := serverTLSConfig(tn.serverTLS()); err == nil {
				t.Error("a server without NextProtos was accepted")
			}
			tn.listen(nil)
			if _, err := tn.dial(testCtx(t), nil, tn.clientTLS(), nil); err == nil || !strings.Contains(err.Error(), "ALPN") {
				t.Errorf("dial without NextProtos: %v", err)
			}
		})
	})
}

// TestAntiAmplification: before the client's address is validated, the
// server sends at most three times what it received (RFC 9000 §8.1). A
// large certificate makes the server's first flight bigger than that.
func TestAntiAmplification(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		tn.bigCertificate()
		ln, spc := tn.listen(&Config{HandshakeTimeout: time.Minute})
		var sent, received int
		spc.SetSendFilter(memnet.Tap(func(d *memnet.Datagram) { sent += len(d.Data) }))
		spc.SetRecvFilter(memnet.Tap(func(d *memnet.Datagram) { received += len(d.Data) }))
		p, _ := tn.peer(quictest.DefaultParams())
		ctx := testCtx(t)
		if err := p.StartTLS(ctx); err != nil {
			t.Fatal(err)
		}
		// The ClientHello (with a post-quantum key share it takes two
		// datagrams), padded.
		if err := p.Flush(); err != nil {
			t.Fatal(err)
		}
		first := p.Stats().BytesSent
		// The client stays silent for a long while: the server's PTOs
		// must not push it past the limit.
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if received != first || sent == 0 || sent > 3*received {
			t.Fatalf("server sent %d bytes after receiving %d", sent, received)
		}
		t.Logf("first flight: %d bytes sent for %d received", sent, received)
		// Each datagram from the client raises the allowance.
		p.SendFrames(wire.PacketInitial, &wire.PingFrame{})
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if received != first+1200 || sent > 3*received {
			t.Fatalf("server sent %d bytes after receiving %d", sent, received)
		}
		// The handshake still completes.
		if err := p.Handshake(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := ln.Accept(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

// TestVersionNegotiationServer: an Initial of an unknown version gets a
// Version Negotiation packet listing ours, with the connection IDs swapped
// (RFC 9000 §6.1, §17.2.1); one in a datagram below 1200 bytes gets nothing
// (§14.1).
func TestVersionNegotiationServer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		tn.listen(nil)
		p, _ := tn.peer(quictest.DefaultParams())
		p.SetVersion(0x1a2a3a4a)
		ctx := testCtx(t)
		p.StartTLS(ctx)
		if err := p.Flush(); err != nil {
			t.Fatal(err)
		}
		pkt, err := p.ReadPacket(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if pkt.Type != wire.PacketVersionNegotiation || !slices.Contains(pkt.Versions, wire.Version1) || !slices.Contains(pkt.Versions, wire.Version2) {
			t.Fatalf("got %v versions %#x", pkt, pkt.Versions)
		}
		if !bytes.Equal(pkt.DstID, p.SrcConnID()) || !bytes.Equal(pkt.SrcID, p.OriginalDstConnID()) {
			t.Fatalf("connection IDs not swapped: dst %x src %x", pkt.DstID, pkt.SrcID)
		}
		// One answer per datagram of the ClientHello.
		for {
			if _, err := p.ReadPacket(shortCtx(t, time.Second)); err != nil {
				break
			}
		}
		// A short datagram of an unknown version: no answer.
		d, err := p.AppendPacket(nil, wire.PacketInitial, 0, &wire.PingFrame{})
		if err != nil {
			t.Fatal(err)
		}
		p.SendRaw(d)
		if pkt, err := p.ReadPacket(shortCtx(t, 10*time.Second)); err == nil {
			t.Fatalf("answer to a short datagram: %v", pkt)
		}
	})
}

// TestVersionNegotiationClient: our client reports a
// *VersionNegotiationError when the server offers none of our versions,
// and ignores a Version Negotiation packet that lists its version
// (RFC 9000 §6.2).
func TestVersionNegotiationClient(t *testing.T) {
	tests := []struct {
		name     string
		versions []uint32
		wantVN   bool
	}{
		{"none-common", []uint32{0x1a2a3a4a, 0xff00001d}, true},
		{"lists-ours", []uint32{0x1a2a3a4a, wire.Version1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tn := newTestNet(t)
				spc := tn.n.Listen(serverAddr)
				done := make(chan struct{})
				defer func() { spc.Close(); <-done }()
				go func() {
					// A server that answers every Initial with
					// Version Negotiation.
					defer close(done)
					buf := make([]byte, 2000)
					for {
						n, from, err := spc.ReadFromUDPAddrPort(buf)
						if err != nil {
							return
						}
						h, err := wire.ParseLongHeader(buf[:n])
						if err != nil {
							continue
						}
						spc.WriteToUDPAddrPort(wire.AppendVersionNegotiation(nil, h.SrcConnID, h.DstConnID, tt.versions...), from)
					}
				}()
				_, err := tn.dial(testCtx(t), &Config{HandshakeTimeout: 5 * time.Second}, tn.clientTLS(testALPN), nil)
				var vn *VersionNegotiationError
				if got := errors.As(err, &vn); got != tt.wantVN {
					t.Fatalf("dial: %v", err)
				}
				if tt.wantVN && (!slices.Equal(vn.Theirs, tt.versions) || !slices.Contains(vn.Ours, wire.Version1)) {
					t.Fatalf("error %+v", vn)
				}
				if !tt.wantVN && !errors.Is(err, ErrHandshakeTimeout) {
					t.Fatalf("dial: %v, want ErrHandshakeTimeout", err)
				}
			})
		})
	}
}

// TestClientChecksServerParameters: our client authenticates the
// server's connection IDs through its transport parameters (RFC 9000
// §7.3): a mismatch ends Dial with TRANSPORT_PARAMETER_ERROR, which the
// (scripted) server receives.
func TestClientChecksServerParameters(t *testing.T) {
	tests := []struct {
		name string
		edit func(p *wire.TransportParameters)
	}{
		{"odcid-mismatch", func(p *wire.TransportParameters) { p.OriginalDestinationConnectionID = []byte{1, 2, 3, 4, 5, 6, 7, 8} }},
		{"iscid-mismatch", func(p *wire.TransportParameters) { p.InitialSourceConnectionID = []byte{8, 7, 6, 5, 4, 3, 2, 1} }},
		{"retry-scid-without-retry", func(p *wire.TransportParameters) { p.RetrySourceConnectionID = []byte{1, 1, 1, 1} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tn := newTestNet(t)
				spc := tn.n.Listen(serverAddr)
				defer spc.Close()
				params := quictest.DefaultParams()
				tt.edit(&params)
				srv := quictest.NewServer(spc, tn.serverTLS(testALPN), params)
				defer srv.Close()
				srvErr := make(chan error, 1)
				go func() {
					ctx := testCtx(t)
					if err := srv.Accept(ctx); err != nil {
						srvErr <- err
						return
					}
					srvErr <- srv.Handshake(ctx)
				}()
				_, err := tn.dial(testCtx(t), nil, tn.clientTLS(testALPN), nil)
				sErr := <-srvErr
				var te *TransportError
				if !errors.As(err, &te) || te.Code != wire.TransportParameterError || te.Remote {
					t.Fatalf("dial: %v, want a local TRANSPORT_PARAMETER_ERROR (scripted server: %v)", err, sErr)
				}
				var ce *quictest.CloseError
				if !errors.As(sErr, &ce) || ce.Frame.Code != uint64(wire.TransportParameterError) {
					t.Fatalf("scripted server: %v", sErr)
				}
			})
		})
	}
}
