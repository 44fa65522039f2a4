package stream

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

func TestRecvBufferBasic(t *testing.T) {
	tests := []struct {
		name     string
		pushes   [][2]int // offset, length
		readable int
	}{
		{"in order", [][2]int{{0, 10}, {10, 10}}, 20},
		{"gap", [][2]int{{0, 10}, {20, 10}}, 10},
		{"gap filled", [][2]int{{0, 10}, {20, 10}, {10, 10}}, 30},
		{"reverse", [][2]int{{20, 10}, {10, 10}, {0, 10}}, 30},
		{"overlap", [][2]int{{0, 15}, {5, 20}, {3, 2}}, 25},
		{"duplicate", [][2]int{{0, 10}, {0, 10}, {0, 10}}, 10},
		{"empty", [][2]int{{0, 0}, {5, 0}}, 0},
		{"across chunks", [][2]int{{chunkSize - 5, 10}, {0, chunkSize - 5}}, chunkSize + 5},
		{"far chunk then fill", [][2]int{{3 * chunkSize, 7}, {0, 3 * chunkSize}}, 3*chunkSize + 7},
		{"out of order bytes", [][2]int{{1, 1}, {3, 1}, {5, 1}, {0, 1}, {2, 1}, {4, 1}}, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewRecvBuffer(1 << 20)
			for _, p := range tt.pushes {
				if err := b.Push(uint64(p[0]), pattern(uint64(p[0]), p[1])); err != nil {
					t.Fatal(err)
				}
			}
			if b.Readable() != tt.readable {
				t.Fatalf("Readable = %d, want %d", b.Readable(), tt.readable)
			}
			got := make([]byte, tt.readable+10)
			n := b.Read(got)
			if n != tt.readable || !bytes.Equal(got[:n], pattern(0, n)) {
				t.Fatalf("Read %d bytes, want %d, equal=%v", n, tt.readable, bytes.Equal(got[:n], pattern(0, n)))
			}
			if b.Offset() != uint64(n) {
				t.Errorf("Offset = %d", b.Offset())
			}
		})
	}
}

func TestRecvBufferLimit(t *testing.T) {
	b := NewRecvBuffer(100)
	if err := b.Push(0, make([]byte, 100)); err != nil {
		t.Fatal(err)
	}
	if err := b.Push(100, []byte{1}); !errors.Is(err, ErrBeyondLimit) {
		t.Errorf("push past limit: %v", err)
	}
	b.Read(make([]byte, 50))
	if err := b.Push(100, make([]byte, 50)); err != nil {
		t.Errorf("limit should follow the read offset: %v", err)
	}
	if err := b.Push(1<<62, []byte{1}); !errors.Is(err, ErrBeyondLimit) {
		t.Errorf("far push: %v", err)
	}
	if err := b.Push(^uint64(0)-1, []byte{1, 2, 3}); !errors.Is(err, ErrBeyondLimit) {
		t.Errorf("overflowing push: %v", err)
	}
}

// TestRecvBufferGapMemory checks the bound the design promises: a peer that
// writes one byte into every other position costs at most one bitmap bit
// per byte of span, plus the chunks; and everything is freed once read.
func TestRecvBufferGapMemory(t *testing.T) {
	const window = 1 << 20
	b := NewRecvBuffer(window)
	for off := uint64(1); off < window; off += 2 {
		if err := b.Push(off, []byte{byte(off)}); err != nil {
			t.Fatal(err)
		}
	}
	chunks, bitmaps := 0, 0
	for _, s := range b.slots {
		if s.data != nil {
			chunks++
		}
		if s.present != nil {
			bitmaps++
		}
	}
	if chunks > window/chunkSize || bitmaps > window/chunkSize {
		t.Errorf("%d chunks, %d bitmaps for a %d-byte window", chunks, bitmaps, window)
	}
	if mem := bitmaps * len(bitmap{}) * 8; mem > window/8 {
		t.Errorf("bitmap memory %d > window/8", mem)
	}
	if b.Readable() != 0 {
		t.Fatalf("readable %d before the gaps are filled", b.Readable())
	}
	for off := uint64(0); off < window; off += 2 {
		b.Push(off, []byte{byte(off)})
	}
	if b.Readable() != window {
		t.Fatalf("readable %d, want %d", b.Readable(), window)
	}
	got := make([]byte, window)
	if n := b.Read(got); n != window {
		t.Fatalf("read %d", n)
	}
	for i, v := range got {
		if v != byte(i) {
			t.Fatalf("byte %d = %d", i, v)
		}
	}
	for i, s := range b.slots {
		if s.data != nil || s.present != nil {
			t.Errorf("slot %d not freed after reading", i)
		}
	}
}

// piece is a STREAM frame's range for the model tests.
type piece struct {
	off, n int
	fin    bool
}

// randomPieces splits [0, size) into pieces, adds overlapping and duplicate
// ones, marks the FIN, and shuffles them.
func randomPieces(rng *rand.Rand, size int) []piece {
	var ps []piece
	for off := 0; off < size; {
		n := min(size-off, 1+rng.IntN(3000))
		ps = append(ps, piece{off, n, off+n == size})
		off += n
	}
	if size == 0 {
		ps = append(ps, piece{0, 0, true})
	}
	extra := rng.IntN(len(ps) + 1)
	for range extra {
		switch rng.IntN(3) {
		case 0: // duplicate
			ps = append(ps, ps[rng.IntN(len(ps))])
		default: // overlapping range
			if size == 0 {
				continue
			}
			off := rng.IntN(size)
			n := min(size-off, rng.IntN(5000))
			ps = append(ps, piece{off, n, off+n == size && rng.IntN(2) == 0})
		}
	}
	rng.Shuffle(len(ps), func(i, j int) { ps[i], ps[j] = ps[j], ps[i] })
	return ps
}

// TestReassemblyModel feeds random data, split into shuffled, duplicated,
// overlapping frames with a FIN, into a stream's receive side with reads
// interleaved, and checks that the bytes read equal the input.
func TestReassemblyModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for iter := range 100 {
		size := rng.IntN(100_000)
		if iter%20 == 0 {
			size = rng.IntN(10)
		}
		data := make([]byte, size)
		rand.NewChaCha8([32]byte{byte(iter)}).Read(data)
		owner := &testOwner{}
		c := New(0, false, owner, Config{InitialWindow: uint64(max(size, 1)), MaxWindow: 1 << 30})
		s := c.Stream()
		var got []byte
		buf := make([]byte, 1+rng.IntN(9000))
		for _, p := range randomPieces(rng, size) {
			f := wire.StreamFrame{StreamID: 0, Offset: uint64(p.off), Data: data[p.off : p.off+p.n], Fin: p.fin}
			if _, err := c.HandleStream(f); err != nil {
				t.Fatalf("iter %d: HandleStream(%d+%d fin=%v): %v", iter, p.off, p.n, p.fin, err)
			}
			if rng.IntN(3) == 0 {
				got = readAvailable(t, c, s, buf, got)
			}
		}
		for {
			n, err := s.Read(buf)
			got = append(got, buf[:n]...)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("iter %d: Read: %v", iter, err)
			}
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("iter %d: read %d bytes, want %d; equal prefix %v", iter, len(got), len(data), bytes.HasPrefix(data, got))
		}
		if st := recvStateOf(c); st != recvDataRead {
			t.Fatalf("iter %d: state %v, want Data Read", iter, st)
		}
		if _, consumed := owner.counts(); consumed != size {
			t.Fatalf("iter %d: Consumed total %d, want %d", iter, consumed, size)
		}
	}
}

// readAvailable reads what is readable now without blocking.
func readAvailable(t *testing.T, c *Core, s *Stream, buf, got []byte) []byte {
	for {
		c.recv.mu.Lock()
		n := c.recv.buf.Readable()
		st := c.recv.state
		c.recv.mu.Unlock()
		if n == 0 || st == recvDataRead {
			return got
		}
		m, err := s.Read(buf)
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		got = append(got, buf[:m]...)
	}
}

// FuzzReassembly drives a stream's receive side with frames decoded from the
// fuzzer's bytes: each 5-byte record is an offset (2 bytes), a length (2
// bytes) and a flags byte (FIN, read-now, reset). Data at each offset comes
// from a fixed pattern, so whatever is read must match it. Errors are fine;
// panics, wrong bytes and unbounded memory are not.
func FuzzReassembly(f *testing.F) {
	f.Add([]byte{0, 0, 0, 10, 1})
	f.Add([]byte{0, 10, 0, 10, 1, 0, 0, 0, 10, 2})
	f.Add([]byte{0, 5, 0, 1, 0, 0, 1, 0, 1, 0, 0, 3, 0, 1, 0, 0, 0, 0, 6, 3})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0, 1, 4})
	f.Add([]byte{0x40, 0, 0x40, 0, 0, 0, 0, 0x40, 0, 2, 0x10, 0, 0, 9, 1})
	f.Fuzz(func(t *testing.T, in []byte) {
		const window = 1 << 16
		c := New(0, false, &testOwner{}, Config{InitialWindow: window, MaxWindow: window})
		s := c.Stream()
		var read []byte
		buf := make([]byte, 4096)
		var fatal bool
		for len(in) >= 5 && !fatal {
			off := uint64(in[0])<<8 | uint64(in[1])
			n := int(in[2])<<8 | int(in[3])
			flags := in[4]
			in = in[5:]
			var err error
			if flags&4 != 0 {
				_, err = c.HandleResetStream(uint64(flags), off+uint64(n))
			} else {
				_, err = c.HandleStream(wire.StreamFrame{Offset: off, Data: pattern(off, n), Fin: flags&1 != 0})
			}
			if err != nil {
				var te *wire.TransportError
				if !errors.As(err, &te) {
					t.Fatalf("error %v is not a transport error", err)
				}
				fatal = true // the connection would close here
			}
			if flags&2 != 0 {
				read = readAvailable(t, c, s, buf, read)
			}
			c.recv.mu.Lock()
			chunks := 0
			for _, sl := range c.recv.buf.slots {
				if sl.data != nil {
					chunks++
				}
			}
			c.recv.mu.Unlock()
			if chunks > window/chunkSize+1 {
				t.Fatalf("%d chunks held for a %d-byte window", chunks, window)
			}
		}
		read = readAvailable(t, c, s, buf, read)
		if !bytes.Equal(read, pattern(0, len(read))) {
			t.Fatal("read bytes differ from what was sent")
		}
	})
}

// Peek copies without consuming, from any offset within the contiguous
// data, across chunk boundaries, and stops at the first gap.
func TestRecvBufferPeek(t *testing.T) {
	b := NewRecvBuffer(1 << 20)
	data := make([]byte, chunkSize+100)
	for i := range data {
		data[i] = byte(i * 7)
	}
	b.Push(0, data[:chunkSize+50])
	b.Push(chunkSize+60, data[chunkSize+60:]) // a gap at [chunkSize+50, chunkSize+60)
	tests := []struct {
		off, size, want int
	}{
		{0, 10, 10},
		{chunkSize - 5, 10, 10},  // across the chunk boundary
		{chunkSize + 40, 20, 10}, // stops at the gap
		{chunkSize + 50, 10, 0},  // at the gap
		{chunkSize + 70, 10, 0},  // past it
		{-1, 10, 0},
	}
	for _, tt := range tests {
		p := make([]byte, tt.size)
		n := b.Peek(tt.off, p)
		if n != tt.want || (n > 0 && !bytes.Equal(p[:n], data[tt.off:tt.off+n])) {
			t.Errorf("Peek(%d, %d bytes) = %d %x, want %d", tt.off, tt.size, n, p[:n], tt.want)
		}
	}
	if b.Offset() != 0 || b.Readable() != chunkSize+50 {
		t.Fatalf("Peek consumed: offset %d, readable %d", b.Offset(), b.Readable())
	}
	p := make([]byte, 30)
	b.Read(p[:20])
	if n := b.Peek(0, p); n != 30 || !bytes.Equal(p, data[20:50]) {
		t.Fatalf("Peek after Read = %d %x", n, p)
	}
}
