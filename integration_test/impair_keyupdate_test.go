package integration_test

import (
	"context"
	"testing"
	"time"
)

// TestKeyUpdateUnderImpairment: Tsumugi starts a key update every 300
// packets (RFC 9001 §6) during a 10 MB transfer through loss, reordering
// and duplication, so that packets of the old key phase keep arriving after
// the switch and retransmissions cross it. The peers must follow every
// update and the bytes arrive intact.
func TestKeyUpdateUnderImpairment(t *testing.T) {
	ku := peerOptions{keyUpdateInterval: 300}
	cfg := both(impairment{Loss: 0.03, Reorder: 0.03, ReorderPackets: 4, Duplicate: 0.02})
	for _, p := range pairings {
		t.Run(p.name(), func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			cfg := cfg
			cfg.Seed = 21
			c, px := connectVia(t, ctx, p, cfg, ku, ku)
			err := get(ctx, c, 10<<20, 22)
			logProxy(t, px)
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}
