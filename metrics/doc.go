// Package metrics exports Tsumugi's counters to Prometheus.
//
// Each connection owns a *Conn: plain atomic counters that the connection
// goroutine bumps on its hot path without labels, maps or locks. A
// *Collector keeps the set of live Conns and, when it is closed, folds a
// Conn's final values into running totals. Only at scrape time does the
// Collector build Prometheus metrics: it sums the totals and the live
// connections' counters. So a busy connection never touches Prometheus and
// an idle endpoint costs nothing to keep.
//
// Use it by creating one Collector, registering it, and giving it to the
// quic.Config of the endpoints it should watch:
//
//	mc := metrics.New()
//	if err := mc.Register(prometheus.DefaultRegisterer); err != nil { ... }
//	http.Handle("/metrics", promhttp.Handler())
//
// Every metric is listed, with its labels and what to alert on, in
// docs/metrics.md. No metric has a per-connection label: the label values
// are small fixed sets (role, close reason, packet type, drop reason,
// stream type, direction).
package metrics
