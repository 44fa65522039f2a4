package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// HTTP/3 request metrics. An http3.Server with a Collector in its Metrics
// field records each request it answers through HTTP3Request.

// statusClassNames are the values of the "class" label: the first digit of
// a status code (RFC 9110 §15).
var statusClassNames = [...]string{"1xx", "2xx", "3xx", "4xx", "5xx"}

// requestBuckets span a small file on loopback (a fraction of a
// millisecond) to a large download or a long poll (over a minute).
var requestBuckets = prometheus.ExponentialBuckets(0.0005, 2, 18) // 0.5 ms .. 65 s

// httpMetrics are the HTTP/3 request counter and duration histogram, with
// their children resolved once per class so that recording a request
// looks up no label.
type httpMetrics struct {
	requests  *prometheus.CounterVec
	durations *prometheus.HistogramVec
	byClass   [len(statusClassNames)]struct {
		requests prometheus.Counter
		duration prometheus.Observer
	}
}

func newHTTPMetrics() *httpMetrics {
	h := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace,
			Name:      "http3_requests_total",
			Help:      "HTTP/3 requests answered by a server, by the class of the response status.",
		}, []string{"class"}),
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace,
			Name:      "http3_request_duration_seconds",
			Help:      "Time from an HTTP/3 request's header to the end of its response, by the class of the response status.",
			Buckets:   requestBuckets,
		}, []string{"class"}),
	}
	// Every class is exported from the start, at zero: the set of series
	// never depends on traffic.
	for i, name := range statusClassNames {
		h.byClass[i].requests = h.requests.WithLabelValues(name)
		h.byClass[i].duration = h.durations.WithLabelValues(name)
	}
	return h
}

// statusClass maps a status code to its index in statusClassNames. Codes
// outside 100..599 are not valid HTTP statuses (RFC 9110 §15); a handler
// that sends one is at fault, so they count as server errors.
func statusClass(status int) int {
	if status < 100 || status > 599 {
		return len(statusClassNames) - 1
	}
	return status/100 - 1
}

// HTTP3Request records one HTTP/3 request a server answered: the status
// of its response and the time from the request's header to the end of
// the response. It is safe for concurrent use, allocates nothing, and
// does nothing on a nil Collector.
func (c *Collector) HTTP3Request(status int, d time.Duration) {
	if c == nil {
		return
	}
	m := &c.http.byClass[statusClass(status)]
	m.requests.Inc()
	m.duration.Observe(d.Seconds())
}

func (h *httpMetrics) describe(ch chan<- *prometheus.Desc) {
	h.requests.Describe(ch)
	h.durations.Describe(ch)
}

func (h *httpMetrics) collect(ch chan<- prometheus.Metric) {
	h.requests.Collect(ch)
	h.durations.Collect(ch)
}
