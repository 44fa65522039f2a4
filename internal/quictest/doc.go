// Package quictest is a scripted QUIC peer for tests: a client (or server)
// built on quic/wire and crypto/tls's QUIC API that does exactly what a test
// tells it and nothing else. It has no timers and runs no goroutine of its
// own (crypto/tls runs one during the handshake); every packet it sends is
// one the test asked for, and every packet it receives is handed to the test.
// That makes it the tool for protocol scripts ("send this frame, expect that
// frame") and for attacks (malformed, hostile or forged packets).
//
// # Use
//
//	p := quictest.NewClient(pc, serverAddr, tlsConf, quictest.DefaultParams())
//	defer p.Close()
//	if err := p.Handshake(ctx); err != nil { ... }      // Initial → HANDSHAKE_DONE
//	p.SendFrames(wire.Packet1RTT, &quictest.StreamFrame{StreamID: 0, Data: []byte("hi"), Fin: true})
//	f, pkt, err := quictest.ExpectFrame[wire.AckFrame](ctx, p, nil)
//	cc, err := p.ExpectClose(ctx)                        // the CONNECTION_CLOSE the peer got
//
// pc is any PacketConn: a *memnet.Conn inside a testing/synctest bubble, or
// a *net.UDPConn. Methods of a Peer are not safe for concurrent use.
//
// # What the peer does on its own
//
// Reading (ReadPacket and everything built on it) removes packet protection,
// parses the frames and keeps the protocol state a test should not have to
// track: received packet numbers (for AckAll and AckFrame), CRYPTO data (fed
// to TLS, whose keys are installed as they appear), the server's connection
// ID from its first Initial, NEW_CONNECTION_ID frames, HANDSHAKE_DONE, and the
// receiving side of key updates (RFC 9001 §6): a packet in the next key phase
// that opens with the next keys rotates them, and, with FollowKeyUpdates
// (the default), the peer's sending keys follow as RFC 9001 §6.2 requires.
//
// Sending happens only when the test calls SendFrames, SendRaw, AckAll,
// Flush or Handshake, or reads with AutoAck set (each datagram read is
// acknowledged on the next read). Initial packets are padded so that their
// datagram is at least 1200 bytes (RFC 9000 §14.1).
//
// Loss is scripted with Forget (a packet read is left out of every later
// ACK, as if it never arrived) or with memnet filters. ReadStream and
// StreamData reassemble what the other side sends on a stream.
//
// # Server role
//
// NewServer, then Accept (waits for a client's first Initial) and
// Handshake: the same machinery on the other side, for testing clients.
//
// # Forging
//
// SealKeys, OpenKeys, DstConnID, SrcConnID, NextPacketNumber and
// AppendPacket give a test what it needs to build packets by hand, and
// SendRaw sends any bytes.
package quictest
