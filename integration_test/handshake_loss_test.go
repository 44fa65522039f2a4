package integration_test

import (
	"context"
	"testing"
	"time"
)

// hooks chains hooks: the first that drops wins, delays add up.
func hooks(hs ...func(*datagramInfo) verdict) func(*datagramInfo) verdict {
	return func(d *datagramInfo) verdict {
		var v verdict
		for _, h := range hs {
			w := h(d)
			if w.Drop {
				return w
			}
			v.Delay += w.Delay
		}
		return v
	}
}

// TestHandshakePacketLoss drops targeted handshake datagrams, recognised by
// their long-header type: the first datagrams carrying Handshake packets in
// each direction, and the client's first Initial. Both sides must recover
// (RFC 9002 §6.2: PTO in the handshake spaces) and complete a request.
func TestHandshakePacketLoss(t *testing.T) {
	for _, tc := range []struct {
		name      string
		hook      func() func(*datagramInfo) verdict
		toServer  uint64 // datagrams the hook must drop, per direction
		toClient  uint64
		dropsKind packetKind
	}{
		{"first Initial from the client", func() func(*datagramInfo) verdict {
			return dropFirst(toServer, kindInitial, 1)
		}, 1, 0, kindInitial},
		{"first server Handshake datagrams", func() func(*datagramInfo) verdict {
			return dropFirst(toClient, kindHandshake, 2)
		}, 0, 2, kindHandshake},
		{"first Handshake datagram each way", func() func(*datagramInfo) verdict {
			return hooks(dropFirst(toClient, kindHandshake, 1), dropFirst(toServer, kindHandshake, 1))
		}, 1, 1, kindHandshake},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, p := range pairings {
				t.Run(p.name(), func(t *testing.T) {
					t.Parallel()
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					defer cancel()
					c, px := connectVia(t, ctx, p, proxyConfig{Hook: tc.hook()}, peerOptions{}, peerOptions{})
					if err := get(ctx, c, 1000, 9); err != nil {
						logProxy(t, px)
						t.Fatal(err)
					}
					for _, d := range []struct {
						dir  direction
						want uint64
					}{{toServer, tc.toServer}, {toClient, tc.toClient}} {
						s := px.stats(d.dir)
						if s.HookDropped != d.want {
							t.Errorf("%v: dropped %d datagrams, want %d", d.dir, s.HookDropped, d.want)
						}
						if d.want > 0 && s.Packets[tc.dropsKind] <= d.want {
							t.Errorf("%v: %d %v packets seen: none was sent again", d.dir, s.Packets[tc.dropsKind], tc.dropsKind)
						}
					}
				})
			}
		})
	}
}
