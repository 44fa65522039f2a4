package integration_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sort"
)

// Frames and TLS messages as the tests read them from opened packets: the
// frame layouts of RFC 9000 §19 and RFC 9221 §4, TLS 1.3 handshake
// messages (RFC 8446 §4) and QUIC transport parameters (RFC 9000 §18).

// frame is one frame of an opened packet, with the fields the checks use.
type frame struct {
	typ    uint64
	offset uint64 // CRYPTO, STREAM
	data   []byte // CRYPTO, STREAM, PATH_CHALLENGE, PATH_RESPONSE, NEW_TOKEN
	ecn    bool   // ACK with ECN counts (type 0x03)
	ecnCnt [3]uint64
}

// Frame types the checks name (RFC 9000 §19).
const (
	framePadding       = 0x00
	framePing          = 0x01
	frameAck           = 0x02
	frameAckECN        = 0x03
	frameCrypto        = 0x06
	frameNewToken      = 0x07
	framePathChallenge = 0x1a
	framePathResponse  = 0x1b
)

var errFrame = errors.New("malformed frame")

// frameReader reads the fields of frames.
type frameReader struct {
	b   []byte
	err error
}

func (r *frameReader) varint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := readVarint(r.b)
	if n == 0 {
		r.err = errFrame
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *frameReader) bytes(n uint64) []byte {
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.err = errFrame
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

// parseFrames reads every frame of a packet payload. It fails on an
// unknown frame type or a frame that does not fit.
func parseFrames(p []byte) ([]frame, error) {
	var out []frame
	r := &frameReader{b: p}
	for len(r.b) > 0 && r.err == nil {
		f := frame{typ: r.varint()}
		switch t := f.typ; {
		case t == framePadding:
			for len(r.b) > 0 && r.b[0] == 0 {
				r.b = r.b[1:]
			}
		case t == framePing, t == 0x1e: // PING, HANDSHAKE_DONE
		case t == frameAck || t == frameAckECN:
			r.varint() // largest acknowledged
			r.varint() // delay
			n := r.varint()
			r.varint() // first range
			for i := uint64(0); i < n && r.err == nil; i++ {
				r.varint() // gap
				r.varint() // length
			}
			if t == frameAckECN {
				f.ecn = true
				for i := range f.ecnCnt {
					f.ecnCnt[i] = r.varint()
				}
			}
		case t == 0x04: // RESET_STREAM: ID, code, final size
			r.varint()
			r.varint()
			r.varint()
		case t == 0x05, t == 0x11, t == 0x15: // STOP_SENDING, MAX_STREAM_DATA, STREAM_DATA_BLOCKED
			r.varint()
			r.varint()
		case t == frameCrypto:
			f.offset = r.varint()
			f.data = r.bytes(r.varint())
		case t == frameNewToken:
			f.data = r.bytes(r.varint())
		case t >= 0x08 && t <= 0x0f: // STREAM (RFC 9000 §19.8)
			r.varint() // stream ID
			if t&0x04 != 0 {
				f.offset = r.varint()
			}
			if t&0x02 != 0 {
				f.data = r.bytes(r.varint())
			} else {
				f.data = r.bytes(uint64(len(r.b)))
			}
		case t >= 0x10 && t <= 0x14, t >= 0x16 && t <= 0x17, t == 0x19:
			// MAX_DATA, MAX_STREAMS, DATA_BLOCKED, STREAMS_BLOCKED,
			// RETIRE_CONNECTION_ID: one integer.
			r.varint()
		case t == 0x18: // NEW_CONNECTION_ID
			r.varint() // sequence
			r.varint() // retire prior to
			l := r.bytes(1)
			if r.err == nil && (l[0] < 1 || l[0] > 20) {
				r.err = errFrame
			}
			if r.err == nil {
				r.bytes(uint64(l[0]) + 16) // ID and stateless reset token
			}
		case t == framePathChallenge || t == framePathResponse:
			f.data = r.bytes(8)
		case t == 0x1c: // CONNECTION_CLOSE (transport): code, frame type, reason
			r.varint()
			r.varint()
			r.bytes(r.varint())
		case t == 0x1d: // CONNECTION_CLOSE (application): code, reason
			r.varint()
			r.bytes(r.varint())
		case t == 0x30: // DATAGRAM without length: the rest
			f.data = r.bytes(uint64(len(r.b)))
		case t == 0x31:
			f.data = r.bytes(r.varint())
		default:
			return out, fmt.Errorf("unknown frame type %#x", t)
		}
		if r.err != nil {
			return out, fmt.Errorf("frame type %#x: %w", f.typ, r.err)
		}
		out = append(out, f)
	}
	return out, r.err
}

// cryptoStream reassembles the CRYPTO data of one direction at one
// encryption level from frames that may repeat or overlap.
type cryptoStream struct {
	chunks map[uint64][]byte
	max    uint64 // highest offset+length seen
}

func (s *cryptoStream) add(off uint64, data []byte) {
	if s.chunks == nil {
		s.chunks = make(map[uint64][]byte)
	}
	if len(data) > len(s.chunks[off]) {
		s.chunks[off] = slices.Clone(data)
	}
	s.max = max(s.max, off+uint64(len(data)))
}

// contiguous returns the data from offset 0 up to the first gap.
func (s *cryptoStream) contiguous() []byte {
	offs := make([]uint64, 0, len(s.chunks))
	for off := range s.chunks {
		offs = append(offs, off)
	}
	sort.Slice(offs, func(i, j int) bool { return offs[i] < offs[j] })
	var out []byte
	for _, off := range offs {
		d := s.chunks[off]
		end := off + uint64(len(d))
		if off > uint64(len(out)) {
			break
		}
		if end > uint64(len(out)) {
			out = append(out, d[uint64(len(out))-off:]...)
		}
	}
	return out
}

// TLS handshake message types (RFC 8446 §4).
const (
	tlsClientHello         = 1
	tlsEncryptedExtensions = 8
	tlsCertificate         = 11
)

// tlsMessages splits handshake data into messages: type → bodies. A
// message cut short at the end is left out.
func tlsMessages(b []byte) map[byte][][]byte {
	out := make(map[byte][][]byte)
	for len(b) >= 4 {
		n := int(b[1])<<16 | int(b[2])<<8 | int(b[3])
		if len(b) < 4+n {
			break
		}
		out[b[0]] = append(out[b[0]], b[4:4+n])
		b = b[4+n:]
	}
	return out
}

// transportParameters finds the QUIC transport parameters extension (0x39,
// RFC 9001 §8.2) in an EncryptedExtensions body and returns its integer
// parameters by ID.
func transportParameters(ee []byte) (map[uint64]uint64, error) {
	if len(ee) < 2 {
		return nil, errFrame
	}
	exts := ee[2:]
	if n := int(binary.BigEndian.Uint16(ee)); n < len(exts) {
		exts = exts[:n]
	}
	for len(exts) >= 4 {
		typ, n := binary.BigEndian.Uint16(exts), int(binary.BigEndian.Uint16(exts[2:]))
		if len(exts) < 4+n {
			break
		}
		body := exts[4 : 4+n]
		exts = exts[4+n:]
		if typ != 0x39 {
			continue
		}
		params := make(map[uint64]uint64)
		r := &frameReader{b: body}
		for len(r.b) > 0 && r.err == nil {
			id := r.varint()
			v := r.bytes(r.varint())
			if r.err == nil {
				if x, m := readVarint(v); m == len(v) && m > 0 {
					params[id] = x
				}
			}
		}
		return params, r.err
	}
	return nil, errors.New("no quic_transport_parameters extension")
}
