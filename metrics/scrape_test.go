package metrics

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// TestScrapeOverHTTP serves the collector with promhttp on a loopback port
// and parses what a Prometheus server would scrape.
func TestScrapeOverHTTP(t *testing.T) {
	c := New()
	simulate(c)
	reg := prometheus.NewRegistry()
	if err := c.Register(reg); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	defer func() {
		srv.Shutdown(context.Background())
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Error(err)
		}
	}()

	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	// Ask for the text format explicitly, as older Prometheus servers do.
	req, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+"/metrics", nil)
	req.Header.Set("Accept", "text/plain; version=0.0.4")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	var list []*dto.MetricFamily
	for _, f := range fams {
		list = append(list, f)
	}
	got := flatten(list)
	checks := map[string]float64{
		"tsumugi_connections_open{role=server}":                 1,
		"tsumugi_packets_sent_total{packet_type=1rtt}":          2,
		"tsumugi_handshake_duration_seconds_count{role=client}": 1,
	}
	for k, w := range checks {
		if got[k] != w {
			t.Errorf("%s = %v, want %v", k, got[k], w)
		}
	}
	if f := fams["tsumugi_sent_bytes_total"]; f == nil || f.GetType() != dto.MetricType_COUNTER {
		t.Errorf("tsumugi_sent_bytes_total missing or not a counter: %v", f)
	}
}
