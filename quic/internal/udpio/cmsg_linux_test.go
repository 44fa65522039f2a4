package udpio

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"
)

// recvCmsgs builds control messages as the kernel delivers them.
func recvCmsgs(tos, tclass, gro int) []byte {
	b := make([]byte, 256)
	off := 0
	if tos >= 0 {
		putCmsg(b[off:], unix.IPPROTO_IP, unix.IP_TOS, 1)[0] = byte(tos)
		off += cmsgSpace(1)
	}
	if tclass >= 0 {
		binary.NativeEndian.PutUint32(putCmsg(b[off:], unix.IPPROTO_IPV6, unix.IPV6_TCLASS, 4), uint32(tclass))
		off += cmsgSpace(4)
	}
	if gro >= 0 {
		binary.NativeEndian.PutUint32(putCmsg(b[off:], unix.IPPROTO_UDP, unix.UDP_GRO, 4), uint32(gro))
		off += cmsgSpace(4)
	}
	return b[:off]
}

func TestParseRecvCmsgs(t *testing.T) {
	unknown := make([]byte, cmsgSpace(8))
	putCmsg(unknown, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 8)
	cases := []struct {
		name    string
		b       []byte
		ecn     uint8
		segSize int
	}{
		{"none", nil, NotECT, 0},
		{"tos ect0 with dscp", recvCmsgs(0xb8|int(ECT0), -1, -1), ECT0, 0},
		{"tos ce", recvCmsgs(int(CE), -1, -1), CE, 0},
		{"tclass ect1", recvCmsgs(-1, 0x20|int(ECT1), -1), ECT1, 0},
		{"gro and tclass", recvCmsgs(-1, int(ECT0), 1452), ECT0, 1452},
		{"gro alone", recvCmsgs(-1, -1, 1200), NotECT, 1200},
		{"unknown first", append(unknown, recvCmsgs(int(ECT1), -1, 1000)...), ECT1, 1000},
		{"truncated header", recvCmsgs(int(CE), -1, -1)[:unix.SizeofCmsghdr-1], NotECT, 0},
		{"length past the end", recvCmsgs(int(CE), -1, -1)[:cmsgDataOff], NotECT, 0},
	}
	for _, tc := range cases {
		ecn, seg := parseRecvCmsgs(tc.b)
		if ecn != tc.ecn || seg != tc.segSize {
			t.Errorf("%s: got ecn %02b seg %d, want %02b %d", tc.name, ecn, seg, tc.ecn, tc.segSize)
		}
	}
}

func TestPutSendCmsgs(t *testing.T) {
	cases := []struct {
		seg  int
		ecn  uint8
		v4   bool
		want int
	}{
		{0, NotECT, true, 0},
		{1200, NotECT, true, cmsgSpace(2)},
		{0, ECT0, true, cmsgSpace(4)},
		{1452, CE, false, cmsgSpace(2) + cmsgSpace(4)},
	}
	for _, tc := range cases {
		b := make([]byte, sendCtrlLen)
		n := putSendCmsgs(b, tc.seg, tc.ecn, tc.v4)
		if n != tc.want || n > sendCtrlLen {
			t.Errorf("%+v: %d bytes, want %d", tc, n, tc.want)
			continue
		}
		// Read them back with x/sys's parser, an independent reading of
		// the cmsg(3) layout.
		msgs, err := unix.ParseSocketControlMessage(b[:n])
		if err != nil {
			t.Fatalf("%+v: %v", tc, err)
		}
		var seg int
		var ecn uint8
		for _, m := range msgs {
			level, typ, data := m.Header.Level, m.Header.Type, m.Data
			switch {
			case level == unix.IPPROTO_UDP && typ == unix.UDP_SEGMENT && len(data) >= 2:
				seg = int(binary.NativeEndian.Uint16(data))
			case level == unix.IPPROTO_IP && typ == unix.IP_TOS && tc.v4 && len(data) >= 4:
				ecn = uint8(binary.NativeEndian.Uint32(data))
			case level == unix.IPPROTO_IPV6 && typ == unix.IPV6_TCLASS && !tc.v4 && len(data) >= 4:
				ecn = uint8(binary.NativeEndian.Uint32(data))
			default:
				t.Fatalf("%+v: unexpected cmsg level %d type %d len %d", tc, level, typ, len(data))
			}
			wantLen := unix.CmsgLen(4)
			if typ == unix.UDP_SEGMENT {
				wantLen = unix.CmsgLen(2) // the kernel insists on a u16
			}
			if int(m.Header.Len) != wantLen {
				t.Errorf("%+v: cmsg length %d, want %d", tc, m.Header.Len, wantLen)
			}
		}
		if seg != tc.seg || ecn != tc.ecn {
			t.Errorf("%+v: read back seg %d ecn %d", tc, seg, ecn)
		}
	}
}

func TestSockaddr(t *testing.T) {
	cases := []struct {
		family int
		in     string
		ok     bool
		out    string // as read back
	}{
		{unix.AF_INET, "192.0.2.1:443", true, "192.0.2.1:443"},
		{unix.AF_INET, "[::ffff:192.0.2.1]:443", true, "192.0.2.1:443"},
		{unix.AF_INET, "[2001:db8::1]:443", false, ""},
		{unix.AF_INET6, "192.0.2.1:65535", true, "192.0.2.1:65535"},
		{unix.AF_INET6, "[2001:db8::1]:1", true, "[2001:db8::1]:1"},
		{unix.AF_INET6, "[fe80::1%7]:4433", true, "[fe80::1%7]:4433"},
	}
	for _, tc := range cases {
		var sa unix.RawSockaddrInet6
		_, ok := putSockaddr(&sa, tc.family, netip.MustParseAddrPort(tc.in))
		if ok != tc.ok {
			t.Errorf("%s on family %d: ok %v", tc.in, tc.family, ok)
			continue
		}
		if !ok {
			continue
		}
		if got := getSockaddr(&sa).String(); got != tc.out {
			t.Errorf("%s on family %d: read back %s, want %s", tc.in, tc.family, got, tc.out)
		}
	}
	var sa unix.RawSockaddrInet6
	if _, ok := putSockaddr(&sa, unix.AF_INET6, netip.AddrPort{}); ok {
		t.Error("the zero AddrPort was accepted")
	}
	sa.Family = unix.AF_UNIX
	if got := getSockaddr(&sa); got.IsValid() {
		t.Errorf("AF_UNIX read as %v", got)
	}
}

// FuzzParseRecvCmsgs feeds the control-message parser arbitrary bytes: it
// must not panic, must report a two-bit codepoint, and wherever x/sys's
// parser accepts the whole buffer, must agree with a reading built on it.
func FuzzParseRecvCmsgs(f *testing.F) {
	f.Add([]byte{})
	f.Add(recvCmsgs(int(ECT0), -1, -1))
	f.Add(recvCmsgs(-1, int(CE), 1452))
	f.Add(recvCmsgs(int(ECT1), int(ECT0), 1200))
	f.Add(recvCmsgs(int(CE), -1, -1)[:cmsgDataOff])
	f.Fuzz(func(t *testing.T, b []byte) {
		ecn, seg := parseRecvCmsgs(b)
		if ecn > 3 {
			t.Fatalf("ecn %d", ecn)
		}
		msgs, err := unix.ParseSocketControlMessage(b)
		if err != nil {
			return
		}
		var wantECN uint8
		var wantSeg int
		for _, m := range msgs {
			level, typ, d := m.Header.Level, m.Header.Type, m.Data
			switch {
			case level == unix.IPPROTO_IP && typ == unix.IP_TOS && len(d) >= 1:
				wantECN = d[0] & 3
			case level == unix.IPPROTO_IPV6 && typ == unix.IPV6_TCLASS && len(d) >= 4:
				wantECN = uint8(binary.NativeEndian.Uint32(d) & 3)
			case level == unix.IPPROTO_UDP && typ == unix.UDP_GRO && len(d) >= 4:
				wantSeg = int(int32(binary.NativeEndian.Uint32(d)))
			case level == unix.IPPROTO_UDP && typ == unix.UDP_GRO && len(d) >= 2:
				wantSeg = int(binary.NativeEndian.Uint16(d))
			}
		}
		if ecn != wantECN || seg != wantSeg {
			t.Fatalf("parsed ecn %d seg %d; x/sys framing gives %d %d", ecn, seg, wantECN, wantSeg)
		}
	})
}
