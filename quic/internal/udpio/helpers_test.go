package udpio

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
	"time"
)

// guard is a deadline that only keeps a broken test from hanging; no test
// asserts on time.
const guard = 30 * time.Second

// variant is a way to open a Conn: every loopback test runs over each.
type variant struct {
	name string
	opts Options
}

var variants = []variant{
	{"all", Options{}},
	{"noGSO", Options{DisableGSO: true}},
	{"noGRO", Options{DisableGRO: true}},
	{"noECN", Options{DisableECN: true}},
	{"portable", Options{DisableBatch: true}},
}

// family is a loopback address family to test over.
type family struct {
	name    string
	network string
	addr    string
}

func families(t *testing.T) []family {
	fams := []family{{"ipv4", "udp4", "127.0.0.1:0"}}
	if ipv6OK() {
		fams = append(fams, family{"ipv6", "udp6", "[::1]:0"})
	} else {
		t.Log("no IPv6 loopback: IPv6 cases skipped")
	}
	return fams
}

func ipv6OK() bool {
	uc, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		return false
	}
	uc.Close()
	return true
}

func openConn(t testing.TB, network, addr string, o Options) *Conn {
	t.Helper()
	c, err := OpenWith(network, addr, o)
	if err != nil {
		t.Fatalf("OpenWith(%s, %s): %v", network, addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func openPlain(t testing.TB, network, addr string) *net.UDPConn {
	t.Helper()
	ua, err := net.ResolveUDPAddr(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	uc, err := net.ListenUDP(network, ua)
	if err != nil {
		t.Fatal(err)
	}
	uc.SetReadBuffer(DefaultBufferSize)
	t.Cleanup(func() { uc.Close() })
	return uc
}

// addrOf is a socket's address with the wildcard replaced by loopback.
func addrOf(t testing.TB, a net.Addr) netip.AddrPort {
	t.Helper()
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		t.Fatal(err)
	}
	ip := ap.Addr().Unmap()
	if ip.IsUnspecified() {
		ip = netip.IPv6Loopback()
		if ap.Addr().Is4() {
			ip = netip.AddrFrom4([4]byte{127, 0, 0, 1})
		}
	}
	return netip.AddrPortFrom(ip, ap.Port())
}

// train is a buffer of datagrams of seg bytes (the last tail bytes, if
// tail > 0) whose bytes say which datagram and offset they are.
func train(count, seg, tail int) []byte {
	var b []byte
	for i := range count {
		b = append(b, datagram(i, seg)...)
	}
	if tail > 0 {
		b = append(b, datagram(count, tail)...)
	}
	return b
}

func datagram(i, n int) []byte {
	d := make([]byte, n)
	for j := range d {
		d[j] = byte(i*7 + j)
	}
	if n >= 4 {
		binary.BigEndian.PutUint32(d, uint32(i))
	}
	return d
}

// split cuts b as a receiver of datagrams of seg bytes would see them.
func split(b []byte, seg int) [][]byte {
	if seg <= 0 || seg >= len(b) {
		return [][]byte{b}
	}
	var out [][]byte
	for len(b) > seg {
		out = append(out, b[:seg])
		b = b[seg:]
	}
	return append(out, b)
}

// readAll reads datagrams from c until want have arrived, splitting GRO
// trains, and returns them with the ECN codepoint and sender of each.
func readAll(t testing.TB, c *Conn, want int) (dgrams [][]byte, ecns []uint8, from []netip.AddrPort, msgsSeen []Message) {
	t.Helper()
	msgs := make([]Message, 8)
	for i := range msgs {
		msgs[i].Buf = make([]byte, GROBufferSize)
	}
	c.SetReadDeadline(time.Now().Add(guard))
	defer c.SetReadDeadline(time.Time{})
	for len(dgrams) < want {
		n, err := c.ReadBatch(msgs)
		if err != nil {
			t.Fatalf("ReadBatch after %d of %d datagrams: %v", len(dgrams), want, err)
		}
		if n <= 0 || n > len(msgs) {
			t.Fatalf("ReadBatch returned n=%d", n)
		}
		for _, m := range msgs[:n] {
			msgsSeen = append(msgsSeen, Message{N: m.N, Addr: m.Addr, SegSize: m.SegSize, ECN: m.ECN})
			for d := range m.Segments() {
				dgrams = append(dgrams, bytes.Clone(d))
				ecns = append(ecns, m.ECN)
				from = append(from, m.Addr)
			}
		}
	}
	return dgrams, ecns, from, msgsSeen
}

// readPlain reads want datagrams from a plain socket.
func readPlain(t testing.TB, uc *net.UDPConn, want int) [][]byte {
	t.Helper()
	uc.SetReadDeadline(time.Now().Add(guard))
	buf := make([]byte, GROBufferSize)
	var out [][]byte
	for len(out) < want {
		n, _, err := uc.ReadFromUDPAddrPort(buf)
		if err != nil {
			t.Fatalf("read after %d of %d datagrams: %v", len(out), want, err)
		}
		out = append(out, bytes.Clone(buf[:n]))
	}
	return out
}

func sameDatagrams(t testing.TB, got, want [][]byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d datagrams, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("datagram %d: got %d bytes %x…, want %d bytes %x…", i, len(got[i]), head(got[i]), len(want[i]), head(want[i]))
		}
	}
}

func head(b []byte) []byte { return b[:min(len(b), 8)] }
