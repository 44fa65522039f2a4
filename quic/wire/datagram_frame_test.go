package wire

import (
	"bytes"
	"testing"
)

// datagramFrameLen is a DatagramFrame always encoded with its Length field.
type datagramFrameLen DatagramFrame

func (f *datagramFrameLen) Len() int               { return (*DatagramFrame)(f).Len(true) }
func (f *datagramFrameLen) Append(b []byte) []byte { return (*DatagramFrame)(f).Append(b, true) }

func parseDatagramFrameLen(b []byte) (datagramFrameLen, int, error) {
	f, n, err := ParseDatagramFrame(b)
	return datagramFrameLen(f), n, err
}

func TestDatagramFrameRoundTrip(t *testing.T) {
	for _, dl := range []int{0, 1, 63, 64, 16383, 16384} {
		f := DatagramFrame{Data: byteSeq(dl)}
		checkFrame(t, datagramFrameLen(f), parseDatagramFrameLen)
		if DatagramFrameLen(dl, true) != f.Len(true) || DatagramFrameLen(dl, false) != f.Len(false) {
			t.Fatalf("DatagramFrameLen(%d) disagrees with Len", dl)
		}
		// Without Length: the frame runs to the end of the payload.
		b := f.Append(nil, false)
		if len(b) != f.Len(false) || b[0] != byte(FrameTypeDatagram) {
			t.Fatalf("no-Length encoding %x..., Len(false) = %d", b[:1], f.Len(false))
		}
		for i := 0; i <= len(b); i += 1 + i/64 {
			g, n, err := ParseDatagramFrame(b[:i])
			if i == 0 {
				if err == nil {
					t.Fatal("empty input parsed")
				}
				continue
			}
			if err != nil || n != i || !bytes.Equal(g.Data, f.Data[:i-1]) {
				t.Fatalf("%d-byte prefix: %d bytes of data, n=%d, %v", i, len(g.Data), n, err)
			}
		}
	}
	checkNoAllocs(t, datagramFrameLen{Data: byteSeq(1000)}, parseDatagramFrameLen)
}

func TestDatagramFrameGolden(t *testing.T) {
	for _, tc := range []struct {
		data    string
		withLen bool
		hex     string
	}{
		{"hi", true, "31 02 6869"},
		{"hi", false, "30 6869"},
		{"", true, "31 00"},
		{"", false, "30"},
	} {
		f := DatagramFrame{Data: []byte(tc.data)}
		w := mustHex(t, tc.hex)
		if got := f.Append(nil, tc.withLen); !bytes.Equal(got, w) {
			t.Errorf("Append(%q, %v) = %x, want %x", tc.data, tc.withLen, got, w)
		}
		g, n, err := ParseDatagramFrame(w)
		if err != nil || n != len(w) || string(g.Data) != tc.data {
			t.Errorf("parse(%x) = %+v, %d, %v", w, g, n, err)
		}
	}
}

func TestDatagramFrameErrors(t *testing.T) {
	for _, tc := range []struct {
		name, hex string
		ft        FrameType
	}{
		{"empty", "", FrameTypeDatagram},
		{"not DATAGRAM", "32 00", FrameTypeDatagram},
		{"length past the packet", "31 03 6869", FrameTypeDatagramLen},
		{"truncated length", "31 80 00", FrameTypeDatagramLen},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, n, err := ParseDatagramFrame(mustHex(t, tc.hex))
			if err == nil {
				t.Fatalf("parsed %+v, %d", f, n)
			}
			checkFrameError(t, err, FrameEncodingError, tc.ft, true)
		})
	}
}
