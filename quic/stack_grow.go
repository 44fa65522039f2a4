package quic

// connStackFrame is the stack frame growStack takes: with what is on the
// stack already, it makes the runtime allocate a 16 KiB stack, about what a
// connection goroutine reaches while it handles the handshake (packet
// protection, crypto/tls's QUIC calls, key derivation).
const connStackFrame = 12 << 10

// growStack makes the calling goroutine's stack deep enough for the
// handshake at once. A goroutine starts with a small stack that doubles
// each time a call goes past its end, and each doubling copies and adjusts
// every frame on it; done here, with two frames on the stack, the copy is
// cheap, where the handshake would make it two or three times with deep
// stacks. The garbage collector shrinks the stack again once the goroutine
// uses little of it.
//
//go:noinline
func growStack(i int) byte {
	var pad [connStackFrame]byte
	return pad[i]
}
