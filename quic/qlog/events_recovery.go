package qlog

import "time"

// Recovery and security events, quic events §6 and §7.

// MetricFields is a set of RecoveryMetrics fields.
type MetricFields uint16

// The fields of RecoveryMetrics, in the order of §7.2.
const (
	MetricMinRTT MetricFields = 1 << iota
	MetricSmoothedRTT
	MetricLatestRTT
	MetricRTTVariance
	MetricPTOCount
	MetricCongestionWindow
	MetricBytesInFlight
	MetricSSThresh
	MetricPacketsInFlight
	MetricPacingRate

	// AllMetrics is every field.
	AllMetrics MetricFields = 1<<numMetrics - 1
)

const (
	numMetrics   = 10
	numDurations = 4 // the first four metrics are durations, logged in ms
)

var metricNames = [numMetrics]string{
	"min_rtt", "smoothed_rtt", "latest_rtt", "rtt_variance", "pto_count",
	"congestion_window", "bytes_in_flight", "ssthresh", "packets_in_flight",
	"pacing_rate",
}

// RecoveryMetrics are the values of quic:recovery_metrics_updated (§7.2),
// RFC 9002 Appendix A.3 and B.2. Fields says which of them the caller
// gives.
type RecoveryMetrics struct {
	MinRTT, SmoothedRTT, LatestRTT, RTTVariance time.Duration
	PTOCount                                    uint64
	CongestionWindow, BytesInFlight, SSThresh   uint64 // bytes
	PacketsInFlight                             uint64 // all spaces
	PacingRate                                  uint64 // bits per second
	Fields                                      MetricFields
}

func (m *RecoveryMetrics) values() [numMetrics]uint64 {
	return [numMetrics]uint64{
		uint64(m.MinRTT), uint64(m.SmoothedRTT), uint64(m.LatestRTT), uint64(m.RTTVariance),
		m.PTOCount, m.CongestionWindow, m.BytesInFlight, m.SSThresh,
		m.PacketsInFlight, m.PacingRate,
	}
}

// RecoveryMetricsUpdated logs quic:recovery_metrics_updated (§7.2) with
// those of m.Fields whose value changed since it was last logged (the draft
// asks to log only actual updates, grouped in one event). Nothing is logged
// when none changed, so the caller can pass every metric after each ACK.
func (t *Trace) RecoveryMetricsUpdated(now time.Time, m RecoveryMetrics) {
	if t == nil || t.off {
		return
	}
	vals := m.values()
	var changed MetricFields
	for i := range numMetrics {
		bit := MetricFields(1) << i
		if m.Fields&bit != 0 && (t.metricSet&bit == 0 || t.metricVals[i] != vals[i]) {
			changed |= bit
		}
	}
	if changed == 0 {
		return
	}
	b := t.begin(now, "recovery_metrics_updated")
	for i := range numMetrics {
		if changed&(1<<i) == 0 {
			continue
		}
		if i < numDurations {
			b = fms(b, metricNames[i], time.Duration(vals[i]))
		} else {
			b = fu(b, metricNames[i], vals[i])
		}
		t.metricVals[i] = vals[i]
	}
	t.metricSet |= changed
	t.end(b)
}

// CongestionStateUpdated logs quic:congestion_state_updated (§7.3). The
// draft leaves the states to the algorithm (for RFC 9002 NewReno:
// "slow_start", "congestion_avoidance", "application_limited",
// "recovery"). An empty old state or trigger is left out.
func (t *Trace) CongestionStateUpdated(now time.Time, old, new, trigger string) {
	if t == nil || t.off {
		return
	}
	b := t.begin(now, "congestion_state_updated")
	if old != "" {
		b = fs(b, "old", old)
	}
	b = fs(b, "new", new)
	if trigger != "" {
		b = fs(b, "trigger", trigger)
	}
	t.end(b)
}

// ECNStateUpdated logs quic:ecn_state_updated (§7.6). An empty old state is
// left out.
func (t *Trace) ECNStateUpdated(now time.Time, old, new ECNState) {
	if t == nil || t.off {
		return
	}
	b := t.begin(now, "ecn_state_updated")
	if old != "" {
		b = fs(b, "old", string(old))
	}
	b = fs(b, "new", string(new))
	t.end(b)
}

// KeyUpdated logs quic:key_updated (§6.1): keys of type kt were installed.
// keyPhase (RFC 9001 §6, the count of key updates) is written for 1-RTT
// keys only. No key material is logged: crypto/tls's KeyLogWriter does
// that.
func (t *Trace) KeyUpdated(now time.Time, kt KeyType, keyPhase uint64, trigger KeyTrigger) {
	t.keyEvent(now, "key_updated", kt, keyPhase, trigger)
}

// KeyDiscarded logs quic:key_discarded (§6.2): keys of type kt were
// dropped (RFC 9001 §4.9 for Initial and Handshake keys, §6.1 for old
// 1-RTT keys).
func (t *Trace) KeyDiscarded(now time.Time, kt KeyType, keyPhase uint64, trigger KeyTrigger) {
	t.keyEvent(now, "key_discarded", kt, keyPhase, trigger)
}

func (t *Trace) keyEvent(now time.Time, name string, kt KeyType, keyPhase uint64, trigger KeyTrigger) {
	if t == nil || t.off {
		return
	}
	b := t.begin(now, name)
	b = fs(b, "key_type", string(kt))
	if kt == KeyServer1RTT || kt == KeyClient1RTT {
		b = fu(b, "key_phase", keyPhase)
	}
	if trigger != "" {
		b = fs(b, "trigger", string(trigger))
	}
	t.end(b)
}
