package http3

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tsumugi-quic/tsumugi/metrics"
)

// requestCounts scrapes tsumugi_http3_requests_total and the duration
// histogram's sample counts from mc, by class.
func requestCounts(t *testing.T, mc *metrics.Collector) (requests, durations map[string]float64) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := mc.Register(reg); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	requests, durations = make(map[string]float64), make(map[string]float64)
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			class := ""
			for _, l := range m.GetLabel() {
				if l.GetName() == "class" {
					class = l.GetValue()
				}
			}
			switch mf.GetName() {
			case "tsumugi_http3_requests_total":
				requests[class] = m.GetCounter().GetValue()
			case "tsumugi_http3_request_duration_seconds":
				durations[class] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return requests, durations
}

// TestServerMetrics: every request answered with a status is counted by
// class, once, with a duration.
func TestServerMetrics(t *testing.T) {
	mc := metrics.New()
	e := newTestEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/missing":
			http.NotFound(w, r)
		case "/moved":
			http.Redirect(w, r, "/", http.StatusMovedPermanently)
		case "/fail":
			w.WriteHeader(http.StatusServiceUnavailable)
		case "/panic":
			panic("handler bug")
		case "/hints":
			w.WriteHeader(http.StatusEarlyHints) // informational: the final status is 200
			io.WriteString(w, "ok")
		default:
			io.WriteString(w, "ok")
		}
	}), func(s *Server) {
		s.Metrics = mc
		s.MaxHeaderBytes = 1000
		s.ErrorLog = discardLog
	})
	c := &http.Client{
		Transport:     e.tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	for _, p := range []string{"/", "/a", "/hints", "/missing", "/moved", "/fail"} {
		resp, err := c.Get(e.url + p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if resp, err := c.Get(e.url + "/panic"); err == nil {
		resp.Body.Close()
		t.Fatal("/panic: no error")
	}
	// 431 from the server, for a raw request the client would not send.
	rc := dialRaw(t, e)
	big := field{"x-big", strings.Repeat("b", 2000)}
	if status, _ := readRawResponse(t, rc.request(headersFrame(append(getFields("/"), big)...), true)); status != "431" {
		t.Fatalf("status %s, want 431", status)
	}

	// Shutdown waits for every request to be done, and so recorded.
	if err := e.srv.Shutdown(testContext(t)); err != nil {
		t.Fatal(err)
	}
	requests, durations := requestCounts(t, mc)
	want := map[string]float64{"1xx": 0, "2xx": 3, "3xx": 1, "4xx": 2, "5xx": 2}
	for class, w := range want {
		if requests[class] != w {
			t.Errorf("requests{class=%s} = %v, want %v", class, requests[class], w)
		}
		if durations[class] != w {
			t.Errorf("durations{class=%s} count = %v, want %v", class, durations[class], w)
		}
	}
}

// TestServerMetricsNil: a Server without Metrics serves as before.
func TestServerMetricsNil(t *testing.T) {
	e := newTestEnv(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	resp, err := e.client().Get(e.url + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "ok" {
		t.Fatalf("body %q", b)
	}
	if err := e.srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}
