package metrics

import (
	"testing"

	dto "github.com/prometheus/client_model/go"
)

// sample returns the value of the counter, gauge or histogram count named
// name whose labels equal want, and whether there is one.
func sample(t *testing.T, m *Metrics, name string, want map[string]string) (float64, bool) {
	t.Helper()
	families, err := m.Gatherer().Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, mf := range families {
		if mf.GetName() != name {
			continue
		}
		for _, metric := range mf.GetMetric() {
			if labelsEqual(metric.GetLabel(), want) {
				return value(metric), true
			}
		}
	}
	return 0, false
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	case m.Histogram != nil:
		return float64(m.GetHistogram().GetSampleCount())
	}
	return m.GetUntyped().GetValue()
}

func labelsEqual(labels []*dto.LabelPair, want map[string]string) bool {
	if len(labels) != len(want) {
		return false
	}
	for _, l := range labels {
		if v, ok := want[l.GetName()]; !ok || v != l.GetValue() {
			return false
		}
	}
	return true
}

// wantSample checks that the series exists with value want.
func wantSample(t *testing.T, m *Metrics, name string, labels map[string]string, want float64) {
	t.Helper()
	got, ok := sample(t, m, name, labels)
	if !ok {
		t.Errorf("%s%v missing", name, labels)
		return
	}
	if got != want {
		t.Errorf("%s%v = %g, want %g", name, labels, got, want)
	}
}

// wantNoSample checks that no series of name has exactly labels.
func wantNoSample(t *testing.T, m *Metrics, name string, labels map[string]string) {
	t.Helper()
	if got, ok := sample(t, m, name, labels); ok {
		t.Errorf("%s%v = %g, want no such series", name, labels, got)
	}
}

// labels builds a label map from name, value pairs.
func labels(pairs ...string) map[string]string {
	out := map[string]string{}
	for i := 0; i+1 < len(pairs); i += 2 {
		out[pairs[i]] = pairs[i+1]
	}
	return out
}
