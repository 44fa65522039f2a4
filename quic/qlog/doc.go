// Package qlog writes qlog traces of QUIC connections
// (draft-ietf-quic-qlog-main-schema, draft-ietf-quic-qlog-quic-events) in
// the JSON Text Sequences serialization: media type
// "application/qlog+json-seq", file schema
// "urn:ietf:params:qlog:file:sequential", one ".sqlog" file per connection.
// Each record is RS (0x1E), a JSON object and LF (RFC 7464): first the
// header, then one event per record, {"time":ms,"name":"quic:…","data":{…}}.
//
// A connection holds a *Trace, nil when tracing is off. Every method is a
// no-op on a nil Trace and allocates nothing, so the connection calls them
// unconditionally:
//
//	c.trace, err = qlog.Create(dir, odcid, isClient, now) // QLOGDIR
//	...
//	p := c.trace.BeginPacket(now, true, qlog.PacketHeader{Type: wire.Packet1RTT, PacketNumber: pn, KeyPhase: kp})
//	p.Frames(plaintext) // every frame, parsed from the payload; or p.Stream, p.Ack, ... one by one
//	p.End(packetLen)    // bytes on the wire, header and AEAD tag included
//	...
//	c.trace.Close()
//
// JSON is appended by hand into reused buffers and handed to a
// bufio.Writer: with tracing on, events allocate nothing in steady state.
// A Trace belongs to one goroutine (the connection's).
//
// Field names, event names and enumerations are those of the drafts; the
// doc comments cite their sections ("§5.5" is a section of the QUIC events
// draft, "main schema §…" of the main schema).
package qlog
