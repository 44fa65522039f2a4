package qlog

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

var (
	testStart = time.Date(2025, 1, 2, 3, 4, 5, 600_000_000, time.UTC)
	testODCID = []byte{0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08}
)

// newTestTrace returns a client trace writing to a buffer.
func newTestTrace() (*Trace, *bytes.Buffer) {
	var buf bytes.Buffer
	return NewWriter(&buf, testODCID, true, testStart), &buf
}

// output closes tr and returns what it wrote.
func output(t testing.TB, tr *Trace, buf *bytes.Buffer) []byte {
	t.Helper()
	if err := tr.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return buf.Bytes()
}

// splitRecords splits a JSON-SEQ file into its records (RFC 7464 §2: RS,
// JSON text, LF), failing the test on any framing error.
func splitRecords(t testing.TB, data []byte) [][]byte {
	t.Helper()
	if len(data) == 0 || data[0] != recordSeparator {
		t.Fatalf("file does not start with RS: %q", data[:min(len(data), 20)])
	}
	var recs [][]byte
	for _, r := range bytes.Split(data[1:], []byte{recordSeparator}) {
		if len(r) == 0 || r[len(r)-1] != '\n' {
			t.Fatalf("record does not end with LF: %q", r)
		}
		recs = append(recs, r[:len(r)-1])
	}
	return recs
}

// decode parses one JSON object, keeping numbers exact.
func decode(t testing.TB, rec []byte) map[string]any {
	t.Helper()
	if !json.Valid(rec) {
		t.Fatalf("record is not valid JSON: %s", rec)
	}
	// encoding/json accepts invalid UTF-8; RFC 8259 §8.1 and main schema
	// §11.1 do not.
	if !utf8.Valid(rec) {
		t.Fatalf("record is not valid UTF-8: %q", rec)
	}
	d := json.NewDecoder(bytes.NewReader(rec))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("record does not decode as an object: %v\n%s", err, rec)
	}
	if d.More() {
		t.Fatalf("record holds more than one JSON text: %s", rec)
	}
	return m
}

// events returns the decoded records after the header.
func events(t testing.TB, data []byte) []map[string]any {
	t.Helper()
	recs := splitRecords(t, data)
	var evs []map[string]any
	for _, r := range recs[1:] {
		evs = append(evs, decode(t, r))
	}
	return evs
}

// writeAll logs every kind of event and frame once, for the schema checks
// and the nil and closed Trace tests.
func writeAll(tr *Trace, now time.Time) {
	local := netip.MustParseAddrPort("192.0.2.1:4433")
	remote := netip.MustParseAddrPort("[2001:db8::1]:443")
	scid, dcid := []byte{1, 2, 3, 4}, []byte{5, 6, 7, 8, 9}
	tok := [16]byte{0xaa, 15: 0xbb}
	tr.ConnectionStarted(now, local, remote, scid, dcid)
	tr.ConnectionStateUpdated(now, StateAttempted, StateHandshakeStarted)
	tr.ConnectionIDUpdated(now, Remote, dcid, scid)
	tr.MTUUpdated(now, 1200, 1452, true)
	tr.VersionInformation(now, []wire.Version{wire.Version1, wire.Version2}, []wire.Version{wire.Version1}, wire.Version1)
	tr.ALPNInformation(now, []string{"h3", "hq-interop"}, []string{"hq-interop", "\xff\x00"}, "hq-interop")
	params := wire.DefaultTransportParameters()
	params.OriginalDestinationConnectionID = testODCID
	params.InitialSourceConnectionID = scid
	params.RetrySourceConnectionID = []byte{}
	params.StatelessResetToken = &tok
	params.MaxIdleTimeout = 30 * time.Second
	params.InitialMaxData = 1 << 20
	params.HasMaxDatagramFrameSize = true
	params.MaxDatagramFrameSize = 1200
	params.PreferredAddress = &wire.PreferredAddress{
		IPv4:                netip.MustParseAddrPort("192.0.2.7:443"),
		IPv6:                netip.MustParseAddrPort("[2001:db8::7]:443"),
		ConnectionID:        []byte{7, 7, 7},
		StatelessResetToken: tok,
	}
	tr.ParametersSet(now, Remote, &params)
	tr.ParametersRestored(now, &params)
	tr.TLSParametersSet(now, "TLS_AES_128_GCM_SHA256", true, false)

	p := tr.BeginPacket(now, true, PacketHeader{Type: wire.PacketInitial, PacketNumber: 0, Version: wire.Version1, SCID: scid, DCID: dcid, Token: []byte("tok")})
	p.Crypto(0, 300)
	p.Ack([]wire.AckRange{{Smallest: 7, Largest: 9}, {Smallest: 3, Largest: 3}}, 1250*time.Microsecond)
	p.Padding(800)
	p.Trigger(SentPTOProbe)
	p.End(1200)

	p = tr.BeginPacket(now, false, PacketHeader{Type: wire.Packet1RTT, PacketNumber: 42, KeyPhase: 1, DCID: scid})
	p.Ping()
	p.AckECN([]wire.AckRange{{Smallest: 0, Largest: 10}}, 0, 5, 1, 2)
	p.ResetStream(4, 0x101, 1000)
	p.StopSending(8, 3)
	p.NewToken(48)
	p.Stream(0, 1000, 500, true)
	p.Stream(4, 0, 10, false)
	p.MaxData(1 << 30)
	p.MaxStreamData(0, 1<<20)
	p.MaxStreams(true, 100)
	p.MaxStreams(false, 3)
	p.DataBlocked(1 << 20)
	p.StreamDataBlocked(4, 4096)
	p.StreamsBlocked(true, 100)
	p.StreamsBlocked(false, 3)
	p.NewConnectionID(2, 1, []byte{9, 9, 9, 9}, &tok)
	p.NewConnectionID(3, 1, []byte{8}, nil)
	p.RetireConnectionID(0)
	p.PathChallenge([8]byte{1, 2, 3, 4, 5, 6, 7, 8})
	p.PathResponse([8]byte{8, 7, 6, 5, 4, 3, 2, 1})
	p.ConnectionClose(false, uint64(wire.ProtocolViolation), wire.FrameTypeStream|0x2, []byte("bad \"frame\"\n"))
	p.ConnectionClose(false, 0x178, 0, nil)
	p.ConnectionClose(false, 0x4000, 0x21, []byte{0xff, 0xfe})
	p.ConnectionClose(true, 0x10c, 0, []byte("h3 gone"))
	p.HandshakeDone()
	p.Datagram(100)
	p.Frame(wire.FrameTypePing)
	p.Frame(0x2a)
	p.Frames([]byte{byte(wire.FrameTypeHandshakeDone)})
	p.End(1350)

	p = tr.BeginPacket(now, true, PacketHeader{Type: wire.PacketHandshake, PacketNumber: 1, Version: wire.Version2, SCID: scid, DCID: dcid})
	p.MTUProbe()
	p.Ping()
	p.End(1452)
	tr.BeginPacket(now, false, PacketHeader{Type: wire.PacketRetry, Version: wire.Version1, SCID: scid, DCID: dcid, Token: []byte("retry-token")}).End(60)

	tr.VersionNegotiation(now, false, dcid, scid, []wire.Version{0x1a2a3a4a, wire.Version2})
	tr.StatelessReset(now, false, &tok, 43)
	tr.PacketLost(now, PacketHeader{Type: wire.Packet1RTT, PacketNumber: 17}, LossTimeThreshold)
	tr.PacketDropped(now, wire.PacketHandshake, 1200, DropKeyUnavailable)
	tr.PacketDropped(now, 0, 30, DropInvalid)
	tr.PacketBuffered(now, wire.Packet1RTT, 1200, BufferKeysUnavailable)
	tr.PacketsAcked(now, SpaceApplicationData, []uint64{1, 2, 5})
	tr.UDPDatagramsSent(now, []int{1200, 1200, 700}, ECT0)
	tr.UDPDatagramsReceived(now, []int{1452}, NoECN)
	tr.UDPDatagramDropped(now, 12)
	tr.RecoveryMetricsUpdated(now, RecoveryMetrics{
		MinRTT: 10 * time.Millisecond, SmoothedRTT: 12500 * time.Microsecond, LatestRTT: 11 * time.Millisecond,
		RTTVariance: 3 * time.Millisecond, PTOCount: 1, CongestionWindow: 12000, BytesInFlight: 2400,
		SSThresh: 1 << 40, PacketsInFlight: 2, PacingRate: 9_600_000, Fields: AllMetrics,
	})
	tr.CongestionStateUpdated(now, "slow_start", "recovery", "loss")
	tr.ECNStateUpdated(now, ECNTesting, ECNCapable)
	tr.KeyUpdated(now, KeyClient1RTT, 1, KeyLocalUpdate)
	tr.KeyUpdated(now, KeyServerHandshake, 0, KeyTLS)
	tr.KeyDiscarded(now, KeyClientInitial, 0, KeyTLS)
	tr.ConnectionClosed(now, Close{Initiator: Local, HasCode: true, Code: 0x12a, Reason: "tls: \x00bad", Trigger: CloseError})
	tr.ConnectionClosed(now, Close{Initiator: Remote, HasCode: true, App: true, Code: 7, Trigger: CloseApplication})
	tr.ConnectionClosed(now, Close{Trigger: CloseIdleTimeout})
}
