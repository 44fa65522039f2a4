package quictest

import (
	"testing"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

// FuzzParseFrames: any payload parses to frames or an error, never a
// panic, and the frames account for the whole payload.
func FuzzParseFrames(f *testing.F) {
	seeds := [][]byte{
		{},
		{0, 0, 1},
		(&wire.AckFrame{Ranges: []wire.AckRange{{Smallest: 3, Largest: 7}, {Smallest: 0, Largest: 1}}}).Append(nil),
		(&wire.CryptoFrame{Offset: 5, Data: []byte("hello")}).Append(nil),
		(&StreamFrame{StreamID: 4, Offset: 9, Data: []byte("x"), Fin: true}).Append(nil),
		(&LastStreamFrame{StreamID: 4, Data: []byte("rest")}).Append(nil),
		(&wire.NewConnectionIDFrame{Seq: 2, ConnID: []byte{1, 2, 3, 4}}).Append(nil),
		(&wire.ConnectionCloseFrame{App: true, Code: 9, Reason: []byte("r")}).Append(nil),
		{0x21},
		{0x10, 0xc0},
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		frames, padding, err := ParseFrames(b)
		if err == nil && len(frames) == 0 && padding != len(b) {
			t.Fatalf("%x: no frames, %d bytes of padding", b, padding)
		}
		for _, fr := range frames {
			_ = FrameName(fr)
		}
	})
}
