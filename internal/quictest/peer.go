package quictest

import (
	"crypto/rand"
	"crypto/tls"
	"net"
	"net/netip"
	"time"

	"github.com/tsumugi-quic/tsumugi/internal/rangeset"
	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

// PacketConn is the socket a Peer uses: *net.UDPConn and *memnet.Conn
// satisfy it. SetReadDeadline lets a read end with its context.
type PacketConn interface {
	ReadFromUDPAddrPort(b []byte) (int, netip.AddrPort, error)
	WriteToUDPAddrPort(b []byte, addr netip.AddrPort) (int, error)
	SetReadDeadline(t time.Time) error
	LocalAddr() net.Addr
}

// MinInitialDatagramSize is the size Initial datagrams are padded to
// (RFC 9000 §14.1).
const MinInitialDatagramSize = 1200

// MaxDatagramSize is the largest datagram the peer builds itself.
const MaxDatagramSize = 1252

// connIDLen is the length of the peer's own connection IDs.
const connIDLen = 8

// maxAckRanges bounds the ranges AckFrame reports, newest first.
const maxAckRanges = 32

// space is a packet number space.
type space int

const (
	spaceInitial space = iota
	spaceHandshake
	spaceApp
	numSpaces
)

func spaceOf(pt wire.PacketType) (space, bool) {
	switch pt {
	case wire.PacketInitial:
		return spaceInitial, true
	case wire.PacketHandshake:
		return spaceHandshake, true
	case wire.Packet1RTT:
		return spaceApp, true
	}
	return 0, false
}

func (s space) packetType() wire.PacketType {
	return [...]wire.PacketType{wire.PacketInitial, wire.PacketHandshake, wire.Packet1RTT}[s]
}

func (s space) tlsLevel() tls.QUICEncryptionLevel {
	return [...]tls.QUICEncryptionLevel{tls.QUICEncryptionLevelInitial, tls.QUICEncryptionLevelHandshake, tls.QUICEncryptionLevelApplication}[s]
}

// level is one packet number space's keys and state.
type level struct {
	seal, open  *wire.Keys
	nextPN      uint64
	lastSent    uint64       // the number of the last packet built
	received    rangeset.Set // packet numbers received
	ackPending  bool         // an ack-eliciting packet arrived since the last ACK we sent
	largestAckd uint64       // the largest packet number the other side acknowledged
	hasAckd     bool

	cryptoOut     []byte // CRYPTO data not sent yet
	cryptoOutOff  uint64 // its offset in the crypto stream
	cryptoAll     []byte // every CRYPTO byte written, for resending
	cryptoIn      uint64 // CRYPTO bytes handed to TLS
	cryptoPending []wire.CryptoFrame
}

// Peer is a scripted QUIC endpoint with one connection.
type Peer struct {
	pc       PacketConn
	remote   netip.AddrPort
	isClient bool
	version  wire.Version
	tlsConf  *tls.Config
	params   wire.TransportParameters
	tls      *tls.QUICConn
	started  bool

	odcid           []byte // the client's first Destination Connection ID
	dcid, scid      []byte
	peerInitialSCID []byte // the Source Connection ID of the other side's first packet
	gotFirst        bool   // the other side's first Initial was processed (client: switch DCID)
	token           []byte // the token sent in Initial packets

	levels [numSpaces]level

	// 1-RTT key updates (RFC 9001 §6).
	sendPhase, recvPhase bool
	nextOpen, prevOpen   *wire.Keys

	// FollowKeyUpdates makes the peer update its sending keys when it sees
	// the other side start a key update (RFC 9001 §6.2). On by default;
	// turn it off to script a peer that does not follow.
	FollowKeyUpdates bool

	// AutoAck makes ReadPacket acknowledge every datagram it has read
	// (AckAll) on its next call, so that the other side sees its packets
	// arrive. Off by default.
	AutoAck    bool
	autoAckDue bool

	peerParams     wire.TransportParameters
	havePeerParams bool
	peerParamsErr  error
	tlsErr         error
	complete       bool // TLS handshake complete
	confirmed      bool // client: HANDSHAKE_DONE received; server: sent
	handshakeDone  bool // server: HANDSHAKE_DONE queued
	peerConnIDs    []wire.NewConnectionIDFrame
	closeFrame     *wire.ConnectionCloseFrame

	rbuf      []byte
	rest      []byte // the unread rest of the current datagram
	restFrom  netip.AddrPort
	restSize  int    // size of the current datagram
	restDCID  []byte // the DCID of its first packet (RFC 9000 §12.2)
	stats     Stats
	cryptoBuf []byte
}

// Stats counts what the peer saw.
type Stats struct {
	DatagramsSent, BytesSent         int
	DatagramsReceived, BytesReceived int
	PacketsReceived                  int
	Undecryptable                    int // packets without keys or failing to open
}

// DefaultParams returns transport parameters for a peer that takes part in
// ordinary tests: generous flow-control windows, 100 streams of each type,
// a 30 s idle timeout. Tests change fields as they need.
func DefaultParams() wire.TransportParameters {
	p := wire.DefaultTransportParameters()
	p.MaxIdleTimeout = 30 * time.Second
	p.MaxUDPPayloadSize = 1500
	p.InitialMaxData = 16 << 20
	p.InitialMaxStreamDataBidiLocal = 1 << 20
	p.InitialMaxStreamDataBidiRemote = 1 << 20
	p.InitialMaxStreamDataUni = 1 << 20
	p.InitialMaxStreamsBidi = 100
	p.InitialMaxStreamsUni = 100
	p.ActiveConnectionIDLimit = 4
	return p
}

func randomID(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func newPeer(pc PacketConn, tlsConf *tls.Config, params wire.TransportParameters, isClient bool) *Peer {
	return &Peer{
		pc:               pc,
		isClient:         isClient,
		version:          wire.Version1,
		tlsConf:          tlsConf,
		params:           params,
		scid:             randomID(connIDLen),
		FollowKeyUpdates: true,
		rbuf:             make([]byte, 64<<10),
	}
}

// NewClient returns a client peer that will connect to server. Its
// Initial Destination Connection ID is 8 random bytes. params are sent as
// they are, except initial_source_connection_id, which is set to the
// peer's connection ID unless the test set it (nil). tlsConf must be
// usable by tls.QUICClient (TLS 1.3; ALPN as the test wants).
func NewClient(pc PacketConn, server netip.AddrPort, tlsConf *tls.Config, params wire.TransportParameters) *Peer {
	p := newPeer(pc, tlsConf, params, true)
	p.remote = server
	p.odcid = randomID(8)
	p.dcid = append([]byte(nil), p.odcid...)
	p.installInitialKeys()
	return p
}

// NewServer returns a server peer; Accept waits for a client's first
// Initial. original_destination_connection_id and
// initial_source_connection_id are filled in unless the test set them.
func NewServer(pc PacketConn, tlsConf *tls.Config, params wire.TransportParameters) *Peer {
	return newPeer(pc, tlsConf, params, false)
}

// SetVersion sets the QUIC version of the long headers and keys the peer
// uses; call it before anything is sent. Any uint32 is accepted, so a
// client can offer a version the server does not support (its Initial is
// then protected with version 1's keys).
func (p *Peer) SetVersion(v wire.Version) {
	p.version = v
	if p.isClient {
		p.installInitialKeys()
	}
}

// SetToken sets the token the peer puts in its Initial packets.
func (p *Peer) SetToken(token []byte) { p.token = token }

func (p *Peer) installInitialKeys() {
	v := p.version
	if !wire.IsSupportedVersion(v) {
		v = wire.Version1
	}
	l := &p.levels[spaceInitial]
	l.seal, l.open = wire.NewInitialKeys(v, p.odcid, p.isClient)
}

// Close releases the TLS state. It does not close the PacketConn.
func (p *Peer) Close() error {
	if p.tls != nil {
		return p.tls.Close()
	}
	return nil
}

// Remote returns the address the peer sends to.
func (p *Peer) Remote() netip.AddrPort { return p.remote }

// OriginalDstConnID returns the Destination Connection ID of the client's
// first Initial.
func (p *Peer) OriginalDstConnID() []byte { return p.odcid }

// DstConnID returns the connection ID the peer sends to now.
func (p *Peer) DstConnID() []byte { return p.dcid }

// SetDstConnID changes the connection ID the peer sends to, for example to
// one the other side issued in NEW_CONNECTION_ID.
func (p *Peer) SetDstConnID(id []byte) { p.dcid = append([]byte(nil), id...) }

// SrcConnID returns the peer's own connection ID.
func (p *Peer) SrcConnID() []byte { return p.scid }

// PeerParams returns the other side's transport parameters, once received.
func (p *Peer) PeerParams() (wire.TransportParameters, bool) {
	return p.peerParams, p.havePeerParams
}

// PeerConnIDs returns the NEW_CONNECTION_ID frames received so far.
func (p *Peer) PeerConnIDs() []wire.NewConnectionIDFrame { return p.peerConnIDs }

// HandshakeComplete reports whether TLS finished the handshake.
func (p *Peer) HandshakeComplete() bool { return p.complete }

// HandshakeConfirmed reports whether a client received HANDSHAKE_DONE, or a
// server sent it.
func (p *Peer) HandshakeConfirmed() bool { return p.confirmed }

// ConnectionState returns the TLS state.
func (p *Peer) ConnectionState() tls.ConnectionState {
	if p.tls == nil {
		return tls.ConnectionState{}
	}
	return p.tls.ConnectionState()
}

// TLSError returns the error TLS reported, if any.
func (p *Peer) TLSError() error { return p.tlsErr }

// CloseFrame returns the first CONNECTION_CLOSE frame received, or nil.
func (p *Peer) CloseFrame() *wire.ConnectionCloseFrame { return p.closeFrame }

// Stats returns the peer's counters.
func (p *Peer) Stats() Stats { return p.stats }

// SealKeys returns the keys the peer protects packets of type pt with
// (nil if it has none): for 1-RTT, those of the current key phase.
func (p *Peer) SealKeys(pt wire.PacketType) *wire.Keys {
	sp, ok := spaceOf(pt)
	if !ok {
		return nil
	}
	return p.levels[sp].seal
}

// OpenKeys returns the keys the peer opens packets of type pt with.
func (p *Peer) OpenKeys(pt wire.PacketType) *wire.Keys {
	sp, ok := spaceOf(pt)
	if !ok {
		return nil
	}
	return p.levels[sp].open
}

// KeyPhase returns the key phase bit the peer sends 1-RTT packets with.
func (p *Peer) KeyPhase() bool { return p.sendPhase }

// NextPacketNumber reserves and returns the next packet number of pt's
// space, for a packet the test builds by hand.
func (p *Peer) NextPacketNumber(pt wire.PacketType) uint64 {
	sp, _ := spaceOf(pt)
	l := &p.levels[sp]
	pn := l.nextPN
	l.nextPN++
	return pn
}

// LastPacketNumber returns the number of the last packet built in pt's
// space (by AppendPacket, SendFrames, AckAll or Flush).
func (p *Peer) LastPacketNumber(pt wire.PacketType) uint64 {
	sp, _ := spaceOf(pt)
	return p.levels[sp].lastSent
}

// SkipPacketNumbers makes the next packet of pt's space skip n numbers.
func (p *Peer) SkipPacketNumbers(pt wire.PacketType, n uint64) {
	sp, _ := spaceOf(pt)
	p.levels[sp].nextPN += n
}

// UpdateKeys starts a key update (RFC 9001 §6.1): 1-RTT packets sent from
// now on use the next keys and the flipped key phase bit.
func (p *Peer) UpdateKeys() {
	l := &p.levels[spaceApp]
	if l.seal == nil {
		return
	}
	l.seal = l.seal.Next()
	p.sendPhase = !p.sendPhase
}
