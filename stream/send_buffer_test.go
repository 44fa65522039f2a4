package stream

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

func TestSendBufferNextAckLose(t *testing.T) {
	var b SendBuffer
	data := pattern(0, 3*chunkSize+100)
	b.Write(data[:chunkSize+10])
	b.Write(data[chunkSize+10:])
	if b.Buffered() != len(data) || b.Written() != uint64(len(data)) || !b.Pending() {
		t.Fatalf("after Write: buffered %d written %d", b.Buffered(), b.Written())
	}
	// Take everything in pieces of at most 1000 bytes.
	type piece struct{ off, n uint64 }
	var pieces []piece
	var got []byte
	for {
		off, d := b.Next(1000)
		if len(d) == 0 {
			break
		}
		if off != uint64(len(got)) {
			t.Fatalf("Next offset %d, want %d", off, len(got))
		}
		got = append(got, d...)
		pieces = append(pieces, piece{off, uint64(len(d))})
	}
	if !bytes.Equal(got, data) {
		t.Fatal("data from Next differs")
	}
	// Lose every third piece, ack the rest in a shuffled order.
	rng := rand.New(rand.NewPCG(1, 2))
	rng.Shuffle(len(pieces), func(i, j int) { pieces[i], pieces[j] = pieces[j], pieces[i] })
	var lost []piece
	for i, p := range pieces {
		if i%3 == 0 {
			b.OnLost(p.off, p.n)
			lost = append(lost, p)
		} else {
			b.OnAcked(p.off, p.n)
		}
	}
	// Re-send the lost data: Next returns it, with the right bytes.
	resent := 0
	for {
		off, d := b.Next(700)
		if len(d) == 0 {
			break
		}
		if !bytes.Equal(d, data[off:off+uint64(len(d))]) {
			t.Fatalf("resent bytes at %d differ", off)
		}
		resent += len(d)
		b.OnAcked(off, uint64(len(d)))
	}
	want := 0
	for _, p := range lost {
		want += int(p.n)
	}
	if resent != want {
		t.Errorf("resent %d bytes, want %d", resent, want)
	}
	if !b.Acked() || b.Buffered() != 0 || b.Pending() {
		t.Errorf("after all acks: buffered %d pending %v", b.Buffered(), b.Pending())
	}
	for i, c := range b.ring {
		if c != nil {
			t.Errorf("chunk %d not freed", i)
		}
	}
}

func TestSendBufferLostThenAcked(t *testing.T) {
	var b SendBuffer
	b.Write(pattern(0, 100))
	b.Next(100)
	b.OnAcked(40, 20) // [40,60) acked
	b.OnLost(0, 100)  // the loss of a packet that carried everything
	var got [][2]uint64
	for {
		off, d := b.Next(100)
		if len(d) == 0 {
			break
		}
		got = append(got, [2]uint64{off, uint64(len(d))})
	}
	want := [][2]uint64{{0, 40}, {60, 40}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("re-sent %v, want %v (acked part skipped)", got, want)
	}
	// A spurious loss after the ack changes nothing.
	b.OnAcked(0, 100)
	b.OnLost(0, 100)
	if b.Pending() || !b.Acked() {
		t.Error("lost after acked: data pending again")
	}
}

func TestSendBufferRelease(t *testing.T) {
	var b SendBuffer
	b.Write(pattern(0, 5000))
	b.Next(1000)
	b.Release()
	if b.Pending() || b.Buffered() != 0 || b.ring != nil {
		t.Error("Release left data")
	}
	// Acks and losses for old ranges are ignored.
	b.OnAcked(0, 1000)
	b.OnLost(0, 1000)
	if b.Pending() {
		t.Error("loss after Release queued data")
	}
}
