package stream

import (
	"testing"
	"time"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

const (
	noErr        = -1
	flowErr      = int(wire.FlowControlError)
	finalSizeErr = int(wire.FinalSizeError)
	stateErr     = int(wire.StreamStateError)
)

// TestRecvStates covers every transition of RFC 9000 §3.2 and the receive
// side's error codes. The stream is stream 0 seen by the server (both
// halves), with a 1000-byte window.
func TestRecvStates(t *testing.T) {
	tests := []struct {
		name    string
		ops     []string
		state   recvState
		code    int    // transport error of the last op
		readErr string // errKind of the last read
		next    string // frames of one more pull, described
	}{
		{"new stream", nil, recvRecv, noErr, "", ""},
		{"Recv stays with data", []string{"data 0 10"}, recvRecv, noErr, "", ""},
		{"Recv -> Size Known", []string{"data 10 10 fin"}, recvSizeKnown, noErr, "", ""},
		{"Size Known -> Data Recvd", []string{"data 10 10 fin", "data 0 10"}, recvDataRecvd, noErr, "", ""},
		{"Recv -> Data Recvd in one frame", []string{"data 0 10 fin"}, recvDataRecvd, noErr, "", ""},
		{"empty FIN", []string{"data 0 0 fin"}, recvDataRecvd, noErr, "", ""},
		{"Data Recvd -> Data Read", []string{"data 0 10 fin", "read"}, recvDataRead, noErr, "", ""},
		{"EOF after data", []string{"data 0 10 fin", "read", "read"}, recvDataRead, noErr, "EOF", ""},
		{"empty stream EOF", []string{"data 0 0 fin", "read"}, recvDataRead, noErr, "EOF", ""},
		{"Recv -> Reset Recvd", []string{"data 0 10", "reset 5 100"}, recvResetRecvd, noErr, "", ""},
		{"Size Known -> Reset Recvd", []string{"data 10 10 fin", "reset 5 20"}, recvResetRecvd, noErr, "", ""},
		{"Reset Recvd -> Reset Read", []string{"data 0 10", "reset 5 100", "read"}, recvResetRead, noErr, "remote 5", ""},
		{"Reset Read repeats the error", []string{"reset 5 100", "read", "read"}, recvResetRead, noErr, "remote 5", ""},
		{"Data Recvd suppresses reset", []string{"data 0 10 fin", "reset 5 10", "read"}, recvDataRead, noErr, "", ""},
		{"late data after reset", []string{"reset 5 100", "data 0 10"}, recvResetRecvd, noErr, "", ""},
		{"late data after Data Read", []string{"data 0 10 fin", "read", "data 0 10 fin"}, recvDataRead, noErr, "", ""},
		{"late reset after Data Read", []string{"data 0 10 fin", "read", "reset 1 10"}, recvDataRead, noErr, "", ""},

		// Flow control, RFC 9000 §4.1.
		{"data at the limit", []string{"data 990 10"}, recvRecv, noErr, "", ""},
		{"data beyond the limit", []string{"data 995 10"}, recvRecv, flowErr, "", ""},
		{"offset overflow", []string{"data 18446744073709551610 10"}, recvRecv, flowErr, "", ""},
		{"reset beyond the limit", []string{"reset 0 1001"}, recvRecv, flowErr, "", ""},
		{"MAX_STREAM_DATA after reading half", []string{"data 0 600", "read", "pull"}, recvRecv, noErr, "", ""},

		// Final size, RFC 9000 §4.5.
		{"final size changed", []string{"data 0 10 fin", "data 0 12 fin"}, recvDataRecvd, finalSizeErr, "", ""},
		{"final size shrunk", []string{"data 0 10 fin", "data 0 8 fin"}, recvDataRecvd, finalSizeErr, "", ""},
		{"fin below received data", []string{"data 0 10", "data 0 5 fin"}, recvRecv, finalSizeErr, "", ""},
		{"data beyond final size", []string{"data 0 10 fin", "data 10 1"}, recvDataRecvd, finalSizeErr, "", ""},
		{"data beyond final size after read", []string{"data 0 10 fin", "read", "data 5 6"}, recvDataRead, finalSizeErr, "", ""},
		{"reset changes final size", []string{"data 0 10 fin", "reset 1 11"}, recvDataRecvd, finalSizeErr, "", ""},
		{"reset below received data", []string{"data 0 10", "reset 1 9"}, recvRecv, finalSizeErr, "", ""},
		{"second reset changes final size", []string{"reset 1 10", "reset 1 20"}, recvResetRecvd, finalSizeErr, "", ""},
		{"data beyond reset final size", []string{"reset 1 10", "data 5 10"}, recvResetRecvd, finalSizeErr, "", ""},
		{"STREAM_DATA_BLOCKED is fine", []string{"blockedframe 1000"}, recvRecv, noErr, "", ""},

		// The application abandons reading (RFC 9000 §3.5).
		{"CancelRead in Recv sends STOP_SENDING", []string{"data 0 10", "cancelread 7"}, recvRecv, noErr, "", "stop 7"},
		{"read after CancelRead", []string{"data 0 10", "cancelread 7", "read"}, recvRecv, noErr, "local 7", "stop 7"},
		{"CancelRead then reset", []string{"cancelread 7", "pull", "reset 7 50"}, recvResetRead, noErr, "", ""},
		{"CancelRead then FIN", []string{"cancelread 7", "pull", "data 0 50 fin"}, recvDataRead, noErr, "", ""},
		{"CancelRead in Size Known", []string{"data 10 10 fin", "cancelread 7"}, recvDataRead, noErr, "", ""},
		{"CancelRead in Data Recvd", []string{"data 0 10 fin", "cancelread 7"}, recvDataRead, noErr, "", ""},
		{"CancelRead in Reset Recvd", []string{"reset 1 10", "cancelread 7"}, recvResetRead, noErr, "", ""},
		{"Close sends STOP_SENDING 0", []string{"data 0 10", "close", "read"}, recvRecv, noErr, "closed", "stop 0; stream 0+0 fin"},
		{"Close after FIN: no STOP_SENDING", []string{"data 0 10 fin", "close", "read"}, recvDataRead, noErr, "closed", "stream 0+0 fin"},
		{"STOP_SENDING lost: sent again", []string{"cancelread 7", "pull", "lose"}, recvRecv, noErr, "", "stop 7"},
		{"STOP_SENDING acked: not again", []string{"cancelread 7", "pull", "ack", "lose"}, recvRecv, noErr, "", ""},
		{"STOP_SENDING lost after reset: not again", []string{"cancelread 7", "pull", "reset 7 0", "lose"}, recvResetRead, noErr, "", ""},
		{"MAX_STREAM_DATA lost: sent again", []string{"data 0 600", "read", "pull", "lose"}, recvRecv, noErr, "", "max 1600"},
		{"MAX_STREAM_DATA lost: current value", []string{"data 0 600", "read", "pull", "data 600 700", "read", "lose"}, recvRecv, noErr, "", "max 2300"},
		{"MAX_STREAM_DATA acked: not again", []string{"data 0 600", "read", "pull", "ack", "lose"}, recvRecv, noErr, "", ""},
		{"MAX_STREAM_DATA lost after FIN: not again", []string{"data 0 600", "read", "pull", "data 700 10 fin", "lose"}, recvSizeKnown, noErr, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(0, false, &testOwner{}, Config{InitialWindow: 1000, MaxWindow: 1000})
			s := newScript(t, c)
			s.run(tt.ops)
			if got := recvStateOf(c); got != tt.state {
				t.Errorf("state %v, want %v", got, tt.state)
			}
			if s.lastCode != tt.code {
				t.Errorf("error code %#x, want %#x", s.lastCode, tt.code)
			}
			if got := errKind(s.lastErr); got != tt.readErr {
				t.Errorf("read error %q, want %q", got, tt.readErr)
			}
			frames, _ := pull(t, c)
			if got := describe(frames); got != tt.next {
				t.Errorf("next packet %q, want %q", got, tt.next)
			}
		})
	}
}

// TestRecvMaxStreamData checks when MAX_STREAM_DATA goes out: only for
// consumed data, when less than half the window remains.
func TestRecvMaxStreamData(t *testing.T) {
	c := New(0, false, &testOwner{}, Config{InitialWindow: 1000, MaxWindow: 1000})
	s := newScript(t, c)
	s.run([]string{"data 0 1000", "pull"})
	if d := describe(s.lastFrames); d != "" {
		t.Errorf("unread data granted credit: %q", d)
	}
	buf := make([]byte, 400)
	c.read(buf) // 600 of the window remain: no update yet
	if f, _ := pull(t, c); describe(f) != "" {
		t.Errorf("update before half the window was consumed: %q", describe(f))
	}
	c.read(buf[:200]) // 400 remain < 500
	if f, _ := pull(t, c); describe(f) != "max 1600" {
		t.Errorf("update = %q, want max 1600", describe(f))
	}
	if w := c.Work(); w != 0 {
		t.Errorf("Work after the update was sent: %v", w)
	}
}

// TestRecvAutoTune checks that a window consumed within two RTTs doubles,
// up to MaxWindow, and that a reader slower than that keeps its window.
func TestRecvAutoTune(t *testing.T) {
	for _, tt := range []struct {
		name string
		rtt  time.Duration
		want uint64
	}{
		{"fast reader", time.Hour, 4000},
		{"no RTT estimate", 0, 1000},
		{"slow reader", time.Nanosecond, 1000},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := New(0, false, &testOwner{rtt: tt.rtt}, Config{InitialWindow: 1000, MaxWindow: 4000})
			buf := make([]byte, 100)
			off := uint64(0)
			for range 200 {
				c.recv.mu.Lock()
				room := c.recv.limit - off
				c.recv.mu.Unlock()
				n := min(room, 100)
				if _, err := c.HandleStream(wire.StreamFrame{Offset: off, Data: pattern(off, int(n))}); err != nil {
					t.Fatal(err)
				}
				off += n
				if _, err := c.read(buf); err != nil {
					t.Fatal(err)
				}
			}
			c.recv.mu.Lock()
			defer c.recv.mu.Unlock()
			if c.recv.window != tt.want {
				t.Errorf("window %d, want %d", c.recv.window, tt.want)
			}
			if c.recv.limit-c.recv.buf.Offset() > c.recv.window {
				t.Errorf("limit %d more than a window past the read offset %d", c.recv.limit, c.recv.buf.Offset())
			}
		})
	}
}

// TestWrongDirection: frames for a direction the stream does not have are
// STREAM_STATE_ERROR (RFC 9000 §19.4, §19.5, §19.8, §19.10, §19.13).
func TestWrongDirection(t *testing.T) {
	sendOnly := New(2, true, &testOwner{}, Config{})  // client's own uni stream
	recvOnly := New(2, false, &testOwner{}, Config{}) // the server's view of it
	tests := []struct {
		name string
		c    *Core
		op   string
	}{
		{"STREAM on send-only", sendOnly, "data 0 1"},
		{"RESET_STREAM on send-only", sendOnly, "reset 0 0"},
		{"STREAM_DATA_BLOCKED on send-only", sendOnly, "blockedframe 0"},
		{"STOP_SENDING on receive-only", recvOnly, "stop 0"},
		{"MAX_STREAM_DATA on receive-only", recvOnly, "maxdata 10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newScript(t, tt.c)
			s.run([]string{tt.op})
			if s.lastCode != stateErr {
				t.Errorf("code %#x, want STREAM_STATE_ERROR", s.lastCode)
			}
		})
	}
}

// TestDiscardedDataCredit: bytes that will never be read return to the
// connection's window at once (RFC 9000 §4.5).
func TestDiscardedDataCredit(t *testing.T) {
	tests := []struct {
		name string
		ops  []string
		want int
	}{
		{"read", []string{"data 0 100", "read"}, 100},
		{"unread data then reset", []string{"data 0 100", "reset 1 300"}, 300},
		{"cancel then more data", []string{"data 0 100", "cancelread 1", "data 100 50", "data 400 10"}, 410},
		{"close then FIN", []string{"data 0 100", "close", "data 100 20 fin"}, 120},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := &testOwner{}
			c := New(0, false, o, Config{InitialWindow: 1000})
			newScript(t, c).run(tt.ops)
			if _, got := o.counts(); got != tt.want {
				t.Errorf("Consumed total %d, want %d", got, tt.want)
			}
		})
	}
}
