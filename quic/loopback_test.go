package quic

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tsumugi-quic/tsumugi/internal/certs"
	"github.com/tsumugi-quic/tsumugi/internal/memnet"
	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

// newTestPair starts a listener and dials it, returning both connections.
func newTestPair(t testing.TB, serverConf, clientConf *Config) (*Listener, *Conn, *Conn) {
	t.Helper()
	cert, pool, err := certs.Localhost()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := Listen("udp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"test"}}, serverConf)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	type result struct {
		c   *Conn
		err error
	}
	accepted := make(chan result, 1)
	go func() {
		c, err := ln.Accept(ctx)
		accepted <- result{c, err}
	}()
	cc, err := Dial(ctx, "udp", ln.Addr().String(), &tls.Config{RootCAs: pool, NextProtos: []string{"test"}, ServerName: "localhost"}, clientConf)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { closeAndWait(cc) })
	r := <-accepted
	if r.err != nil {
		t.Fatalf("Accept: %v", r.err)
	}
	return ln, cc, r.c
}

func TestHandshakeAndEcho(t *testing.T) {
	_, cc, sc := newTestPair(t, nil, nil)
	if got := cc.ConnectionState().ALPN; got != "test" {
		t.Fatalf("ALPN = %q", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go func() {
		s, err := sc.AcceptStream(ctx)
		if err != nil {
			return
		}
		io.Copy(s, s)
		s.CloseWrite()
	}()
	s, err := cc.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	msg := make([]byte, 300000)
	rand.Read(msg)
	go func() {
		s.Write(msg)
		s.CloseWrite()
	}()
	got, err := io.ReadAll(s)
	if err != nil {
		t.Fatalf("ReadAll: %v", err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatalf("echo mismatch: got %d bytes, want %d", len(got), len(msg))
	}
}

func TestDatagrams(t *testing.T) {
	conf := &Config{EnableDatagrams: true}
	_, cc, sc := newTestPair(t, conf, conf)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if max := cc.MaxDatagramSize(); max < 1000 {
		t.Fatalf("MaxDatagramSize = %d", max)
	}
	if err := cc.SendDatagram(make([]byte, cc.MaxDatagramSize()+1)); err != ErrDatagramTooLarge {
		t.Fatalf("oversized datagram: %v", err)
	}
	// Datagrams are unreliable, but loopback without load loses none; send
	// until one arrives so that the test cannot flake on a drop.
	got := make(chan []byte, 1)
	go func() {
		b, err := sc.ReceiveDatagram(ctx)
		if err == nil {
			got <- b
		}
	}()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if err := cc.SendDatagram([]byte("hello datagram")); err != nil {
			t.Fatal(err)
		}
		select {
		case b := <-got:
			if string(b) != "hello datagram" {
				t.Fatalf("got %q", b)
			}
			return
		case <-tick.C:
		case <-ctx.Done():
			t.Fatal("no datagram arrived")
		}
	}
}

func TestDatagramsNotNegotiated(t *testing.T) {
	_, cc, _ := newTestPair(t, nil, &Config{EnableDatagrams: true})
	if err := cc.SendDatagram([]byte("x")); err != ErrDatagramsDisabled {
		t.Fatalf("SendDatagram without the peer's consent: %v", err)
	}
}

// TestRetryThenNewToken: a server that requires address validation answers
// the first connection with a Retry; the NEW_TOKEN it then sends lets the
// second connection skip the Retry.
func TestRetryThenNewToken(t *testing.T) {
	store := NewTokenStore(10)
	ln, cc, _ := newTestPair(t, &Config{RequireAddressValidation: true}, &Config{TokenStore: store})
	if !cc.retried.Load() {
		t.Fatal("the first connection did not go through a Retry")
	}
	// The NEW_TOKEN frame follows the handshake; wait until the store has it.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		store.mu.Lock()
		n := len(store.hosts)
		store.mu.Unlock()
		if n > 0 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("no NEW_TOKEN arrived")
		case <-time.After(5 * time.Millisecond):
		}
	}
	c2, err := Dial(ctx, "udp", ln.Addr().String(), cc.tlsConf, &Config{TokenStore: store})
	if err != nil {
		t.Fatal(err)
	}
	defer closeAndWait(c2)
	if c2.retried.Load() {
		t.Fatal("the second connection, with a token, went through a Retry")
	}
}

// TestVersionNegotiation: a client starting in one version ends up in the
// server's preferred version through compatible version negotiation, or
// stays in its own when the server has no preference for another.
func TestVersionNegotiation(t *testing.T) {
	for _, tc := range []struct {
		name           string
		server, client []uint32
		want           uint32
	}{
		{"v1 only", []uint32{wire.Version1}, []uint32{wire.Version1}, wire.Version1},
		{"v2 direct", []uint32{wire.Version2}, []uint32{wire.Version2}, wire.Version2},
		{"server upgrades v1 to v2", []uint32{wire.Version2, wire.Version1}, []uint32{wire.Version1, wire.Version2}, wire.Version2},
		{"server keeps v1", []uint32{wire.Version1, wire.Version2}, []uint32{wire.Version1, wire.Version2}, wire.Version1},
		{"client speaks v1 only", []uint32{wire.Version2, wire.Version1}, []uint32{wire.Version1}, wire.Version1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, cc, sc := newTestPair(t, &Config{Versions: tc.server}, &Config{Versions: tc.client})
			if got := cc.ConnectionState().Version; got != tc.want {
				t.Errorf("client version %#x, want %#x", got, tc.want)
			}
			if got := sc.ConnectionState().Version; got != tc.want {
				t.Errorf("server version %#x, want %#x", got, tc.want)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			go func() {
				s, err := sc.AcceptStream(ctx)
				if err == nil {
					io.Copy(s, s)
					s.Close()
				}
			}()
			request2(t, ctx, cc)
		})
	}
}

// TestResumptionAndZeroRTT: a second connection resumes the first one's
// session; with DialEarly its request goes out as 0-RTT data and the
// server, allowing 0-RTT, answers it. A server that refuses 0-RTT still
// gets the request, sent again in 1-RTT.
func TestResumptionAndZeroRTT(t *testing.T) {
	for _, allow := range []bool{true, false} {
		t.Run(fmt.Sprintf("allow0rtt=%v", allow), func(t *testing.T) {
			// In-memory with 5 ms each way, so that the early data leaves
			// before the handshake can complete: over loopback the
			// handshake may finish first and the data go as 1-RTT.
			synctest.Test(t, func(t *testing.T) {
				tn := newTestNet(t)
				ln, _ := tn.listen(&Config{Allow0RTT: allow})
				ctx := testCtx(t)
				go func() {
					for {
						c, err := ln.Accept(ctx)
						if err != nil {
							return
						}
						go func() {
							s, err := c.AcceptStream(ctx)
							if err != nil {
								return
							}
							b, _ := io.ReadAll(s)
							s.Write(append([]byte("re:"), b...))
							s.Close()
						}()
					}
				}()
				tc := tn.clientTLS(testALPN)
				tc.ClientSessionCache = tls.NewLRUClientSessionCache(10)
				dial := func() *Conn {
					pc := tn.clientConn()
					pc.SetSendFilter(memnet.Delay(5 * time.Millisecond))
					c, err := newEndpointOn(pc, nil).dialAddr(ctx, serverAddr, "localhost:443", tc, true, true)
					if err != nil {
						t.Fatal(err)
					}
					return c
				}
				// First connection: gets a ticket.
				c1 := dial()
				request(t, ctx, c1, "one")
				if c1.ConnectionState().TLS.DidResume {
					t.Fatal("the first connection resumed")
				}
				closeAndWait(c1)
				// Second connection: resumes, with early data.
				c2 := dial()
				defer closeAndWait(c2)
				request(t, ctx, c2, "two")
				<-c2.HandshakeComplete()
				st := c2.ConnectionState()
				if !st.TLS.DidResume {
					t.Fatal("the second connection did not resume")
				}
				if st.Used0RTT != allow {
					t.Fatalf("Used0RTT = %v, want %v", st.Used0RTT, allow)
				}
			})
		})
	}
}

func request(t *testing.T, ctx context.Context, c *Conn, msg string) {
	t.Helper()
	s, err := c.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.Write([]byte(msg))
	s.CloseWrite()
	b, err := io.ReadAll(s)
	if err != nil || string(b) != "re:"+msg {
		t.Fatalf("request %q: got %q, %v", msg, b, err)
	}
}

// TestPathMTUDiscovery: over loopback (MTU 65536), probing during a
// transfer raises the packet size from the initial 1280 bytes to the
// Ethernet-sized limit.
func TestPathMTUDiscovery(t *testing.T) {
	_, cc, sc := newTestPair(t, nil, nil)
	want := 1500 - 8 - 20
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go func() {
		s, err := sc.AcceptStream(ctx)
		if err == nil {
			io.Copy(io.Discard, s)
		}
	}()
	s, err := cc.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		buf := make([]byte, 64<<10)
		for ctx.Err() == nil {
			if _, err := s.Write(buf); err != nil {
				return
			}
		}
	}()
	for cc.MaxDatagramSize() < want-(1+8+4)-aeadOverhead-3-pmtudMinStep {
		select {
		case <-ctx.Done():
			t.Fatalf("MTU stayed at %d", cc.mtuForDatagrams.Load())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// rebindingRelay forwards UDP between a client and a server and can
// switch its server-facing socket, as a NAT that rebinds the client to a
// new port does.
type rebindingRelay struct {
	front  *net.UDPConn // the client talks to this
	server *net.UDPAddr
	mu     sync.Mutex
	back   *net.UDPConn // toward the server
	client *net.UDPAddr
	olds   []*net.UDPConn
	done   chan struct{}
	wg     sync.WaitGroup
}

func newRebindingRelay(t *testing.T, server net.Addr) *rebindingRelay {
	front, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	r := &rebindingRelay{front: front, server: server.(*net.UDPAddr), done: make(chan struct{})}
	r.rebind(t)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		buf := make([]byte, 2048)
		for {
			n, from, err := front.ReadFromUDP(buf)
			if err != nil {
				return
			}
			r.mu.Lock()
			r.client = from
			back := r.back
			r.mu.Unlock()
			back.WriteToUDP(buf[:n], r.server)
		}
	}()
	t.Cleanup(r.close)
	return r
}

// rebind moves the server-facing side to a new socket (a new port).
func (r *rebindingRelay) rebind(t *testing.T) {
	back, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	if r.back != nil {
		r.olds = append(r.olds, r.back)
	}
	r.back = back
	r.mu.Unlock()
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		buf := make([]byte, 2048)
		for {
			n, _, err := back.ReadFromUDP(buf)
			if err != nil {
				return
			}
			r.mu.Lock()
			client := r.client
			r.mu.Unlock()
			if client != nil {
				r.front.WriteToUDP(buf[:n], client)
			}
		}
	}()
}

func (r *rebindingRelay) close() {
	r.front.Close()
	r.mu.Lock()
	r.back.Close()
	for _, o := range r.olds {
		o.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
}

// TestNATRebinding: the client's port changes in the middle of a transfer
// (a NAT rebinding); the server follows it to the new address after
// validating the path, and the transfer completes.
func TestNATRebinding(t *testing.T) {
	cert, pool, _ := certs.Localhost()
	ln, err := Listen("udp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"test"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	relay := newRebindingRelay(t, ln.Addr())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cc, err := Dial(ctx, "udp", relay.front.LocalAddr().String(), &tls.Config{RootCAs: pool, NextProtos: []string{"test"}, ServerName: "localhost"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAndWait(cc)
	sc, err := ln.Accept(ctx)
	if err != nil {
		t.Fatal(err)
	}
	first := sc.RemoteAddr().String()
	const size = 4 << 20
	go func() {
		s, err := sc.AcceptStream(ctx)
		if err != nil {
			return
		}
		io.Copy(s, s)
		s.Close()
	}()
	s, err := cc.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		buf := make([]byte, 64<<10)
		for sent := 0; sent < size; sent += len(buf) {
			if sent == size/2 {
				relay.rebind(t)
			}
			if _, err := s.Write(buf); err != nil {
				return
			}
		}
		s.CloseWrite()
	}()
	n, err := io.Copy(io.Discard, s)
	if err != nil || n != size {
		t.Fatalf("echo: %d bytes, %v", n, err)
	}
	if second := sc.RemoteAddr().String(); second == first {
		t.Fatalf("the server still sends to %s", first)
	}
}

// TestECN: on Linux loopback the socket reads and writes ECN codepoints;
// after a transfer, the client still marks ECT(0): the server's ACK counts
// validated it (RFC 9000 §13.4.2).
func TestECN(t *testing.T) {
	_, cc, sc := newTestPair(t, nil, nil)
	if !cc.ep.ecnCapable() {
		t.Skip("this socket cannot carry ECN")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go func() {
		s, err := sc.AcceptStream(ctx)
		if err == nil {
			io.Copy(io.Discard, s)
			s.Close()
		}
	}()
	s, err := cc.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.Write(make([]byte, 1<<20))
	s.CloseWrite()
	if err := s.WaitAcked(ctx); err != nil {
		t.Fatal(err)
	}
	if !cc.Stats().ECN {
		t.Fatal("ECN validation failed on loopback")
	}
}

// TestQlog: with QlogDir set, each side writes a JSON-SEQ trace that starts
// with the qlog header and logs packets both ways.
func TestQlog(t *testing.T) {
	dir := t.TempDir()
	_, cc, sc := newTestPair(t, &Config{QlogDir: dir}, &Config{QlogDir: dir})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go func() {
		s, err := sc.AcceptStream(ctx)
		if err == nil {
			io.Copy(s, s)
			s.Close()
		}
	}()
	request2 := func() {
		s, err := cc.OpenStream(ctx)
		if err != nil {
			t.Fatal(err)
		}
		s.Write([]byte("hello"))
		s.CloseWrite()
		io.ReadAll(s)
	}
	request2()
	cc.CloseWithError(0, "")
	<-cc.exited
	sc.CloseWithError(0, "")
	<-sc.exited
	files, _ := filepath.Glob(filepath.Join(dir, "*.sqlog"))
	if len(files) != 2 {
		t.Fatalf("qlog files: %v", files)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		recs := strings.Split(string(b), "\x1e")
		if recs[0] != "" || len(recs) < 5 {
			t.Fatalf("%s: %d records", f, len(recs))
		}
		var sent, received, closed bool
		for _, r := range recs[1:] {
			var ev struct{ Name string }
			if err := json.Unmarshal([]byte(r), &ev); err != nil {
				t.Fatalf("%s: bad record %q: %v", f, r, err)
			}
			sent = sent || ev.Name == "quic:packet_sent"
			received = received || ev.Name == "quic:packet_received"
			closed = closed || ev.Name == "quic:connection_closed"
		}
		if !sent || !received || !closed {
			t.Fatalf("%s: sent %v received %v closed %v", f, sent, received, closed)
		}
	}
}

// closeAndWait closes c and waits until its goroutine, and for a dialed
// connection its endpoint, are gone: Close returns before the closing
// period ends, and goleak checks that nothing outlives the tests.
func closeAndWait(c *Conn) {
	c.Close()
	<-c.exited
	if c.ownsEndpoint {
		c.ep.Close()
	}
}

// TestCloseGraceful: the data written and closed reaches the peer, then
// the peer sees the application close with our code and reason.
func TestCloseGraceful(t *testing.T) {
	_, cc, sc := newTestPair(t, nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := cc.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	msg := make([]byte, 200<<10)
	s.Write(msg)
	s.CloseWrite()
	cc.CloseGraceful(0x100, "done")
	ss, err := sc.AcceptStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(ss)
	if err != nil || len(got) != len(msg) {
		t.Fatalf("read %d bytes, %v", len(got), err)
	}
	<-sc.Context().Done()
	var ae *ApplicationError
	if err := context.Cause(sc.Context()); !errors.As(err, &ae) || ae.Code != 0x100 || ae.Reason != "done" || !ae.Remote {
		t.Fatalf("peer's close: %v", err)
	}
}

// TestPreferredAddress: a server with a preferred address sees its
// clients move there after the handshake (RFC 9000 §9.6); transfers go on.
func TestPreferredAddress(t *testing.T) {
	ln, cc, sc := newTestPair(t, &Config{PreferredAddress: "127.0.0.1:0"}, nil)
	pref := ln.ep.preferred
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go func() {
		for {
			s, err := sc.AcceptStream(ctx)
			if err != nil {
				return
			}
			go func() { io.Copy(s, s); s.Close() }()
		}
	}()
	for cc.RemoteAddr().String() != pref.String() {
		request2(t, ctx, cc)
		select {
		case <-ctx.Done():
			t.Fatalf("the client still sends to %v, not the preferred %v", cc.RemoteAddr(), pref)
		case <-time.After(10 * time.Millisecond):
		}
	}
	request2(t, ctx, cc)
}

// request2 echoes a few bytes on a new stream.
func request2(t *testing.T, ctx context.Context, c *Conn) {
	t.Helper()
	s, err := c.OpenStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.Write([]byte("ping"))
	s.CloseWrite()
	if b, err := io.ReadAll(s); err != nil || string(b) != "ping" {
		t.Fatalf("echo: %q, %v", b, err)
	}
}
