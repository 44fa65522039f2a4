// Package wire holds QUIC's bytes on the wire: variable-length integers,
// packet headers and packet numbers, every frame of RFC 9000 §19 and RFC 9221,
// transport parameters (RFC 9000 §18), and packet protection (RFC 9001 §5,
// RFC 9369 for QUIC version 2).
//
// It is a leaf package: it imports nothing of the project.
//
// Conventions, kept by every file here:
//
//   - Encoders are append-style: AppendX(b []byte, ...) []byte. They never
//     allocate when b has room.
//   - Every encoder has an exact size function (XLen) so that a packet can be
//     packed to the byte before anything is written.
//   - Parsers take the bytes starting at what they parse (for frames: at the
//     frame type) and return the value and the number of bytes consumed.
//     Parsed byte slices alias the input; nothing is copied or allocated.
//   - Frame and transport parameter parse errors are *TransportError values
//     carrying the RFC 9000 §20.1 error code and, for frames, the frame
//     type, ready to be sent in a CONNECTION_CLOSE frame. Header and packet
//     parse errors are *PacketError (errors.Is ErrMalformedPacket): the
//     packet is dropped, the connection lives on. Any input yields either a
//     value or an error: never a panic.
package wire
