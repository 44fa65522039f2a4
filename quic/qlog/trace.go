package qlog

import (
	"bufio"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/tsumugi-quic/tsumugi/quic/wire"
)

// Identifiers written in the header record.
const (
	// FileSchema is the QlogFileSeq schema URI (main schema §5).
	FileSchema = "urn:ietf:params:qlog:file:sequential"
	// SerializationFormat is the JSON-SEQ media type (main schema §11.2).
	SerializationFormat = "application/qlog+json-seq"
	// EventSchema identifies the QUIC event schema. Until the draft is an
	// RFC, implementations must add "-" and the draft number (quic events
	// §2.1). The draft text this package follows is the revision after
	// -12 (its change log's newest entry is "Since -12").
	EventSchema = "urn:ietf:params:qlog:events:quic-13"
	// FileExt is the file name extension of JSON-SEQ qlog files (main
	// schema §11.2).
	FileExt = ".sqlog"
)

const (
	recordSeparator = 0x1e // RS, RFC 7464 §2
	writeBufferSize = 16 << 10
	// maxKeptBuffer is the largest record buffer kept for the next record;
	// a bigger one (a packet with thousands of frames) is dropped after use
	// so that one odd packet does not pin memory for the connection's life.
	maxKeptBuffer = 64 << 10
)

// Trace writes the qlog trace of one connection as a JSON-SEQ file (main
// schema §5, §11.2): a header record, then one record per event.
//
// A nil *Trace is a disabled trace: every method is a no-op on it and
// allocates nothing, so a connection holds a *Trace that is nil when tracing
// is off and calls its methods unconditionally. A Trace is not safe for
// concurrent use; it belongs to the connection goroutine.
//
// Writing stops at the first error, which Close returns; after Close every
// method is a no-op.
type Trace struct {
	w      *bufio.Writer
	closer io.Closer // the file of Create; nil for NewWriter
	err    error     // first write error; sticky
	off    bool      // closed or failed: write nothing more
	start  time.Time // the reference time: "time" fields are ms since start

	buf  []byte // the record being written by an event method
	pbuf []byte // the record of the open packet (BeginPacket .. End)

	pkt packetState // the open packet, if any

	// ackExp are the ack_delay_exponent values for ACK frames sent
	// (local) and received (remote), learned from ParametersSet; they scale
	// ACK Delay fields parsed by Packet.Frames (RFC 9000 §19.3).
	ackExpLocal, ackExpRemote uint8
	ackRanges                 []wire.AckRange // scratch for Packet.Frames

	// The recovery metrics last logged, for RecoveryMetricsUpdated.
	metricSet  MetricFields
	metricVals [numMetrics]uint64
}

// FileName returns the name of the trace file for a connection, as the
// main schema's QLOGDIR guidance (§12.1) and the QUIC interop runner
// expect: the original destination connection ID in hex, "_", the vantage
// point type, and FileExt ("8394c8f03e515708_client.sqlog").
func FileName(odcid []byte, isClient bool) string {
	return hex.EncodeToString(odcid) + "_" + vantage(isClient) + FileExt
}

// Create creates (or truncates) dir/FileName(odcid, isClient) and writes
// the header record. now is the connection's start: the reference time of
// every event's "time". Close flushes and closes the file.
func Create(dir string, odcid []byte, isClient bool, now time.Time) (*Trace, error) {
	f, err := os.OpenFile(filepath.Join(dir, FileName(odcid, isClient)), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, err
	}
	t := NewWriter(f, odcid, isClient, now)
	t.closer = f
	if err := t.flush(); err != nil {
		f.Close()
		return nil, err
	}
	return t, nil
}

// NewWriter returns a Trace that writes to w, and writes the header record
// into its buffer. Close flushes but does not close w.
func NewWriter(w io.Writer, odcid []byte, isClient bool, now time.Time) *Trace {
	t := &Trace{
		w:            bufio.NewWriterSize(w, writeBufferSize),
		start:        now,
		buf:          make([]byte, 0, 512),
		pbuf:         make([]byte, 0, 512),
		ackExpLocal:  3, // RFC 9000 §18.2 default
		ackExpRemote: 3,
	}
	t.writeHeader(odcid, isClient)
	return t
}

func vantage(isClient bool) string {
	if isClient {
		return "client"
	}
	return "server"
}

// writeHeader writes the QlogFileSeq record (main schema §5): file_schema
// and serialization_format first (they should sit in the first 256 bytes,
// §3), then the TraceSeq with common_fields, vantage_point and
// event_schemas (§5.1).
func (t *Trace) writeHeader(odcid []byte, isClient bool) {
	b := append(t.buf[:0], recordSeparator, '{')
	b = fs(b, "file_schema", FileSchema)
	b = fs(b, "serialization_format", SerializationFormat)
	b = fs(b, "title", "tsumugi qlog")
	b = obj(b, "trace")
	b = obj(b, "common_fields")
	b = fhex(b, "group_id", odcid) // the ODCID, quic events §1.1
	// Times are durations since the connection's start (main schema §7.1):
	// the epoch is that instant, so a tool can still place the trace on
	// the calendar.
	b = fs(b, "time_format", "relative_to_epoch")
	b = obj(b, "reference_time")
	b = fs(b, "clock_type", "system")
	b = key(b, "epoch")
	b = append(b, '"')
	b = t.start.UTC().AppendFormat(b, "2006-01-02T15:04:05.000000Z07:00")
	b = append(b, '"', '}', '}')
	b = obj(b, "vantage_point")
	b = fs(b, "name", "tsumugi")
	b = fs(b, "type", vantage(isClient))
	b = append(b, '}')
	b = arr(b, "event_schemas")
	b = appendString(elem(b), EventSchema)
	b = append(b, ']', '}', '}', '\n')
	t.buf = b
	t.write(b)
}

// Close flushes the trace and closes the file Create opened. It returns the
// first error met while writing, if any. It is a no-op on a nil or closed
// Trace.
func (t *Trace) Close() error {
	if t == nil || t.w == nil {
		return nil
	}
	if t.err == nil {
		t.err = t.w.Flush()
	}
	if t.closer != nil {
		if err := t.closer.Close(); t.err == nil {
			t.err = err
		}
	}
	t.w, t.closer, t.off = nil, nil, true
	t.buf, t.pbuf = nil, nil
	return t.err
}

// Flush writes buffered records to the file (for a long-lived connection
// whose trace should be readable before it ends). No-op on a nil Trace.
func (t *Trace) Flush() error {
	if t == nil || t.w == nil {
		return nil
	}
	return t.flush()
}

func (t *Trace) flush() error {
	if t.err == nil {
		t.err = t.w.Flush()
		t.off = t.err != nil
	}
	return t.err
}

// write hands a finished record to the bufio.Writer.
func (t *Trace) write(rec []byte) {
	if t.off {
		return
	}
	if _, err := t.w.Write(rec); err != nil {
		t.err, t.off = err, true
	}
}

// begin starts an event record in t.buf: RS, then `{"time":…,"name":
// "quic:<name>","data":{`. The caller appends data members and calls end.
func (t *Trace) begin(now time.Time, name string) []byte {
	return appendEventStart(t.buf[:0], now.Sub(t.start), name)
}

// end closes the data object and the event, writes the record, and keeps
// b as the buffer for the next one.
func (t *Trace) end(b []byte) {
	b = append(b, '}', '}', '\n')
	t.write(b)
	t.buf = keep(b)
}

// appendEventStart appends the opening of an event record (main schema §7:
// time, name and data are required). Times before the reference time are
// written as 0, keeping the trace's times non-negative and ascending
// (§7.1).
func appendEventStart(b []byte, since time.Duration, name string) []byte {
	b = append(b, recordSeparator, '{')
	b = fms(b, "time", max(since, 0))
	b = key(b, "name")
	b = append(b, `"quic:`...)
	b = append(b, name...)
	b = append(b, '"')
	return obj(b, "data")
}

// keep returns b emptied for reuse, or nil if it grew too big to keep.
func keep(b []byte) []byte {
	if cap(b) > maxKeptBuffer {
		return nil
	}
	return b[:0]
}
