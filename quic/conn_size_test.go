package quic

import (
	"testing"
	"unsafe"
)

// TestConnSizeClass guards the heap of an idle connection (issue 8's
// memory target): a Conn and the state its goroutine owns are one
// allocation, and Go rounds it up to a size class. At 3456 bytes it takes
// the 3456-byte class; a few bytes more and every connection pays for the
// 4096-byte class. State that few connections need belongs behind a
// pointer made on first use (see connState.paths).
func TestConnSizeClass(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("sizes are for 64-bit platforms")
	}
	const class = 3456
	if n := unsafe.Sizeof(Conn{}); n > class {
		t.Errorf("a Conn is %d bytes: above the %d-byte size class; move rarely used state behind a pointer", n, class)
	} else {
		t.Logf("a Conn is %d bytes (size class %d)", n, class)
	}
}
