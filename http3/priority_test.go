package http3

import (
	"testing"

	"github.com/tsumugi-quic/tsumugi/stream"
)

func TestParsePriority(t *testing.T) {
	base := defaultPriority
	tests := []struct {
		in   string
		want priority
		ok   bool
	}{
		{"", priority{3, false}, true},
		{"u=0", priority{0, false}, true},
		{"u=7, i", priority{7, true}, true},
		{"i", priority{3, true}, true},
		{"i=?0", priority{3, false}, true},
		{"i=?1,u=2", priority{2, true}, true},
		{"  u=1 ,\ti ", priority{1, true}, true},
		{"u=8", priority{3, false}, true},            // out of range: ignored
		{"u=-1", priority{3, false}, true},           // out of range: ignored
		{"u=1.5", priority{3, false}, true},          // a decimal: ignored
		{"u=\"1\"", priority{3, false}, true},        // a string: ignored
		{"i=1", priority{3, false}, true},            // an integer: ignored
		{"u=5, u=2", priority{2, false}, true},       // the last wins
		{"u=1;x=y, i;q=?0", priority{1, true}, true}, // parameters
		{"foo=bar, u=4, z=(a b);p, y=:aGk=:", priority{4, false}, true},
		{"u=1, ", priority{3, false}, false}, // trailing comma
		{"U=1", priority{3, false}, false},   // keys are lowercase
		{"u=1 i", priority{3, false}, false}, // missing comma
		{"u=?2", priority{3, false}, false},  // bad boolean
		{"u=1234567890123456", priority{3, false}, false},
		{"u=\"unterminated", priority{3, false}, false},
		{"a=(1 2", priority{3, false}, false},
		{"a=:abc", priority{3, false}, false},
	}
	for _, tt := range tests {
		got, ok := parsePriority(tt.in, base)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%q = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
	// Parsing starts from the given base.
	if got, _ := parsePriority("i", priority{6, false}); got != (priority{6, true}) {
		t.Errorf("over a base: %+v", got)
	}
}

// TestPriorityUpdateBookkeeping: PRIORITY_UPDATE frames for requests not
// yet seen are kept, within a bound, until the request starts; invalid
// element IDs are H3_ID_ERROR (RFC 9218 §7.2).
func TestPriorityUpdateBookkeeping(t *testing.T) {
	sc := newServerConn(&Server{}, nil)
	for i := range 100 {
		if err := sc.priorityUpdate(false, uint64(4*i), "u=1"); err != nil {
			t.Fatal(err)
		}
	}
	if len(sc.pending) != maxPendingPriorities {
		t.Fatalf("%d pending, want %d", len(sc.pending), maxPendingPriorities)
	}
	var id stream.ID
	for k := range sc.pending {
		id = k
		break
	}
	sc.startPriority(id, defaultPriority)
	if _, ok := sc.pending[id]; ok {
		t.Fatal("pending priority not consumed")
	}
	// An unparsable value is ignored, not an error.
	if err := sc.priorityUpdate(false, 1000, "u=1,,"); err != nil || len(sc.pending) != maxPendingPriorities-1 {
		t.Fatalf("bad value: %v, %d pending", err, len(sc.pending))
	}
	for _, elem := range []uint64{1, 2, 3, 4*5 + 1} {
		wantCode(t, sc.priorityUpdate(false, elem, "u=1"), ErrCodeIDError)
	}
	wantCode(t, sc.priorityUpdate(true, 0, "u=1"), ErrCodeIDError)
	sc.controlFrame(frameMaxPushID, varints(3))
	if err := sc.priorityUpdate(true, 3, "u=1"); err != nil {
		t.Fatalf("push ID within MAX_PUSH_ID: %v", err)
	}
	wantCode(t, sc.priorityUpdate(true, 4, "u=1"), ErrCodeIDError)
}
