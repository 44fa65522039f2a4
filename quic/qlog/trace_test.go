package qlog

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func TestFileName(t *testing.T) {
	tests := []struct {
		odcid    []byte
		isClient bool
		want     string
	}{
		{testODCID, true, "8394c8f03e515708_client.sqlog"},
		{[]byte{0, 0xff}, false, "00ff_server.sqlog"},
		{nil, false, "_server.sqlog"},
	}
	for _, tt := range tests {
		if got := FileName(tt.odcid, tt.isClient); got != tt.want {
			t.Errorf("FileName(%x, %v) = %q, want %q", tt.odcid, tt.isClient, got, tt.want)
		}
	}
}

func TestHeader(t *testing.T) {
	for _, isClient := range []bool{true, false} {
		var buf bytes.Buffer
		tr := NewWriter(&buf, testODCID, isClient, testStart)
		data := output(t, tr, &buf)
		recs := splitRecords(t, data)
		if len(recs) != 1 {
			t.Fatalf("%d records, want the header only", len(recs))
		}
		vp := "server"
		if isClient {
			vp = "client"
		}
		want := `{
			"file_schema": "urn:ietf:params:qlog:file:sequential",
			"serialization_format": "application/qlog+json-seq",
			"title": "tsumugi qlog",
			"trace": {
				"common_fields": {
					"group_id": "8394c8f03e515708",
					"time_format": "relative_to_epoch",
					"reference_time": {"clock_type": "system", "epoch": "2025-01-02T03:04:05.600000Z"}
				},
				"vantage_point": {"name": "tsumugi", "type": "` + vp + `"},
				"event_schemas": ["urn:ietf:params:qlog:events:quic-13"]
			}
		}`
		if got, want := decode(t, recs[0]), decode(t, []byte(want)); !reflect.DeepEqual(got, want) {
			t.Errorf("header:\n got %v\nwant %v", got, want)
		}
		// Main schema §3: both fields within the first 256 bytes.
		head := string(data[:min(256, len(data))])
		for _, s := range []string{`"file_schema":"urn:ietf:params:qlog:file:sequential"`, `"serialization_format":"application/qlog+json-seq"`} {
			if !bytes.Contains([]byte(head), []byte(s)) {
				t.Errorf("%s is not in the first 256 bytes", s)
			}
		}
	}
}

func TestCreate(t *testing.T) {
	dir := t.TempDir()
	now := testStart
	tr, err := Create(dir, testODCID, false, now)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "8394c8f03e515708_server.sqlog")
	// The header is on disk at once, before any event or Close.
	if data, err := os.ReadFile(path); err != nil || len(splitRecords(t, data)) != 1 {
		t.Fatalf("after Create: %v, %q", err, data)
	}
	tr.ConnectionStateUpdated(now.Add(time.Millisecond), "", StateAttempted)
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tr.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	evs := events(t, data)
	if len(evs) != 1 || evs[0]["name"] != "quic:connection_state_updated" {
		t.Errorf("events = %v", evs)
	}
	if _, err := Create(filepath.Join(dir, "missing"), testODCID, true, now); err == nil {
		t.Error("Create in a missing directory succeeded")
	}
}

func TestEventTime(t *testing.T) {
	tests := []struct {
		since time.Duration
		want  string
	}{
		{0, "0.000"},
		{1500 * time.Microsecond, "1.500"},
		{1999 * time.Nanosecond, "0.001"},
		{12*time.Second + 345678*time.Microsecond, "12345.678"},
		{-time.Second, "0.000"}, // before the reference time: clamped
		{1000 * time.Hour, "3600000000.000"},
	}
	for _, tt := range tests {
		tr, buf := newTestTrace()
		tr.MTUUpdated(testStart.Add(tt.since), 0, 1200, false)
		recs := splitRecords(t, output(t, tr, buf))
		ev := decode(t, recs[1])
		if got := ev["time"].(json.Number).String(); got != tt.want {
			t.Errorf("time after %v = %s, want %s", tt.since, got, tt.want)
		}
	}
}

// failWriter fails every write after the first n bytes.
type failWriter struct{ n int }

var errDisk = errors.New("disk full")

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, errDisk
	}
	w.n -= len(p)
	return len(p), nil
}

func TestWriteError(t *testing.T) {
	w := &failWriter{n: 100}
	tr := NewWriter(w, testODCID, true, testStart)
	for range 1000 { // more than the bufio.Writer holds
		tr.MTUUpdated(testStart, 1200, 1500, false)
	}
	if !tr.off {
		t.Error("trace still writing after a write error")
	}
	tr.PacketsAcked(testStart, SpaceInitial, []uint64{1}) // a no-op now
	if err := tr.Close(); !errors.Is(err, errDisk) {
		t.Errorf("Close = %v, want %v", err, errDisk)
	}
	if err := tr.Flush(); err != nil {
		t.Errorf("Flush after Close = %v", err)
	}
}

func TestClosedTraceIsNoOp(t *testing.T) {
	tr, buf := newTestTrace()
	data := append([]byte(nil), output(t, tr, buf)...)
	writeAll(tr, testStart)
	p := tr.BeginPacket(testStart, true, PacketHeader{})
	p.Ping()
	p.End(10)
	if !bytes.Equal(buf.Bytes(), data) {
		t.Errorf("a closed trace wrote %q", buf.Bytes()[len(data):])
	}
}

func TestNilTrace(t *testing.T) {
	var tr *Trace
	writeAll(tr, testStart) // must not panic
	if err := tr.Close(); err != nil {
		t.Errorf("Close = %v", err)
	}
	if err := tr.Flush(); err != nil {
		t.Errorf("Flush = %v", err)
	}
	allocs := testing.AllocsPerRun(100, func() { writeAll(tr, testStart) })
	// writeAll builds its arguments (slices, transport parameters) itself;
	// count those by running it on a closed trace, which also does nothing.
	closed, buf := newTestTrace()
	output(t, closed, buf)
	base := testing.AllocsPerRun(100, func() { writeAll(closed, testStart) })
	if allocs > base {
		t.Errorf("nil Trace: %v allocations per run, the arguments alone take %v", allocs, base)
	}
	hdr := PacketHeader{DCID: testODCID}
	payload := []byte{1, 0, 0}
	if n := testing.AllocsPerRun(100, func() {
		p := tr.BeginPacket(testStart, true, hdr)
		p.Stream(0, 0, 100, false)
		p.Ack(nil, 0)
		p.Frames(payload)
		p.End(1200)
		tr.RecoveryMetricsUpdated(testStart, RecoveryMetrics{Fields: AllMetrics})
		tr.ConnectionClosed(testStart, Close{Reason: "x"})
	}); n != 0 {
		t.Errorf("nil Trace: %v allocations per packet", n)
	}
}

// TestRecordsParse checks the framing and JSON of every record writeAll
// produces.
func TestRecordsParse(t *testing.T) {
	tr, buf := newTestTrace()
	writeAll(tr, testStart.Add(time.Second))
	recs := splitRecords(t, output(t, tr, buf))
	if len(recs) < 30 {
		t.Fatalf("only %d records", len(recs))
	}
	for _, r := range recs {
		decode(t, r)
		if bytes.ContainsAny(r, "\n\x1e") {
			t.Errorf("record holds a raw LF or RS: %q", r)
		}
	}
}
