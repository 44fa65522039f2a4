package quic

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"net"
	"net/netip"
)

// Dial opens a QUIC connection to addr ("host:port") over network ("udp",
// "udp4" or "udp6") and waits for its handshake to complete. tlsConf must
// name the application protocols in NextProtos; its ServerName defaults to
// the host of addr. conf may be nil. The connection owns its UDP socket:
// closing the connection closes it.
func Dial(ctx context.Context, network, addr string, tlsConf *tls.Config, conf *Config) (*Conn, error) {
	return dial(ctx, network, addr, tlsConf, conf, false)
}

// DialEarly is Dial for 0-RTT (RFC 9001 §4.6): when tlsConf.ClientSessionCache
// holds a ticket from an earlier connection to the server that allows early
// data, it returns as soon as the first flight is on its way, and streams
// opened and written before the handshake completes go out as 0-RTT data.
// The server may refuse them: they are then sent again after the handshake,
// transparently. Without such a ticket it behaves like Dial. 0-RTT data can
// be replayed: only send requests that are safe to repeat.
func DialEarly(ctx context.Context, network, addr string, tlsConf *tls.Config, conf *Config) (*Conn, error) {
	return dial(ctx, network, addr, tlsConf, conf, true)
}

// dial opens a connection on an endpoint of its own.
func dial(ctx context.Context, network, addr string, tlsConf *tls.Config, conf *Config, early bool) (*Conn, error) {
	raddr, err := resolve(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	// The socket is of the remote address's family: a dual-stack IPv6
	// socket for an IPv4 server would only cost more system calls to set
	// up (IPv6 and IPv4 options both).
	lnet, local := "udp4", "0.0.0.0:0"
	if raddr.Addr().Is6() {
		lnet, local = "udp6", "[::]:0"
	}
	ep, err := newEndpoint(lnet, local, conf)
	if err != nil {
		return nil, err
	}
	// On failure the connection, if it started, closes the endpoint it
	// owns when it ends; dialAddr closes it otherwise.
	return ep.dialAddr(ctx, raddr, addr, tlsConf, true, early)
}

// HandshakeComplete is closed when the handshake is complete.
func (c *Conn) HandshakeComplete() <-chan struct{} { return c.handshakeDone }

func resolve(ctx context.Context, network, addr string) (netip.AddrPort, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return netip.AddrPort{}, err
	}
	if ap, err := netip.ParseAddrPort(addr); err == nil {
		return normalizeAddr(ap), nil
	}
	var r net.Resolver
	ipNet := "ip"
	switch network {
	case "udp4":
		ipNet = "ip4"
	case "udp6":
		ipNet = "ip6"
	}
	ips, err := r.LookupNetIP(ctx, ipNet, host)
	if err != nil {
		return netip.AddrPort{}, err
	}
	if len(ips) == 0 {
		return netip.AddrPort{}, errors.New("quic: no address for " + host)
	}
	p, err := net.LookupPort("udp", port)
	if err != nil {
		return netip.AddrPort{}, err
	}
	return normalizeAddr(netip.AddrPortFrom(ips[0], uint16(p))), nil
}

// dial resolves addr and dials from this endpoint.
func (e *Endpoint) dial(ctx context.Context, addr string, tlsConf *tls.Config, owns bool) (*Conn, error) {
	raddr, err := resolve(ctx, "udp", addr)
	if err != nil {
		return nil, err
	}
	return e.dialAddr(ctx, raddr, addr, tlsConf, owns, false)
}

// dialAddr starts a client connection and waits for its handshake.
func (e *Endpoint) dialAddr(ctx context.Context, raddr netip.AddrPort, addr string, tlsConf *tls.Config, owns, early bool) (*Conn, error) {
	tc, err := clientTLSConfig(tlsConf, addr)
	if err != nil {
		if owns {
			e.Close()
		}
		return nil, err
	}
	// RFC 9000 §7.2: the first Destination Connection ID is random and at
	// least 8 bytes long.
	odcid := make([]byte, 16)
	rand.Read(odcid)
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, ErrEndpointClosed
	}
	key := tc.ServerName
	if key == "" {
		key = raddr.String()
	}
	c := newConn(e, connSetup{
		isClient: true, remote: raddr, version: e.config.Versions[0], tlsConf: tc, config: e.config,
		odcid: odcid, token: e.config.TokenStore.take(key), tokenKey: key,
	})
	c.ownsEndpoint = owns
	c.earlyAllowed = early
	for _, id := range c.st.cids.localIDs() {
		e.conns[string(id)] = c
	}
	e.all[c] = struct{}{}
	e.group.Go(c.run)
	e.mu.Unlock()

	select {
	case <-c.handshakeDone:
		return c, nil
	case <-c.earlyReady:
		return c, nil
	case <-c.ctx.Done():
		return nil, context.Cause(c.ctx)
	case <-ctx.Done():
		c.abortLocal(ctx.Err())
		<-c.closed
		return nil, ctx.Err()
	}
}

func clientTLSConfig(c *tls.Config, addr string) (*tls.Config, error) {
	if c == nil || len(c.NextProtos) == 0 {
		return nil, errors.New("quic: tls.Config.NextProtos must name the application protocol (ALPN)")
	}
	c = c.Clone()
	c.MinVersion = tls.VersionTLS13
	if c.ServerName == "" {
		if host, _, err := net.SplitHostPort(addr); err == nil {
			c.ServerName = host
		}
	}
	return c, nil
}
