package stream

import (
	"context"
	"testing"
)

// TestSendStates covers every transition of RFC 9000 §3.1 and the frames
// each produces. The stream is stream 0 seen by the client, whose peer
// allows 1000 bytes.
func TestSendStates(t *testing.T) {
	tests := []struct {
		name     string
		peer     uint64 // PeerInitialMaxData
		ops      []string
		state    sendState
		last     string // frames of the last pull
		writeErr string // errKind of the last write
		next     string // frames of one more pull
		work     Work   // Work() before that pull
	}{
		{"new stream", 1000, nil, sendReady, "", "", "", 0},
		{"buffered only", 1000, []string{"write 10"}, sendReady, "", "", "stream 0+10", WorkNewData},
		{"Ready -> Send", 1000, []string{"write 10", "pull"}, sendSend, "stream 0+10", "", "", 0},
		{"Send -> Data Sent", 1000, []string{"write 10", "pull", "closewrite", "pull"}, sendDataSent, "stream 10+0 fin", "", "", 0},
		{"FIN with the data", 1000, []string{"write 10", "closewrite", "pull"}, sendDataSent, "stream 0+10 fin", "", "", 0},
		{"Ready -> Data Sent: empty stream", 1000, []string{"closewrite", "pull"}, sendDataSent, "stream 0+0 fin", "", "", 0},
		{"Data Sent -> Data Recvd", 1000, []string{"write 10", "closewrite", "pull", "ack"}, sendDataRecvd, "stream 0+10 fin", "", "", 0},
		{"data acked, FIN not yet", 1000, []string{"write 10", "pull", "ack", "closewrite", "pull"}, sendDataSent, "stream 10+0 fin", "", "", 0},
		{"Ready -> Reset Sent", 1000, []string{"write 10", "cancelwrite 3"}, sendResetSent, "", "", "reset 3/0", WorkControl},
		{"Send -> Reset Sent", 1000, []string{"write 10", "pull", "write 5", "cancelwrite 3", "pull"}, sendResetSent, "reset 3/10", "", "", 0},
		{"Data Sent -> Reset Sent", 1000, []string{"write 10", "closewrite", "pull", "cancelwrite 3", "pull"}, sendResetSent, "reset 3/10", "", "", 0},
		{"Reset Sent -> Reset Recvd", 1000, []string{"cancelwrite 3", "pull", "ack"}, sendResetRecvd, "reset 3/0", "", "", 0},
		{"write after reset", 1000, []string{"cancelwrite 3", "write 1"}, sendResetSent, "", "local 3", "reset 3/0", WorkControl},
		{"no reset after Data Recvd", 1000, []string{"closewrite", "pull", "ack", "cancelwrite 3"}, sendDataRecvd, "stream 0+0 fin", "", "", 0},
		{"RESET_STREAM lost: sent again", 1000, []string{"cancelwrite 3", "pull", "lose"}, sendResetSent, "reset 3/0", "", "reset 3/0", WorkControl},
		{"RESET_STREAM acked: not again", 1000, []string{"cancelwrite 3", "pull", "ack", "lose"}, sendResetRecvd, "reset 3/0", "", "", 0},
		{"data lost after reset: not re-sent", 1000, []string{"write 10", "pull", "cancelwrite 3", "lose"}, sendResetSent, "stream 0+10", "", "reset 3/10", WorkControl},

		// STOP_SENDING from the peer, RFC 9000 §3.5.
		{"STOP_SENDING in Ready", 1000, []string{"stop 9", "pull"}, sendResetSent, "reset 9/0", "", "", 0},
		{"STOP_SENDING in Send", 1000, []string{"write 10", "pull", "stop 9", "write 1"}, sendResetSent, "stream 0+10", "remote 9", "reset 9/10", WorkControl},
		{"STOP_SENDING in Data Sent: deferred", 1000, []string{"write 10", "closewrite", "pull", "stop 9", "pull"}, sendDataSent, "", "", "", 0},
		{"STOP_SENDING in Data Sent, then acked", 1000, []string{"write 10", "closewrite", "pull", "stop 9", "ack"}, sendDataRecvd, "stream 0+10 fin", "", "", 0},
		{"STOP_SENDING in Data Sent, then lost", 1000, []string{"write 10", "closewrite", "pull", "stop 9", "lose"}, sendResetSent, "stream 0+10 fin", "", "reset 9/10", WorkControl},
		{"STOP_SENDING in Data Sent with data lost", 1000, []string{"write 10", "closewrite", "pull", "lose", "stop 9", "pull"}, sendResetSent, "reset 9/10", "", "", 0},
		{"STOP_SENDING after Data Recvd", 1000, []string{"write 10", "closewrite", "pull", "ack", "stop 9", "pull"}, sendDataRecvd, "", "", "", 0},

		// Retransmission.
		{"lost data re-sent", 1000, []string{"write 10", "pull", "lose", "pull"}, sendSend, "stream 0+10", "", "", 0},
		{"lost data with FIN re-sent", 1000, []string{"write 10", "closewrite", "pull", "lose"}, sendDataSent, "stream 0+10 fin", "", "stream 0+10 fin", WorkRetransmit},
		{"lost FIN alone re-sent", 1000, []string{"write 10", "pull", "ack", "closewrite", "pull", "lose"}, sendDataSent, "stream 10+0 fin", "", "stream 10+0 fin", WorkRetransmit},
		{"lost data, FIN acked", 1000, []string{"write 10", "pull", "closewrite", "pull", "ack", "ack"}, sendDataSent, "stream 10+0 fin", "", "", 0},
		{"acked after lost: nothing to re-send", 1000, []string{"write 10", "pull", "lose", "ack"}, sendSend, "stream 0+10", "", "", 0},

		// Flow control, RFC 9000 §4.1.
		{"blocked at the limit", 5, []string{"write 10", "pull"}, sendSend, "stream 0+5", "", "blocked 5", WorkControl},
		{"blocked from the start", 0, []string{"write 10", "pull"}, sendSend, "blocked 0", "", "", 0},
		{"blocked once per limit", 5, []string{"write 10", "pull", "pull", "write 10", "pull"}, sendSend, "", "", "", 0},
		{"MAX_STREAM_DATA unblocks", 5, []string{"write 10", "pull", "pull", "maxdata 8", "pull"}, sendSend, "stream 5+3", "", "blocked 8", WorkControl},
		{"MAX_STREAM_DATA decrease ignored", 5, []string{"write 10", "pull", "pull", "maxdata 3"}, sendSend, "blocked 5", "", "", 0},
		{"STREAM_DATA_BLOCKED lost: sent again", 0, []string{"write 10", "pull", "lose"}, sendSend, "blocked 0", "", "blocked 0", WorkControl},
		{"STREAM_DATA_BLOCKED lost after credit: not again", 0, []string{"write 10", "pull", "maxdata 20", "lose"}, sendSend, "blocked 0", "", "stream 0+10", WorkNewData},
		{"pending STREAM_DATA_BLOCKED dropped by credit", 5, []string{"write 10", "pull", "maxdata 20", "pull"}, sendSend, "stream 5+5", "", "", 0},
		{"FIN needs no credit", 10, []string{"write 10", "pull", "closewrite", "pull"}, sendDataSent, "stream 10+0 fin", "", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(0, true, &testOwner{}, Config{PeerInitialMaxData: tt.peer})
			s := newScript(t, c)
			s.run(tt.ops)
			if got := sendStateOf(c); got != tt.state {
				t.Errorf("state %v, want %v", got, tt.state)
			}
			if got := describe(s.lastFrames); got != tt.last {
				t.Errorf("last packet %q, want %q", got, tt.last)
			}
			if got := errKind(s.lastErr); got != tt.writeErr {
				t.Errorf("write error %q, want %q", got, tt.writeErr)
			}
			if got := c.Work(); got != tt.work {
				t.Errorf("Work() = %v, want %v", got, tt.work)
			}
			frames, _ := pull(t, c)
			if got := describe(frames); got != tt.next {
				t.Errorf("next packet %q, want %q", got, tt.next)
			}
		})
	}
}

// TestDoneAndFinPending follows Done and FinPending through a stream's life.
func TestDoneAndFinPending(t *testing.T) {
	c := New(0, true, &testOwner{}, Config{PeerInitialMaxData: 1000})
	s := newScript(t, c)
	check := func(step string, done, fin bool) {
		t.Helper()
		if c.Done() != done || c.FinPending() != fin {
			t.Errorf("%s: Done=%v FinPending=%v, want %v %v", step, c.Done(), c.FinPending(), done, fin)
		}
	}
	check("new", false, false)
	s.run([]string{"write 10", "closewrite", "pull"})
	check("FIN sent", false, true)
	s.run([]string{"ack"})
	check("FIN acked, receive side open", false, false)
	s.run([]string{"data 0 5 fin", "read"})
	check("all read: Data Read", true, false)
	s.run([]string{"read"})
	if s.lastErr.Error() != "EOF" {
		t.Errorf("read after the last byte: %v", s.lastErr)
	}

	// Reset on both sides.
	c = New(0, true, &testOwner{}, Config{PeerInitialMaxData: 1000})
	s = newScript(t, c)
	s.run([]string{"write 10", "closewrite", "cancelwrite 1"})
	check("reset: no FIN pending", false, false)
	s.run([]string{"pull", "ack", "reset 2 0", "read"})
	check("both reset", true, false)

	// Abort ends everything.
	c = New(0, true, &testOwner{}, Config{})
	c.Abort(context.Canceled)
	check("aborted", true, false)
}

// TestWakeCoalescing: a burst of Writes calls Owner.Wake once; Work re-arms
// it.
func TestWakeCoalescing(t *testing.T) {
	o := &testOwner{}
	c := New(0, true, o, Config{PeerInitialMaxData: 1 << 20})
	for range 10 {
		c.write(make([]byte, 100))
	}
	if w, _ := o.counts(); w != 1 {
		t.Fatalf("%d wakes for a burst of writes, want 1", w)
	}
	if got := c.Work(); got != WorkNewData {
		t.Fatalf("Work() = %v", got)
	}
	c.write(make([]byte, 100))
	if w, _ := o.counts(); w != 2 {
		t.Fatalf("%d wakes after Work and another write, want 2", w)
	}
}
