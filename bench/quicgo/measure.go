package main

import (
	"fmt"
	"math"
	"runtime"
	"strings"
	"time"
)

// cpuMeter measures the CPU both sides use between start and stop.
type cpuMeter struct {
	peer        perfPeer
	self, peer0 time.Duration
	ok          bool
}

func startCPU(peer perfPeer) *cpuMeter {
	m := &cpuMeter{peer: peer}
	var ok bool
	m.self, ok = cpuTime()
	p, err := peer.cpu()
	m.peer0, m.ok = p, ok && err == nil
	return m
}

// stop returns the CPU time used since start, NaN seconds when unknown.
func (m *cpuMeter) stop() float64 {
	self, ok := cpuTime()
	p, err := m.peer.cpu()
	if !m.ok || !ok || err != nil {
		return math.NaN()
	}
	return (self - m.self + p - m.peer0).Seconds()
}

// heapAfterGC returns the bytes of live heap objects after a full GC.
func heapAfterGC() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// result formats a RESULT line from alternating keys and values.
func result(mode string, kv ...any) string {
	var b strings.Builder
	b.WriteString("RESULT ")
	b.WriteString(mode)
	for i := 0; i+1 < len(kv); i += 2 {
		fmt.Fprintf(&b, " %s=", kv[i])
		switch v := kv[i+1].(type) {
		case float64:
			b.WriteString(formatFloat(v))
		default:
			fmt.Fprint(&b, v)
		}
	}
	return b.String()
}

// formatFloat prints up to 4 significant digits, without exponent for the
// usual ranges.
func formatFloat(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "NaN"
	case math.Abs(v) >= 1000:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 1:
		return fmt.Sprintf("%.3f", v)
	default:
		return fmt.Sprintf("%.4g", v)
	}
}
