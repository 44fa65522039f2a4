package stream

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
	"github.com/tsumugi-quic/tsumugi/sched"
)

// describe renders frames compactly for table tests: "stream 0+10 fin",
// "reset 3/10" (code/final size), "stop 7", "max 1600", "blocked 5".
func describe(frames []frame) string {
	var parts []string
	for _, f := range frames {
		switch f := f.(type) {
		case wire.StreamFrame:
			s := fmt.Sprintf("stream %d+%d", f.Offset, len(f.Data))
			if f.Fin {
				s += " fin"
			}
			parts = append(parts, s)
		case wire.ResetStreamFrame:
			parts = append(parts, fmt.Sprintf("reset %d/%d", f.Code, f.FinalSize))
		case wire.StopSendingFrame:
			parts = append(parts, fmt.Sprintf("stop %d", f.Code))
		case wire.MaxStreamDataFrame:
			parts = append(parts, fmt.Sprintf("max %d", f.Max))
		case wire.StreamDataBlockedFrame:
			parts = append(parts, fmt.Sprintf("blocked %d", f.Limit))
		}
	}
	return strings.Join(parts, "; ")
}

// errKind classifies a Read or Write error for table tests.
func errKind(err error) string {
	var se *StreamError
	switch {
	case err == nil:
		return ""
	case err == io.EOF:
		return "EOF"
	case errors.Is(err, net.ErrClosed):
		return "closed"
	case errors.As(err, &se) && se.Remote:
		return fmt.Sprintf("remote %d", se.Code)
	case errors.As(err, &se):
		return fmt.Sprintf("local %d", se.Code)
	}
	return err.Error()
}

// transportCode returns the transport error code of err, or -1 for nil.
func transportCode(t *testing.T, err error) int {
	t.Helper()
	if err == nil {
		return -1
	}
	var te *wire.TransportError
	if !errors.As(err, &te) {
		t.Fatalf("error %v is not a *wire.TransportError", err)
	}
	return int(te.Code)
}

// script runs a table test's operations on a Core. Operations:
//
//	data OFF LEN [fin]   HandleStream with pattern data
//	reset CODE FINAL     HandleResetStream
//	stop CODE            HandleStopSending
//	maxdata LIMIT        HandleMaxStreamData
//	blockedframe LIMIT   HandleStreamDataBlocked
//	read                 one Read (must not block); result in lastErr
//	write N              one Write of N bytes; result in lastErr
//	close                Close (both directions for a bidi stream)
//	closewrite           CloseWrite
//	cancelread CODE      CancelRead
//	cancelwrite CODE     CancelWrite
//	pull                 build a packet; frames in lastFrames
//	ack, lose            acknowledge or lose every frame of the last pull
//	ack N, lose N        the same for frame N of the last pull only
type script struct {
	t          *testing.T
	c          *Core
	lastErr    error // from the last read/write
	lastCode   int   // transport error code from the last handler, -1: none
	lastFrames []frame
	lastRec    *sched.Record
	readBuf    []byte
}

func newScript(t *testing.T, c *Core) *script {
	return &script{t: t, c: c, lastCode: -1, readBuf: make([]byte, 1<<16), lastRec: &sched.Record{}}
}

func (s *script) run(ops []string) {
	for i, op := range ops {
		f := strings.Fields(op)
		arg := func(k int) uint64 {
			var v uint64
			if _, err := fmt.Sscan(f[k], &v); err != nil {
				s.t.Fatalf("op %d %q: bad argument", i, op)
			}
			return v
		}
		s.lastCode = -1
		var err error
		switch f[0] {
		case "data":
			off, n := arg(1), arg(2)
			_, err = s.c.HandleStream(wire.StreamFrame{Offset: off, Data: pattern(off, int(n)), Fin: len(f) > 3 && f[3] == "fin"})
		case "reset":
			_, err = s.c.HandleResetStream(arg(1), arg(2))
		case "stop":
			err = s.c.HandleStopSending(arg(1))
		case "maxdata":
			err = s.c.HandleMaxStreamData(arg(1))
		case "blockedframe":
			err = s.c.HandleStreamDataBlocked(arg(1))
		case "read":
			_, s.lastErr = s.c.read(s.readBuf)
		case "write":
			_, s.lastErr = s.c.write(make([]byte, arg(1)))
		case "close":
			if s.c.Stream() != nil {
				s.c.Stream().Close()
			} else if s.c.SendStream() != nil {
				s.c.SendStream().Close()
			} else {
				s.c.ReceiveStream().Close()
			}
		case "closewrite":
			s.c.closeWrite()
		case "cancelread":
			s.c.cancelRead(arg(1), false)
		case "cancelwrite":
			s.c.cancelWrite(arg(1))
		case "pull":
			s.lastFrames, s.lastRec = pull(s.t, s.c)
		case "ack", "lose":
			recs := s.lastRec.Frames
			if len(f) > 1 {
				recs = recs[arg(1) : arg(1)+1]
			}
			for _, r := range recs {
				if f[0] == "ack" {
					s.c.OnAcked(r)
				} else {
					s.c.OnLost(r)
				}
			}
		default:
			s.t.Fatalf("unknown op %q", op)
		}
		s.lastCode = transportCode(s.t, err)
		if err != nil && i != len(ops)-1 {
			s.t.Fatalf("op %d %q: unexpected error %v", i, op, err)
		}
	}
}
