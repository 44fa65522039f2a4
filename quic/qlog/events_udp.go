package qlog

import "time"

// UDP datagram events, quic events §5.10-§5.12. Lengths are UDP payload
// lengths, without the UDP header.

// UDPDatagramsSent logs quic:udp_datagrams_sent (§5.10): datagrams of the
// given lengths handed to the socket at once (one entry for a single
// send, one per segment for a GSO batch), all with ECN codepoint ecn
// (NoECN leaves it out). Nothing is logged for an empty list.
func (t *Trace) UDPDatagramsSent(now time.Time, lengths []int, ecn ECN) {
	t.datagrams(now, "udp_datagrams_sent", lengths, ecn)
}

// UDPDatagramsReceived logs quic:udp_datagrams_received (§5.11), as
// UDPDatagramsSent.
func (t *Trace) UDPDatagramsReceived(now time.Time, lengths []int, ecn ECN) {
	t.datagrams(now, "udp_datagrams_received", lengths, ecn)
}

func (t *Trace) datagrams(now time.Time, name string, lengths []int, ecn ECN) {
	if t == nil || t.off || len(lengths) == 0 {
		return
	}
	b := t.begin(now, name)
	b = fu(b, "count", uint64(len(lengths)))
	b = arr(b, "raw")
	for _, n := range lengths {
		b = append(elem(b), '{')
		b = fu(b, "length", uint64(max(n, 0)))
		b = append(b, '}')
	}
	b = append(b, ']')
	if e := ecn.name(); e != "" {
		b = arr(b, "ecn")
		for range lengths {
			b = appendString(elem(b), e)
		}
		b = append(b, ']')
	}
	t.end(b)
}

// UDPDatagramDropped logs quic:udp_datagram_dropped (§5.12): a datagram of
// rawLen bytes held no QUIC packet this endpoint could use.
func (t *Trace) UDPDatagramDropped(now time.Time, rawLen int) {
	if t == nil || t.off {
		return
	}
	b := t.begin(now, "udp_datagram_dropped")
	b = appendRaw(b, rawLen)
	t.end(b)
}
