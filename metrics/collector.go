package metrics

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Collector gathers the counters of the connections created through
// NewConn and exports them as Prometheus metrics. It implements
// prometheus.Collector. It is safe for concurrent use; one Collector may
// serve any number of endpoints.
type Collector struct {
	mu     sync.Mutex
	live   map[*Conn]struct{}
	closed Totals // counters folded in from closed connections, and connection counts

	handshake  *prometheus.HistogramVec // by role
	srttClosed prometheus.Histogram     // smoothed RTT when a connection closed
	minRTT     prometheus.Histogram     // min RTT when a connection closed
	cwnd       prometheus.Histogram     // congestion window when a connection closed

	http *httpMetrics // HTTP/3 requests (http.go)
}

// Bucket layouts. RTTs run from loopback (tens of µs) to satellite links
// (seconds); handshakes from a millisecond to the 10 s default timeout;
// congestion windows from the RFC 9002 §7.2 minimum (2 datagrams) to tens
// of MB.
var (
	handshakeBuckets = prometheus.ExponentialBuckets(0.0005, 2, 16) // 0.5 ms .. 16 s
	rttBuckets       = prometheus.ExponentialBuckets(25e-6, 2, 18)  // 25 µs .. 3.3 s
	cwndBuckets      = prometheus.ExponentialBuckets(2400, 2, 16)   // 2.4 kB .. 79 MB
)

// New returns an empty Collector.
func New() *Collector {
	return &Collector{
		live: make(map[*Conn]struct{}),
		http: newHTTPMetrics(),
		handshake: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace,
			Name:      "handshake_duration_seconds",
			Help:      "Time from a connection's creation to the completion of its handshake.",
			Buckets:   handshakeBuckets,
		}, []string{"role"}),
		srttClosed: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace,
			Name:      "rtt_smoothed_seconds",
			Help:      "Smoothed RTT (RFC 9002 §5.3) of each connection when it closed, if it had an RTT sample.",
			Buckets:   rttBuckets,
		}),
		minRTT: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace,
			Name:      "rtt_min_seconds",
			Help:      "Minimum RTT (RFC 9002 §5.2) of each connection when it closed, if it had an RTT sample.",
			Buckets:   rttBuckets,
		}),
		cwnd: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace,
			Name:      "congestion_window_bytes",
			Help:      "Congestion window of each connection when it closed, if it had an RTT sample.",
			Buckets:   cwndBuckets,
		}),
	}
}

// Register registers c with reg (for example prometheus.DefaultRegisterer
// or a *prometheus.Registry).
func (c *Collector) Register(reg prometheus.Registerer) error {
	return reg.Register(c)
}

// add starts tracking m; NewConn calls it.
func (c *Collector) add(m *Conn) {
	c.mu.Lock()
	c.live[m] = struct{}{}
	c.closed.ConnectionsOpened[m.role&1]++
	c.mu.Unlock()
}

// remove folds m's counters into the totals and forgets m; Conn.Closed
// calls it. A second call for the same Conn does nothing.
func (c *Collector) remove(m *Conn, class CloseReason) {
	if class >= numCloseReasons {
		class = CloseTransportErr
	}
	c.mu.Lock()
	if _, ok := c.live[m]; !ok {
		c.mu.Unlock()
		return
	}
	delete(c.live, m)
	c.closed.addCounters(m)
	c.closed.ConnectionsClosed[m.role&1][class]++
	c.mu.Unlock()

	// Histograms are lock-free; observe them outside the mutex.
	if srtt := m.SmoothedRTT.Load(); srtt > 0 {
		c.srttClosed.Observe(time.Duration(srtt).Seconds())
		c.minRTT.Observe(time.Duration(m.MinRTT.Load()).Seconds())
		c.cwnd.Observe(float64(m.CongWindow.Load()))
	}
}

// handshakeDone records m's completed handshake, which took d; the
// connection goroutine calls it once per connection through
// Conn.HandshakeDone.
func (c *Collector) handshakeDone(m *Conn, d time.Duration) {
	c.mu.Lock()
	c.closed.Handshakes[m.role&1]++
	c.mu.Unlock()
	c.handshake.WithLabelValues(m.role.String()).Observe(d.Seconds())
}

// Snapshot returns the current totals: closed connections' final counters
// plus the live connections' current ones.
func (c *Collector) Snapshot() Totals {
	c.mu.Lock()
	t := c.closed
	var rttSum time.Duration
	var rttConns int
	for m := range c.live {
		t.addCounters(m)
		t.addLive(m, &rttSum, &rttConns)
	}
	c.mu.Unlock()
	if rttConns > 0 {
		t.SmoothedRTTMean = rttSum / time.Duration(rttConns)
	}
	return t
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range allDescs {
		ch <- d
	}
	c.handshake.Describe(ch)
	c.srttClosed.Describe(ch)
	c.minRTT.Describe(ch)
	c.cwnd.Describe(ch)
	c.http.describe(ch)
}

// Collect implements prometheus.Collector: it takes a Snapshot and turns it
// into constant metrics.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	t := c.Snapshot()
	emit(ch, &t)
	c.handshake.Collect(ch)
	c.srttClosed.Collect(ch)
	c.minRTT.Collect(ch)
	c.cwnd.Collect(ch)
	c.http.collect(ch)
}

var _ prometheus.Collector = (*Collector)(nil)
