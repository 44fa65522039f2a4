package quic

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"testing/synctest"

	"github.com/tsumugi-quic/tsumugi/internal/quictest"
	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

// Attacks on streams: reassembly memory and the stream rules of RFC 9000
// §4 and §19, each while a bystander connection keeps its service.

// TestAttackGapExplosion: a peer fills one stream's window with one-byte
// STREAM frames at every other offset, the worst case for reassembly (a
// gap per byte). The stream keeps data in 16 KiB chunks with a presence
// bitmap (stream package), so the memory it holds is bounded by the window
// plus an eighth, whatever the pattern of gaps, instead of growing with the
// number of gaps. Once the peer fills the gaps, the application reads every
// byte in order.
func TestAttackGapExplosion(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const window = 256 << 10
		tn := newTestNet(t)
		conf := &Config{InitialStreamReceiveWindow: window, MaxStreamReceiveWindow: window}
		p, sc, ln := tn.peerPair(conf, quictest.DefaultParams())
		data := bystanderData(window)
		// Open the stream with its first byte and let the application
		// take it, so that the heap baseline includes the stream itself.
		p.SendFrames(wire.Packet1RTT, streamF(0, 0, string(data[:1]), false))
		s, err := sc.AcceptStream(testCtx(t))
		if err != nil {
			t.Fatal(err)
		}
		first := make([]byte, 1)
		if _, err := io.ReadFull(s, first); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		before := liveHeap()

		by := startBystander(t, tn, ln, 1<<20, nil)
		// Bytes 2, 4, 6, ... up to the end of the window: 128 Ki gaps.
		// Each packet holds as many one-byte frames as fit.
		sendSparse := func(from int) int {
			frames := 0
			var fs []quictest.Frame
			size := 0
			for off := from; off < window; off += 2 {
				f := streamF(0, uint64(off), string(data[off:off+1]), false)
				fs = append(fs, f)
				size += len(f.Append(nil))
				if size > 1100 || off+2 >= window {
					if err := p.SendFrames(wire.Packet1RTT, fs...); err != nil {
						t.Fatal(err)
					}
					frames += len(fs)
					fs, size = fs[:0], 0
					if frames%(64*140) < 140 {
						synctest.Wait()
					}
				}
			}
			synctest.Wait()
			return frames
		}
		n := sendSparse(2)
		grown := int64(liveHeap()) - int64(before)
		t.Logf("%d one-byte frames with a gap after each: stream holds %d KiB more heap for a %d KiB window", n, grown>>10, window>>10)
		// The window's chunks (256 KiB) and their bitmaps (32 KiB), with
		// room for the runtime's noise; a node per gap would cost several
		// MiB.
		if bound := int64(window + window/8 + 384<<10); grown > bound {
			t.Errorf("gap explosion grew the heap by %d bytes, beyond %d", grown, bound)
		}
		// Anything past the window is a FLOW_CONTROL_ERROR (covered by
		// TestProtocolErrors "beyond-stream-window"); here the peer plays
		// fair again: it fills the gaps and ends the stream, and the
		// application reads every byte in order.
		sendSparse(1)
		p.SendFrames(wire.Packet1RTT, streamF(0, window, "", true))
		got, err := io.ReadAll(s)
		if err != nil {
			t.Fatalf("read after the gaps were filled: %v", err)
		}
		if !bytes.Equal(append(first, got...), data) {
			t.Fatalf("reassembled %d bytes, not the %d sent", len(got)+1, len(data))
		}
		by.wait(t)
	})
}

// attackErrorCases names the cases of errorCases (errors_test.go) that
// the attacks of issue 9 reuse: each runs again with a bystander.
var attackErrorCases = []string{
	"beyond-max-streams-bidi",        // STREAM_LIMIT_ERROR (RFC 9000 §4.6)
	"beyond-max-streams-uni",         //
	"beyond-max-streams-by-reset",    //
	"max-streams-above-2^60",         // FRAME_ENCODING_ERROR (§19.11)
	"stream-on-our-send-only-stream", // STREAM_STATE_ERROR (§19.8)
	"stream-on-our-unopened-send-only-stream",
	"data-beyond-final-size",   // FINAL_SIZE_ERROR (§4.5)
	"fin-below-received-data",  //
	"reset-final-size-differs", //
	"beyond-stream-window",     // FLOW_CONTROL_ERROR (§4.1)
	"beyond-connection-window", //
	"beyond-connection-window-by-offset",
	"crypto-far-ahead",                // CRYPTO_BUFFER_EXCEEDED (§7.5)
	"ack-of-unsent-packet",            // PROTOCOL_VIOLATION (§13.1)
	"new-connection-ids-beyond-limit", // CONNECTION_ID_LIMIT_ERROR (§5.1.1)
	"retire-unissued-connection-id",   // PROTOCOL_VIOLATION (§19.16)
}

// TestAttackProtocolViolationsWithBystander: the violations of
// TestProtocolErrors that issue 9 lists, each while a bystander connection
// to the same server echoes 256 KiB: the attacker's connection closes with
// the RFC's code and the bystander's transfer completes whole.
func TestAttackProtocolViolationsWithBystander(t *testing.T) {
	byName := map[string]errorCase{}
	for _, tc := range errorCases {
		byName[tc.name] = tc
	}
	for _, name := range attackErrorCases {
		tc, ok := byName[name]
		if !ok {
			t.Fatalf("errorCases has no case %q", name)
		}
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tn := newTestNet(t)
				params := quictest.DefaultParams()
				if tc.params != nil {
					tc.params(&params)
				}
				p, sc, ln := tn.peerPair(tc.conf, params)
				if tc.setup != nil {
					tc.setup(t, p, sc)
				}
				by := startBystander(t, tn, ln, 256<<10, nil)
				synctest.Wait()
				for _, f := range tc.frames {
					if err := p.SendFrames(wire.Packet1RTT, f); err != nil {
						t.Fatal(err)
					}
				}
				expectClose(t, p, false, uint64(tc.code))
				<-sc.Context().Done()
				var te *TransportError
				if cause := context.Cause(sc.Context()); !errors.As(cause, &te) || te.Code != tc.code {
					t.Errorf("Context cause %v, want %v", cause, tc.code)
				}
				by.wait(t)
				if err := by.conn.Context().Err(); err != nil {
					t.Errorf("the bystander's connection ended: %v", context.Cause(by.conn.Context()))
				}
			})
		})
	}
}

// TestAttackTinyStreams: a peer opens every stream it may (100
// bidirectional, 100 unidirectional by default) with one byte each, which
// the application never reads. Each such stream holds its state and one
// 16 KiB chunk of receive buffer: the cost of an unread stream is bounded
// by MaxIncomingStreams + MaxIncomingUniStreams, whatever the data. The
// test measures it (docs/security.md quotes the figure).
func TestAttackTinyStreams(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tn := newTestNet(t)
		p, sc, ln := tn.peerPair(nil, quictest.DefaultParams())
		by := startBystander(t, tn, ln, 256<<10, nil)
		synctest.Wait()
		before := liveHeap()
		const perType = defaultMaxIncomingStreams
		var fs []quictest.Frame
		for i := range uint64(perType) {
			fs = append(fs, streamF(4*i, 0, "x", false), streamF(4*i+2, 0, "x", false))
			if len(fs) == 40 {
				p.SendFrames(wire.Packet1RTT, fs...)
				fs = fs[:0]
			}
		}
		synctest.Wait()
		per := (int64(liveHeap()) - int64(before)) / (2 * perType)
		t.Logf("%d streams holding one unread byte each: %d bytes of heap per stream", 2*perType, per)
		if per > 24<<10 {
			t.Errorf("a stream with one unread byte holds %d bytes", per)
		}
		// One more of either type is beyond MAX_STREAMS.
		p.SendFrames(wire.Packet1RTT, streamF(4*perType, 0, "x", false))
		expectClose(t, p, false, uint64(wire.StreamLimitError))
		<-sc.Context().Done()
		by.wait(t)
	})
}

// TestStreamChurnReturnsCredit: a peer that opens stream after stream,
// within the limit at any moment, can go on for as long as it likes: each
// stream the application has finished with is forgotten, freeing its
// memory and raising MAX_STREAMS (RFC 9000 §4.6), whatever event finishes
// it last. "uni": the application's Read of the FIN; "bidi-read-last": the
// same, after the application's answer was acknowledged; "bidi-close-last":
// the application's Close of a stream whose FIN arrived unread.
func TestStreamChurnReturnsCredit(t *testing.T) {
	for _, mode := range []string{"uni", "bidi-read-last", "bidi-close-last"} {
		t.Run(mode, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tn := newTestNet(t)
				const limit, total = 10, 30
				bidi := mode != "uni"
				p, sc, _ := tn.peerPair(&Config{MaxIncomingStreams: limit, MaxIncomingUniStreams: limit}, quictest.DefaultParams())
				p.AutoAck = true
				finSent := make(chan struct{})
				served := make(chan error, 1)
				go func() {
					for range total {
						if !bidi {
							s, err := sc.AcceptUniStream(testCtx(t))
							if err == nil {
								_, err = io.ReadAll(s)
							}
							if err != nil {
								served <- err
								return
							}
							continue
						}
						s, err := sc.AcceptStream(testCtx(t))
						if err != nil {
							served <- err
							return
						}
						s.Write([]byte("answer"))
						s.CloseWrite()
						if err := s.WaitAcked(testCtx(t)); err != nil {
							served <- err
							return
						}
						if mode == "bidi-read-last" {
							if _, err := io.ReadAll(s); err != nil {
								served <- err
								return
							}
						} else {
							<-finSent
						}
						s.Close()
					}
					served <- nil
				}()
				maxStreams := uint64(limit)
				for i := range uint64(total) {
					for i >= maxStreams {
						f, _, err := quictest.ExpectFrame(testCtx(t), p, func(f wire.MaxStreamsFrame) bool { return f.Bidi == bidi })
						if err != nil {
							t.Fatalf("stream %d: no MAX_STREAMS beyond %d after the application finished %d streams: %v", i, maxStreams, i, err)
						}
						maxStreams = max(maxStreams, f.Max)
					}
					id := 4*i + 2
					if bidi {
						id = 4 * i
					}
					p.SendFrames(wire.Packet1RTT, streamF(id, 0, "request", false))
					if bidi {
						// The answer arrives and is acknowledged first.
						quictest.ExpectFrame(testCtx(t), p, func(f wire.StreamFrame) bool { return f.StreamID == id && f.Fin })
						p.AckAll()
						synctest.Wait()
					}
					p.SendFrames(wire.Packet1RTT, streamF(id, 7, "", true))
					if mode == "bidi-close-last" {
						synctest.Wait()
						finSent <- struct{}{}
					}
				}
				if err := <-served; err != nil {
					t.Fatal(err)
				}
			})
		})
	}
}
