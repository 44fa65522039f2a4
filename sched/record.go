package sched

// Space is a packet number space, RFC 9000 §12.3. 0-RTT and 1-RTT packets
// share AppData.
type Space uint8

const (
	// Initial is the space of Initial packets.
	Initial Space = iota
	// Handshake is the space of Handshake packets.
	Handshake
	// AppData is the space of 0-RTT and 1-RTT packets.
	AppData
	// NumSpaces is the number of packet number spaces.
	NumSpaces
)

// String returns the space's name, for logs.
func (s Space) String() string {
	switch s {
	case Initial:
		return "initial"
	case Handshake:
		return "handshake"
	case AppData:
		return "appdata"
	}
	return "space?"
}

// FrameKind says what a FrameRecord stands for.
type FrameKind uint8

const (
	// FrameStream is a range of stream data: StreamID, Offset, Length, Fin.
	FrameStream FrameKind = iota + 1
	// FrameCrypto is a range of CRYPTO data in the packet's space: Offset, Length.
	FrameCrypto
	// FrameAck is an ACK frame; Offset holds its Largest Acknowledged, so
	// that when this packet is acknowledged the receiver may stop
	// acknowledging packets at or below it (RFC 9000 §13.2.4).
	FrameAck
	// FrameControl is a connection-level control frame of type Type
	// (MAX_DATA, MAX_STREAMS, NEW_CONNECTION_ID, HANDSHAKE_DONE, ...).
	// Offset holds a value that identifies it where one is needed, such as
	// a connection ID sequence number. On loss the connection re-sends the
	// frame's current value, not a copy.
	FrameControl
	// FrameStreamControl is a per-stream control frame of type Type
	// (MAX_STREAM_DATA, STOP_SENDING, RESET_STREAM, STREAM_DATA_BLOCKED) for
	// StreamID. On loss the stream re-sends its current value.
	FrameStreamControl
	// FramePing is a PING frame (also used for probes).
	FramePing
	// FrameDatagram is a DATAGRAM frame (RFC 9221): never retransmitted.
	FrameDatagram
)

// FrameRecord is what one frame in a sent packet carried, kept so that the
// frame's content can be marked acknowledged or lost.
type FrameRecord struct {
	Kind     FrameKind
	Fin      bool
	Type     uint8 // frame type, for control frames
	StreamID uint64
	Offset   uint64
	Length   uint64
}

// Record is what a sent packet carried. Records are recycled through a
// RecordPool: the connection puts a record back once the packet is
// acknowledged or declared lost.
type Record struct {
	PacketNumber uint64
	Space        Space
	SentBytes    int   // bytes on the wire, set by the connection
	SentTime     int64 // set by loss recovery when the packet is sent (ns since its base time)
	AckEliciting bool  // RFC 9002 §2: carries a frame other than ACK, PADDING, CONNECTION_CLOSE
	InFlight     bool  // counts toward bytes in flight: ack-eliciting or PADDING
	// MTUProbe marks a path MTU probe (RFC 9000 §14.4): its loss says the
	// path is too small for it, not that the network is congested.
	MTUProbe bool
	Frames   []FrameRecord
}

// Add appends f to the record and updates AckEliciting and InFlight.
func (r *Record) Add(f FrameRecord) {
	r.Frames = append(r.Frames, f)
	if f.Kind != FrameAck {
		r.AckEliciting = true
		r.InFlight = true
	}
}

// HasControl reports whether r carries a control frame of type ft.
func (r *Record) HasControl(ft uint64) bool {
	for i := range r.Frames {
		if r.Frames[i].Kind == FrameControl && uint64(r.Frames[i].Type) == ft {
			return true
		}
	}
	return false
}

// Reset clears r for reuse, keeping the capacity of its frame list.
func (r *Record) Reset() {
	*r = Record{Frames: r.Frames[:0]}
}

// RecordPool recycles Records. It is owned by one goroutine (the
// connection's) and is not safe for concurrent use.
type RecordPool struct {
	free []*Record
}

// Get returns an empty record.
func (p *RecordPool) Get() *Record {
	if n := len(p.free); n > 0 {
		r := p.free[n-1]
		p.free = p.free[:n-1]
		return r
	}
	return &Record{Frames: make([]FrameRecord, 0, 4)}
}

// Put recycles r; r must not be used afterwards.
func (p *RecordPool) Put(r *Record) {
	if cap(r.Frames) > 256 {
		// Don't keep unusually large records alive.
		return
	}
	r.Reset()
	p.free = append(p.free, r)
}
