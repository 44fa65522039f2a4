package stream

// Work tells the connection what kinds of frames a stream has to send; see
// (*Core).Work.
type Work uint8

// Work bits.
const (
	// WorkControl: a MAX_STREAM_DATA, STOP_SENDING, RESET_STREAM or
	// STREAM_DATA_BLOCKED frame is pending (AppendControlFrames).
	WorkControl Work = 1 << iota
	// WorkRetransmit: data or a FIN declared lost is waiting to be re-sent
	// (AppendStreamFrame with retransmit set).
	WorkRetransmit
	// WorkNewData: new data, or a FIN, that the peer's stream limit allows
	// is waiting (AppendStreamFrame without retransmit). Connection-level
	// credit is not considered.
	WorkNewData
)

// String lists the set bits, for logs and tests.
func (w Work) String() string {
	if w == 0 {
		return "none"
	}
	s := ""
	add := func(bit Work, name string) {
		if w&bit != 0 {
			if s != "" {
				s += "|"
			}
			s += name
		}
	}
	add(WorkControl, "control")
	add(WorkRetransmit, "retransmit")
	add(WorkNewData, "new")
	return s
}
