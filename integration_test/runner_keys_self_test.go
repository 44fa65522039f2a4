package integration_test

import (
	"bytes"
	"encoding/hex"
	"os"
	"strings"
	"testing"
)

// TestDecryptRFCSamples opens the sample client Initial packets of RFC 9001
// Appendix A.2 (v1) and RFC 9369 Appendix A.2 (v2) with the test's own
// decryptor: the packet number, the CRYPTO frame with the ClientHello and
// the padding must come out.
func TestDecryptRFCSamples(t *testing.T) {
	dcid := mustHex("8394c8f03e515708")
	for _, tc := range []struct {
		file    string
		version uint32
	}{
		{"testdata/rfc9001_client_initial.hex", versionV1},
		{"testdata/rfc9369_client_initial.hex", versionV2},
	} {
		t.Run(tc.file, func(t *testing.T) {
			raw, err := os.ReadFile(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			pkt, err := hex.DecodeString(strings.TrimSpace(string(raw)))
			if err != nil {
				t.Fatal(err)
			}
			hs := parseHeaders(pkt)
			if len(hs) != 1 || hs[0].kind != kindInitial || hs[0].version != tc.version || !bytes.Equal(hs[0].dcid, dcid) {
				t.Fatalf("headers %+v", hs)
			}
			k := initialKeys(tc.version, dcid, true)
			o, err := k.open(pkt, hs[0].size-int(lengthField(pkt, hs[0])), -1)
			if err != nil {
				t.Fatal(err)
			}
			if o.pn != 2 {
				t.Errorf("packet number %d, want 2", o.pn)
			}
			frames, err := parseFrames(o.payload)
			if err != nil {
				t.Fatal(err)
			}
			if len(frames) != 2 || frames[0].typ != frameCrypto || frames[1].typ != framePadding {
				t.Fatalf("frames %+v", frames)
			}
			var cs cryptoStream
			cs.add(frames[0].offset, frames[0].data)
			ch := tlsMessages(cs.contiguous())[tlsClientHello]
			if len(ch) != 1 || len(ch[0]) != 0xed {
				t.Fatalf("ClientHello: %d messages", len(ch))
			}
			// The wrong keys do not open it.
			if _, err := initialKeys(tc.version, dcid, false).open(pkt, 18, -1); err == nil {
				t.Error("opened with the server's keys")
			}
		})
	}
}

// TestDecodePacketNumber: RFC 9000 §A.3's example and edges.
func TestDecodePacketNumber(t *testing.T) {
	for _, tc := range []struct {
		largest   int64
		truncated uint64
		bits      int
		want      uint64
	}{
		{0xa82f30ea, 0x9b32, 16, 0xa82f9b32},
		{-1, 0, 8, 0},
		{-1, 5, 8, 5},
		{254, 0x01, 8, 257},
		{300, 0xff, 8, 255},
	} {
		if got := decodePacketNumber(tc.largest, tc.truncated, tc.bits); got != tc.want {
			t.Errorf("decode(%#x, %#x, %d) = %#x, want %#x", tc.largest, tc.truncated, tc.bits, got, tc.want)
		}
	}
}

// FuzzParseFrames: any payload is read without panic.
func FuzzParseFrames(f *testing.F) {
	f.Add([]byte{0x06, 0x00, 0x03, 'a', 'b', 'c', 0, 0, 0})
	f.Add([]byte{0x03, 0x05, 0x00, 0x01, 0x00, 0x02, 0x03, 0x01, 0x00, 0x00})
	f.Add([]byte{0x18, 0x01, 0x00, 0x04, 1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{0x0f, 0x04, 0x40, 0x10, 0x02, 'h', 'i'})
	f.Fuzz(func(t *testing.T, p []byte) {
		frames, _ := parseFrames(p)
		if len(frames) > len(p) {
			t.Fatalf("%d frames in %d bytes", len(frames), len(p))
		}
	})
}

// FuzzParseHeaders: any datagram is read without panic, and the packets
// found fit in it.
func FuzzParseHeaders(f *testing.F) {
	f.Add(longPacket(versionV1, 0, 1200))
	f.Add(cat(longPacket(versionV2, 3, 200), []byte{0x41, 1, 2, 3}))
	f.Add(cat([]byte{0xf0, 0, 0, 0, 1, 0, 4, 1, 2, 3, 4}, make([]byte, 20)))
	f.Fuzz(func(t *testing.T, d []byte) {
		n := 0
		for _, p := range parseHeaders(d) {
			n += p.size
		}
		if n > len(d) {
			t.Fatalf("packets of %d bytes in %d", n, len(d))
		}
	})
}
