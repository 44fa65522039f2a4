package quic

import (
	"crypto/tls"
	"github.com/tsumugi-quic/tsumugi/metrics"
	"github.com/tsumugi-quic/tsumugi/quic/qlog"
	"net/netip"
	"time"

	"github.com/tsumugi-quic/tsumugi/quic/internal/recovery"
	"github.com/tsumugi-quic/tsumugi/quic/wire"
	"github.com/tsumugi-quic/tsumugi/sched"
	"github.com/tsumugi-quic/tsumugi/stream"
)

// phase is where a connection is in its life (RFC 9000 §10).
type phase uint8

const (
	phaseHandshake phase = iota
	phaseEstablished
	phaseClosing  // we sent CONNECTION_CLOSE (§10.2.1)
	phaseDraining // the peer sent CONNECTION_CLOSE (§10.2.2)
	phaseDone
)

// connState is everything the connection goroutine owns.
type connState struct {
	c       *Conn
	phase   phase
	tlsDone bool // release tls after the current batch of events
	version uint32
	remote  netip.AddrPort
	sock    int           // the endpoint socket the path uses (a server's preferred address has its own)
	tls     *tls.QUICConn // nil once the handshake needs no more of it

	levels [sched.NumSpaces]level
	app    appKeys // 1-RTT (and key update) keys

	rec     *recovery.Recovery
	sched   *sched.Scheduler
	records sched.RecordPool

	streams streamsState
	flow    connFlow
	cids    connIDs
	control controlFrames
	dgrams  datagramSource

	// Handshake.
	odcid                     []byte            // the Destination Connection ID of the client's first Initial
	initialDCID               []byte            // what the Initial keys derive from (odcid, or a Retry's SCID)
	origVersion               uint32            // the version of the client's first Initial
	origInitialOpen           *wire.Keys        // server: Initial keys of origVersion after a version switch
	retrySCID                 []byte            // the Source Connection ID of the Retry (sent or received)
	zeroRTTParams             *rememberedParams // client: limits 0-RTT data relies on
	gotRetry                  bool              // client: a Retry was processed
	zeroRTTSent               bool              // client: a 0-RTT packet carried data
	zeroRTTReceived           bool              // server: a 0-RTT packet was processed
	zeroRTTRejected           bool
	havePeerParams            bool
	paramsPreset              bool   // server: our transport parameters went to TLS before the handshake started
	handshakeComplete         bool   // TLS says done (RFC 9001 §4.1.1)
	handshakeConfirm          bool   // RFC 9001 §4.1.2
	addrValidated             bool   // server: the client's address is validated (RFC 9000 §8.1)
	token                     []byte // client: the token our Initials carry (RFC 9000 §17.2.2)
	tokenKey                  string // client: the TokenStore key of this server
	peerParams                wire.TransportParameters
	bytesReceived             uint64
	bytesSent                 uint64                // before address validation, for the 3x limit (§8.1)
	gotServerInitial          bool                  // client: the server's first Initial was processed
	versionSettled            bool                  // client: CRYPTO data from the server fixed the version
	rxECN                     recovery.ECNCodepoint // of the datagram being processed
	sentAckElicitingSinceRecv bool
	closedSignaled            bool // Conn.closed is closed

	// Closing.
	closeErr     error // why the connection ended (the Context cause)
	closeFrame   closeFrame
	rxAddr       netip.AddrPort // the source of the datagram being processed
	rxBytes      int            // its size
	rxSock       int            // the endpoint socket it came in on
	closeUntil   time.Time      // end of the closing or draining period
	timeWait     *timeWait      // the record the connection leaves in its endpoint when it ends
	closeSentAt  time.Time
	gracefulFrom time.Time // a graceful Close waits for acknowledgments since then
	graceful     *closeRequest

	// Timers.
	idleTimeout       time.Duration
	lastActivity      time.Time // last packet received, or first ack-eliciting packet sent since
	lastAckEliciting  time.Time
	handshakeDeadline time.Time

	// Sending.
	now        time.Time // the current round's time
	pacingWait time.Time // when the pacer allows the next packet
	mtu        int
	pmtud      pmtud
	skipPN     uint64 // the next 1-RTT packet number to leave out
	// paths is made when a path changes or is probed (migration.go,
	// preferred_address.go, active_migration.go): most connections never
	// need it.
	paths      *pathStates
	ackScratch wire.AckFrame   // for building ACK frames
	ackRanges  []wire.AckRange // scratch for parsing ACK frames
	pending    *pendingPackets // packets that came before their keys (undecryptable.go)
	probes     [sched.NumSpaces]int
	pingQueued [sched.NumSpaces]bool

	// Scratch for the wake queue and the inbox.
	spareIDs    []stream.ID
	spareOpened []*stream.Core
	spareDgrams []datagram

	metrics *metrics.Conn
	trace   *qlog.Trace // nil unless Config.QlogDir is set
}

// level is one packet number space with its keys and CRYPTO streams.
type level struct {
	c            *Conn
	seal, open   *wire.Keys // nil until installed, and after discard
	nextPN       uint64
	largestAcked uint64 // the peer's largest acknowledgment of our packets
	recv         recovery.Received
	cryptoOut    stream.SendBuffer
	cryptoIn     *stream.RecvBuffer
	// cryptoMsgLeft counts the bytes still to come of a handshake message
	// too large to go to TLS whole (wholeMessages).
	cryptoMsgLeft int32
	space         sched.Space
	hasAcked      bool
	discarded     bool
}

func (st *connState) init(c *Conn, s *connSetup) {
	st.c = c
	st.version = s.version
	st.remote = s.remote
	st.odcid = append([]byte(nil), s.odcid...)
	st.initialDCID = append([]byte(nil), s.initialDCID...)
	st.origVersion = s.version
	st.retrySCID = s.retrySCID
	st.addrValidated = s.validated
	st.token = s.token
	st.tokenKey = s.tokenKey
	st.sched = sched.New(sched.Config{})
	st.streams.m = make(map[stream.ID]*stream.Core)
	st.streams.maxIn = [2]uint64{uint64(c.config.MaxIncomingStreams), uint64(c.config.MaxIncomingUniStreams)}
	st.streams.peerLimit = st.streams.maxIn
	st.setMTU(c.config.InitialPacketSize)
	st.idleTimeout = c.config.MaxIdleTimeout
	st.flow.init(c.config)
	for i := range st.levels {
		l := &st.levels[i]
		l.space = sched.Space(i)
		l.cryptoIn = stream.NewRecvBuffer(maxCryptoBufferAhead)
		l.c = c
		// RFC 9000 §13.2.1: Initial and Handshake packets are acknowledged
		// at once; 1-RTT packets within max_ack_delay.
		ackDelay := time.Duration(0)
		if l.space == sched.AppData {
			ackDelay = maxAckDelay
		}
		l.recv.Init(recovery.ReceivedConfig{MaxAckDelay: ackDelay})
	}
	st.control.c = c
	st.dgrams.c = c
	st.cids.init(c, s.odcid, s.peerSCID)
	now := time.Now()
	role := metrics.Client
	if !c.isClient {
		role = metrics.Server
	}
	st.metrics = c.config.Metrics.NewConn(role, now)
	algo, _ := recovery.ParseAlgorithm(c.config.CongestionControl)
	st.rec = recovery.New(recovery.Config{
		MaxDatagramSize: st.mtu,
		Congestion:      algo,
		IsServer:        !c.isClient,
		ECN:             c.ep.ecnCapable(),
		OnAcked:         c.onPacketAcked,
		OnLost:          c.onPacketLost,
		OnDiscarded:     c.onPacketDiscarded,
	}, now)
	st.lastActivity = now
	st.handshakeDeadline = now.Add(c.config.HandshakeTimeout)
	if s.initialOpen != nil {
		l := &st.levels[sched.Initial]
		l.seal, l.open = s.initialSeal, s.initialOpen
	} else {
		st.installInitialKeys(s.initialDCID)
	}
	st.startTrace(now)
}

// setMTU sets the largest UDP payload we send.
func (st *connState) setMTU(n int) {
	st.mtu = n
	st.c.mtuForDatagrams.Store(int64(n))
}

// largestRecv is the largest packet number received in the space, or
// wire.NoPacketNumber, for packet number recovery (RFC 9000 §A.3).
func (l *level) largestRecv() uint64 {
	if pn, ok := l.recv.Largest(); ok {
		return pn
	}
	return wire.NoPacketNumber
}

// installInitialKeys derives the Initial keys from the Destination
// Connection ID of the client's Initial packets (RFC 9001 §5.2).
func (st *connState) installInitialKeys(dcid []byte) {
	st.initialDCID = append(st.initialDCID[:0:0], dcid...)
	l := &st.levels[sched.Initial]
	l.seal, l.open = wire.NewInitialKeys(st.version, dcid, st.c.isClient)
}
