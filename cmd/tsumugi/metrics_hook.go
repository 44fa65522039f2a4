package main

import (
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/tsumugi-quic/tsumugi/metrics"
	"github.com/tsumugi-quic/tsumugi/quic"
)

// withCollector returns a copy of conf (nil: defaults) whose connections
// report to mc.
func withCollector(conf *quic.Config, mc *metrics.Collector) *quic.Config {
	var c quic.Config
	if conf != nil {
		c = *conf
	}
	c.Metrics = mc
	return &c
}

// metricsServer serves Prometheus text at http://addr/metrics: the
// Collector, and the Go runtime and process collectors.
type metricsServer struct {
	srv  *http.Server
	addr net.Addr
	done chan error
}

func startMetricsServer(addr string, mc *metrics.Collector) (*metricsServer, error) {
	reg := prometheus.NewRegistry()
	if err := mc.Register(reg); err != nil {
		return nil, err
	}
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	ms := &metricsServer{
		srv:  &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second},
		addr: ln.Addr(),
		done: make(chan error, 1),
	}
	go func() { ms.done <- ms.srv.Serve(ln) }()
	return ms, nil
}

// close stops the server and waits for it.
func (ms *metricsServer) close() error {
	err := ms.srv.Close()
	if serr := <-ms.done; !errors.Is(serr, http.ErrServerClosed) {
		return serr
	}
	return err
}
