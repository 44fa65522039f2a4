package integration_test

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The impairment proxy sits between QUIC clients and one server on
// loopback. Clients send to proxy.addr(); the proxy forwards each client's
// datagrams to the server from a socket of its own (one per client address,
// like a NAT), and the server's answers back to that client. Each direction
// is a link that applies its impairment (see proxy_link_test.go).
//
// Goroutines: one reads the client-facing socket (client → server), one per
// client flow reads that flow's server-facing socket (server → client; a
// test with one client connection has exactly one); delayed datagrams are
// released by timers. close stops all of them and waits.
//
// rebind gives a flow a new server-facing socket, as a NAT that rebinds
// does: the server then sees the same client at a new port (or address).
// With proxyConfig.ECN, the proxy carries each datagram's ECN codepoint
// across (Linux only; see proxy_ecn_*_test.go).

// direction names a link of the proxy.
type direction int

const (
	toServer direction = iota // client → server
	toClient                  // server → client
)

func (d direction) String() string {
	if d == toServer {
		return "client→server"
	}
	return "server→client"
}

// maxFlows bounds how many client addresses the proxy serves at once, so a
// runaway test cannot open sockets without limit.
const maxFlows = 256

// maxDatagram is the largest UDP payload the proxy reads.
const maxDatagram = 64 << 10

// proxyConfig describes what the proxy does to datagrams.
type proxyConfig struct {
	// Seed seeds the pseudo-random choices of both links; runs with the
	// same seed and the same datagrams make the same choices.
	Seed uint64

	// ToServer and ToClient are the impairments of each direction.
	ToServer, ToClient impairment

	// Hook, if set, is asked about every datagram before the random
	// impairments (after blackholes). It is called with the link's lock
	// held: calls for one direction never overlap, and the hook must not
	// call proxy methods other than blackhole and rebind.
	Hook func(d *datagramInfo) verdict

	// ECN makes the proxy read the ECN codepoint of every datagram and
	// send it on with the same codepoint (RFC 3168; a plain socket would
	// send it Not-ECT). Only on Linux: elsewhere startProxy fails.
	ECN bool
}

// datagramInfo is what a hook learns of a datagram.
type datagramInfo struct {
	Proxy *proxy
	Dir   direction
	Seq   uint64  // index of the datagram in its direction, from 0
	Kinds kindSet // types of the QUIC packets it holds
	Data  []byte  // read-only; valid only during the call

	// Back is the proxy's server-facing address for the datagram's
	// flow: where a datagram to the server is sent from (if the flow is
	// not rebound before it leaves), or where one from the server
	// arrived. It changes when the flow is rebound.
	Back netip.AddrPort
	ECN  byte // the ECN codepoint, with proxyConfig.ECN
}

// verdict is a hook's decision about one datagram.
type verdict struct {
	Drop  bool
	Delay time.Duration // added to the link's own delay
}

// proxy is an in-process UDP impairment proxy.
type proxy struct {
	cfg    proxyConfig
	server netip.AddrPort
	front  *net.UDPConn // client-facing socket
	links  [2]*link

	mu      sync.Mutex
	start   time.Time // when the first datagram arrived; blackhole cycles count from it
	flows   map[netip.AddrPort]*flow
	closed  bool
	rebinds int // server-facing sockets opened by rebind

	readers sync.WaitGroup // reader goroutines
	timers  sync.WaitGroup // armed delay timers
}

// flow is one client address and the socket that speaks for it to the
// server.
type flow struct {
	client netip.AddrPort
	back   atomic.Pointer[net.UDPConn] // connected to the server; swapped by rebind

	// runs counts, per direction, the datagrams lost and corrupted in a
	// row (impairment.MaxRun); each guarded by its link's lock.
	runs [2]struct{ lost, corrupted int }
}

// newProxy starts a proxy in front of the server at serverAddr and closes it
// when the test ends.
func newProxy(t testing.TB, serverAddr string, cfg proxyConfig) *proxy {
	t.Helper()
	p, err := startProxy(serverAddr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.close)
	return p
}

func startProxy(serverAddr string, cfg proxyConfig) (*proxy, error) {
	server, err := netip.ParseAddrPort(serverAddr)
	if err != nil {
		return nil, err
	}
	front, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(server.Addr(), 0)))
	if err != nil {
		return nil, err
	}
	front.SetReadBuffer(4 << 20) // best effort: the kernel may cap it
	front.SetWriteBuffer(4 << 20)
	if cfg.ECN {
		if err := enableECN(front); err != nil {
			front.Close()
			return nil, err
		}
	}
	p := &proxy{cfg: cfg, server: server, front: front, flows: make(map[netip.AddrPort]*flow)}
	p.links[toServer] = newLink(p, toServer, cfg.ToServer, cfg.Seed)
	p.links[toClient] = newLink(p, toClient, cfg.ToClient, cfg.Seed)
	p.readers.Go(p.readFront)
	return p, nil
}

// addr is where clients send: the proxy's client-facing address.
func (p *proxy) addr() string { return p.front.LocalAddr().String() }

// stats returns what the link in direction d has done so far.
func (p *proxy) stats(d direction) linkStats { return p.links[d].snapshot() }

// blackhole drops every datagram in the given directions (both if none are
// given) for the next d, on top of any configured cycle.
func (p *proxy) blackhole(d time.Duration, dirs ...direction) {
	if len(dirs) == 0 {
		dirs = []direction{toServer, toClient}
	}
	until := time.Now().Add(d).UnixNano()
	for _, dir := range dirs {
		l := p.links[dir]
		for {
			old := l.blackholeUntil.Load()
			if old >= until || l.blackholeUntil.CompareAndSwap(old, until) {
				break
			}
		}
	}
}

// close stops the proxy: no datagram is forwarded afterwards, queued ones
// are discarded, and every goroutine and timer has ended when it returns.
func (p *proxy) close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	p.front.Close()
	for _, f := range p.flows {
		f.back.Load().Close()
	}
	p.mu.Unlock()
	for _, l := range p.links {
		l.stop()
	}
	p.readers.Wait()
	p.timers.Wait()
}

// readFront forwards datagrams from clients to the server.
func (p *proxy) readFront() {
	buf := make([]byte, maxDatagram)
	oob := make([]byte, 128)
	for {
		n, oobn, _, from, err := p.front.ReadMsgUDPAddrPort(buf, oob)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // e.g. an ICMP error reported on the socket
		}
		f := p.flowFor(from)
		if f == nil {
			continue
		}
		p.links[toServer].handle(f, buf[:n], p.ecnOf(oob[:oobn]), f.backAddr())
	}
}

// readBack forwards datagrams that reach back, one of f's server-facing
// sockets, to f's client. It ends when back is closed (by rebind or close).
func (p *proxy) readBack(f *flow, back *net.UDPConn) {
	via := back.LocalAddr().(*net.UDPAddr).AddrPort()
	buf := make([]byte, maxDatagram)
	oob := make([]byte, 128)
	for {
		n, oobn, _, _, err := back.ReadMsgUDPAddrPort(buf, oob)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue // ECONNREFUSED while the server is not (yet, or any more) there
		}
		p.links[toClient].handle(f, buf[:n], p.ecnOf(oob[:oobn]), via)
	}
}

// ecnOf is the ECN codepoint in a datagram's control messages, if the
// proxy carries ECN.
func (p *proxy) ecnOf(oob []byte) byte {
	if !p.cfg.ECN {
		return 0
	}
	return parseECN(oob)
}

// flowFor returns the flow of a client address, creating it (and its
// server-facing socket and reader) on the first datagram. It returns nil
// once the proxy is closed or full.
func (p *proxy) flowFor(client netip.AddrPort) *flow {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.start.IsZero() {
		p.start = time.Now()
	}
	if f := p.flows[client]; f != nil || p.closed {
		return f
	}
	if len(p.flows) >= maxFlows {
		return nil
	}
	back, err := p.dialServer(netip.Addr{})
	if err != nil {
		return nil
	}
	f := &flow{client: client}
	f.back.Store(back)
	p.flows[client] = f
	p.readers.Go(func() { p.readBack(f, back) })
	return f
}

// dialServer opens a server-facing socket, bound to local if it is valid.
func (p *proxy) dialServer(local netip.Addr) (*net.UDPConn, error) {
	var laddr *net.UDPAddr
	if local.IsValid() {
		laddr = net.UDPAddrFromAddrPort(netip.AddrPortFrom(local, 0))
	}
	back, err := net.DialUDP("udp", laddr, net.UDPAddrFromAddrPort(p.server))
	if err != nil {
		return nil, err
	}
	back.SetReadBuffer(4 << 20)
	back.SetWriteBuffer(4 << 20)
	if p.cfg.ECN {
		if err := enableECN(back); err != nil {
			back.Close()
			return nil, err
		}
	}
	return back, nil
}

// rebind gives every flow a new server-facing socket, bound to local if it
// is valid (a second loopback address makes an address rebinding) and to
// any free port otherwise, and closes the old one, as a NAT that drops a
// mapping and makes a new one: the server sees each client's datagrams
// from a new address, and what it still sends to the old one is lost. It
// returns how many flows were rebound. Hooks may call it.
func (p *proxy) rebind(local netip.Addr) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return 0, net.ErrClosed
	}
	n := 0
	for _, f := range p.flows {
		back, err := p.dialServer(local)
		if err != nil {
			return n, err
		}
		old := f.back.Swap(back)
		old.Close()
		p.rebinds++
		p.readers.Go(func() { p.readBack(f, back) })
		n++
	}
	return n, nil
}

// send writes one datagram on its way in direction d, with the ECN
// codepoint ecn if the proxy carries ECN.
func (p *proxy) send(d direction, f *flow, b []byte, ecn byte) error {
	var oob []byte
	if p.cfg.ECN && ecn != 0 {
		oob = appendECN(nil, ecn, p.server.Addr().Is4())
	}
	if d == toServer {
		_, _, err := f.back.Load().WriteMsgUDPAddrPort(b, oob, netip.AddrPort{})
		return err
	}
	_, _, err := p.front.WriteMsgUDPAddrPort(b, oob, f.client)
	return err
}

// backAddr is f's current server-facing address.
func (f *flow) backAddr() netip.AddrPort {
	return f.back.Load().LocalAddr().(*net.UDPAddr).AddrPort()
}

// elapsed is the time since the first datagram (zero before it).
func (p *proxy) elapsed(now time.Time) time.Duration {
	p.mu.Lock()
	start := p.start
	p.mu.Unlock()
	if start.IsZero() {
		return 0
	}
	return now.Sub(start)
}
