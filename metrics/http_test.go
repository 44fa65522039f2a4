package metrics

import (
	"math"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestHTTP3Request(t *testing.T) {
	tests := []struct {
		name   string
		status int
		d      time.Duration
		class  string
	}{
		{"continue", 103, time.Millisecond, "1xx"},
		{"ok", 200, 2 * time.Millisecond, "2xx"},
		{"partial", 206, 3 * time.Millisecond, "2xx"},
		{"redirect", 301, 4 * time.Millisecond, "3xx"},
		{"not found", 404, 5 * time.Millisecond, "4xx"},
		{"too large", 431, 6 * time.Millisecond, "4xx"},
		{"internal", 500, 7 * time.Millisecond, "5xx"},
		{"599", 599, 8 * time.Millisecond, "5xx"},
		{"invalid high", 999, 9 * time.Millisecond, "5xx"},
		{"invalid low", 0, 10 * time.Millisecond, "5xx"},
	}
	c := New()
	wantCount := make(map[string]float64)
	wantSum := make(map[string]float64)
	for _, tt := range tests {
		c.HTTP3Request(tt.status, tt.d)
		wantCount[tt.class]++
		wantSum[tt.class] += tt.d.Seconds()
	}
	got := gather(t, c)
	for _, class := range statusClassNames {
		if v := got["tsumugi_http3_requests_total{class="+class+"}"]; v != wantCount[class] {
			t.Errorf("requests{class=%s} = %v, want %v", class, v, wantCount[class])
		}
		if v := got["tsumugi_http3_request_duration_seconds_count{class="+class+"}"]; v != wantCount[class] {
			t.Errorf("duration count{class=%s} = %v, want %v", class, v, wantCount[class])
		}
		if v := got["tsumugi_http3_request_duration_seconds_sum{class="+class+"}"]; math.Abs(v-wantSum[class]) > 1e-9 {
			t.Errorf("duration sum{class=%s} = %v, want %v", class, v, wantSum[class])
		}
	}
}

// TestHTTP3SeriesFixed: every class is exported before any request.
func TestHTTP3SeriesFixed(t *testing.T) {
	got := gather(t, New())
	for _, class := range statusClassNames {
		key := "tsumugi_http3_requests_total{class=" + class + "}"
		if v, ok := got[key]; !ok || v != 0 {
			t.Errorf("%s = %v (present %v), want 0", key, v, ok)
		}
	}
}

func TestHTTP3NilCollector(t *testing.T) {
	var c *Collector
	c.HTTP3Request(200, time.Second) // must not panic
}

func TestHTTP3Promlint(t *testing.T) {
	c := New()
	simulate(c)
	c.HTTP3Request(200, time.Millisecond)
	c.HTTP3Request(404, time.Millisecond)
	problems, err := testutil.CollectAndLint(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
}

func TestHTTP3NoAllocs(t *testing.T) {
	c := New()
	if n := testing.AllocsPerRun(100, func() { c.HTTP3Request(200, time.Millisecond) }); n != 0 {
		t.Errorf("HTTP3Request allocates %v times", n)
	}
}

// TestHTTP3Concurrent records from many goroutines while scraping (for
// -race) and checks that no request is lost.
func TestHTTP3Concurrent(t *testing.T) {
	const goroutines, each = 8, 500
	c := New()
	var wg sync.WaitGroup
	for i := range goroutines {
		wg.Go(func() {
			for j := range each {
				c.HTTP3Request(200+100*((i+j)%4), time.Microsecond)
			}
		})
	}
	wg.Go(func() {
		for range 20 {
			testutil.CollectAndCount(c)
		}
	})
	wg.Wait()
	got := gather(t, c)
	var total float64
	for _, class := range statusClassNames {
		total += got["tsumugi_http3_requests_total{class="+class+"}"]
	}
	if total != goroutines*each {
		t.Errorf("requests = %v, want %d", total, goroutines*each)
	}
}

func BenchmarkHTTP3Request(b *testing.B) {
	c := New()
	b.ReportAllocs()
	for b.Loop() {
		c.HTTP3Request(200, time.Millisecond)
	}
}
