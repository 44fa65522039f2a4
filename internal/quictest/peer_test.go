package quictest

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tsumugi-quic/tsumugi/internal/certs"
	"github.com/tsumugi-quic/tsumugi/internal/memnet"
	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

var (
	clientAddr = netip.MustParseAddrPort("10.0.0.1:1000")
	serverAddr = netip.MustParseAddrPort("10.0.0.2:443")
)

// peers returns a scripted client and server over memnet, neither started.
func peers(t *testing.T) (client, server *Peer, cpc, spc *memnet.Conn) {
	t.Helper()
	cert, pool, err := certs.Localhost()
	if err != nil {
		t.Fatal(err)
	}
	n := memnet.New()
	cpc, spc = n.Listen(clientAddr), n.Listen(serverAddr)
	t.Cleanup(func() { cpc.Close(); spc.Close() })
	client = NewClient(cpc, serverAddr, &tls.Config{RootCAs: pool, ServerName: "localhost", NextProtos: []string{"t"}, MinVersion: tls.VersionTLS13}, DefaultParams())
	server = NewServer(spc, &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"t"}, MinVersion: tls.VersionTLS13}, DefaultParams())
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server, cpc, spc
}

// handshake runs both peers' handshakes.
func handshake(t *testing.T, client, server *Peer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		if err := server.Accept(ctx); err != nil {
			errc <- err
			return
		}
		errc <- server.Handshake(ctx)
	}()
	if err := client.Handshake(ctx); err != nil {
		t.Fatalf("client: %v", err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("server: %v", err)
	}
}

func TestHandshakeBetweenPeers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		client, server, _, _ := peers(t)
		handshake(t, client, server)
		if !client.HandshakeConfirmed() || !server.HandshakeConfirmed() {
			t.Fatal("not confirmed")
		}
		cp, ok := client.PeerParams()
		if !ok || !bytes.Equal(cp.OriginalDestinationConnectionID, client.OriginalDstConnID()) ||
			!bytes.Equal(cp.InitialSourceConnectionID, server.SrcConnID()) {
			t.Fatalf("client saw params %+v", cp)
		}
		sp, _ := server.PeerParams()
		if !bytes.Equal(sp.InitialSourceConnectionID, client.SrcConnID()) {
			t.Fatalf("server saw params %+v", sp)
		}
		if !bytes.Equal(client.DstConnID(), server.SrcConnID()) || !bytes.Equal(server.DstConnID(), client.SrcConnID()) {
			t.Fatal("connection IDs not switched")
		}
		if got := client.ConnectionState().NegotiatedProtocol; got != "t" {
			t.Fatalf("ALPN %q", got)
		}
	})
}

func TestInitialDatagramsPadded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		client, server, cpc, spc := peers(t)
		check := func(who string) memnet.Filter {
			return memnet.Tap(func(d *memnet.Datagram) {
				if wire.IsLongHeader(d.Data[0]) {
					if h, err := wire.ParseLongHeader(d.Data); err == nil && h.Type == wire.PacketInitial && len(d.Data) < 1200 {
						t.Errorf("%s sent a %d-byte Initial datagram", who, len(d.Data))
					}
				}
			})
		}
		cpc.SetSendFilter(check("client"))
		spc.SetSendFilter(check("server"))
		handshake(t, client, server)
	})
}

func TestHandshakeSurvivesLoss(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		client, server, cpc, spc := peers(t)
		cpc.SetSendFilter(memnet.DropIndexes(0, 1))
		spc.SetSendFilter(memnet.DropIndexes(0))
		handshake(t, client, server)
	})
}

func TestStreamAndAcks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		client, server, _, _ := peers(t)
		handshake(t, client, server)
		ctx := context.Background()
		msg := []byte("hello, scripted world")
		if err := client.SendFrames(wire.Packet1RTT,
			&wire.PingFrame{},
			&StreamFrame{StreamID: 0, Data: msg[:5]},
			&LastStreamFrame{StreamID: 0, Offset: 5, Data: msg[5:], Fin: true},
		); err != nil {
			t.Fatal(err)
		}
		got, pkts, err := server.ReadStream(ctx, 0)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("ReadStream = %q, %v", got, err)
		}
		last := pkts[len(pkts)-1]
		if len(FramesOf[wire.PingFrame](last)) != 1 {
			t.Fatalf("frames %v", last)
		}
		// ReadStream acknowledged the packet.
		ack, _, err := ExpectFrame(ctx, client, func(f wire.AckFrame) bool { return f.LargestAcked() == last.Number })
		if err != nil {
			t.Fatalf("ack %v, %v", ack, err)
		}
	})
}

func TestKeyUpdateFollowed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		client, server, _, _ := peers(t)
		handshake(t, client, server)
		ctx := context.Background()
		client.UpdateKeys()
		client.SendFrames(wire.Packet1RTT, &wire.PingFrame{})
		_, pkt, err := ExpectFrame[wire.PingFrame](ctx, server, nil)
		if err != nil || !pkt.KeyPhase {
			t.Fatalf("server read %v, %v", pkt, err)
		}
		if !server.KeyPhase() {
			t.Fatal("server did not follow the key update")
		}
		server.SendFrames(wire.Packet1RTT, &wire.PingFrame{})
		_, pkt, err = ExpectFrame[wire.PingFrame](ctx, client, nil)
		if err != nil || !pkt.KeyPhase {
			t.Fatalf("client read %v, %v", pkt, err)
		}
		// A peer that does not follow keeps its phase.
		server.FollowKeyUpdates = false
		client.UpdateKeys()
		client.SendFrames(wire.Packet1RTT, &wire.PingFrame{})
		if _, pkt, err := ExpectFrame[wire.PingFrame](ctx, server, nil); err != nil || pkt.KeyPhase {
			t.Fatalf("server read %v, %v", pkt, err)
		}
		if !server.KeyPhase() {
			t.Fatal("server followed")
		}
	})
}

func TestReadPacketHonoursContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		client, _, _, _ := peers(t)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		start := time.Now()
		if _, err := client.ReadPacket(ctx); !errors.Is(err, context.DeadlineExceeded) || time.Since(start) != 3*time.Second {
			t.Fatalf("err %v after %v", err, time.Since(start))
		}
	})
}

func TestCloseDuringHandshake(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		client, server, _, _ := peers(t)
		ctx := context.Background()
		go func() {
			server.Accept(ctx)
			server.ReadPacket(ctx)
			server.SendFrames(wire.PacketInitial, &wire.ConnectionCloseFrame{Code: uint64(wire.ProtocolViolation), Reason: []byte("no")})
		}()
		err := client.Handshake(ctx)
		var ce *CloseError
		if !errors.As(err, &ce) || ce.Frame.Code != uint64(wire.ProtocolViolation) || ce.PacketType != wire.PacketInitial {
			t.Fatalf("err %v", err)
		}
	})
}

func TestVersionNegotiationParsed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		client, _, _, spc := peers(t)
		client.SetVersion(0x1a2a3a4a)
		ctx := context.Background()
		go func() {
			buf := make([]byte, 2000)
			n, from, _ := spc.ReadFromUDPAddrPort(buf)
			h, _ := wire.ParseLongHeader(buf[:n])
			vn := wire.AppendVersionNegotiation(nil, h.SrcConnID, h.DstConnID, wire.Version1)
			spc.WriteToUDPAddrPort(vn, from)
		}()
		client.StartTLS(ctx)
		if err := client.Flush(); err != nil {
			t.Fatal(err)
		}
		pkt, err := client.ReadPacket(ctx)
		if err != nil || pkt.Type != wire.PacketVersionNegotiation || len(pkt.Versions) != 1 || pkt.Versions[0] != wire.Version1 {
			t.Fatalf("got %v, %v", pkt, err)
		}
	})
}

func TestParseFramesRoundTrip(t *testing.T) {
	frames := []Frame{
		&wire.PingFrame{},
		&wire.AckFrame{Ranges: []wire.AckRange{{Smallest: 5, Largest: 9}, {Smallest: 0, Largest: 2}}},
		&wire.ResetStreamFrame{StreamID: 4, Code: 7, FinalSize: 100},
		&wire.StopSendingFrame{StreamID: 8, Code: 9},
		&wire.CryptoFrame{Offset: 10, Data: []byte("tls")},
		&wire.NewTokenFrame{Token: []byte("tok")},
		&StreamFrame{StreamID: 1, Offset: 2, Data: []byte("x"), Fin: true},
		&wire.MaxDataFrame{Max: 1000},
		&wire.MaxStreamDataFrame{StreamID: 3, Max: 50},
		&wire.MaxStreamsFrame{Bidi: true, Max: 10},
		&wire.DataBlockedFrame{Limit: 1},
		&wire.StreamDataBlockedFrame{StreamID: 3, Limit: 2},
		&wire.StreamsBlockedFrame{Limit: 4},
		&wire.NewConnectionIDFrame{Seq: 1, ConnID: []byte{1, 2, 3, 4}},
		&wire.RetireConnectionIDFrame{Seq: 0},
		&wire.PathChallengeFrame{Data: [8]byte{1}},
		&wire.PathResponseFrame{Data: [8]byte{2}},
		&wire.HandshakeDoneFrame{},
		&DatagramFrame{Data: []byte("dg")},
		&wire.ConnectionCloseFrame{App: true, Code: 5, Reason: []byte("bye")},
		&LastStreamFrame{StreamID: 0, Data: []byte("end")},
	}
	var b []byte
	for _, f := range frames {
		b = f.Append(b)
	}
	got, padding, err := ParseFrames(b)
	if err != nil {
		t.Fatal(err)
	}
	if padding != 0 || len(got) != len(frames) {
		t.Fatalf("padding %d, %d frames", padding, len(got))
	}
	var again []byte
	for _, f := range got {
		again = appendParsed(again, f)
	}
	if !bytes.Equal(again, b) {
		t.Fatalf("round trip differs:\n%x\n%x", again, b)
	}
	got, padding, err = ParseFrames([]byte{0, 0, 1, 0})
	if err != nil || padding != 3 || len(got) != 1 {
		t.Fatalf("PADDING: %v, %d, %v", got, padding, err)
	}
	if _, _, err := ParseFrames([]byte{0x40}); err == nil {
		t.Fatal("truncated frame type parsed")
	}
}

// appendParsed re-encodes a parsed frame (the last STREAM frame without
// Length).
func appendParsed(b []byte, f any) []byte {
	switch f := f.(type) {
	case wire.PingFrame:
		return f.Append(b)
	case wire.AckFrame:
		return f.Append(b)
	case wire.ResetStreamFrame:
		return f.Append(b)
	case wire.StopSendingFrame:
		return f.Append(b)
	case wire.CryptoFrame:
		return f.Append(b)
	case wire.NewTokenFrame:
		return f.Append(b)
	case wire.StreamFrame:
		return f.Append(b, f.StreamID != 0)
	case wire.MaxDataFrame:
		return f.Append(b)
	case wire.MaxStreamDataFrame:
		return f.Append(b)
	case wire.MaxStreamsFrame:
		return f.Append(b)
	case wire.DataBlockedFrame:
		return f.Append(b)
	case wire.StreamDataBlockedFrame:
		return f.Append(b)
	case wire.StreamsBlockedFrame:
		return f.Append(b)
	case wire.NewConnectionIDFrame:
		return f.Append(b)
	case wire.RetireConnectionIDFrame:
		return f.Append(b)
	case wire.PathChallengeFrame:
		return f.Append(b)
	case wire.PathResponseFrame:
		return f.Append(b)
	case wire.HandshakeDoneFrame:
		return f.Append(b)
	case wire.DatagramFrame:
		return f.Append(b, true)
	case wire.ConnectionCloseFrame:
		return f.Append(b)
	}
	panic("unhandled")
}
