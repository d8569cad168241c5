package detect

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestMarshalRoundTrip(t *testing.T) {
	cfg := Config{EnableSeasonal: true, SeasonalPeriod: SeasonalPeriod{Auto: true}, Robust: true}
	values := noisy(20, 2500, 10, 2)
	for i := range values {
		values[i] += 5 * float64(i%60/30) // a 60-point square wave
	}
	m := newTestModel(t, cfg)
	feed(t, m, values[:2000])

	data, err := m.MarshalBinary()
	if err != nil {
		t.Fatalf("MarshalBinary: %v", err)
	}
	restored, err := UnmarshalModel(data)
	if err != nil {
		t.Fatalf("UnmarshalModel: %v", err)
	}
	if !reflect.DeepEqual(m.st, restored.st) {
		t.Fatal("restored state differs from the original")
	}
	if !reflect.DeepEqual(m.cfg, restored.cfg) || m.name != restored.name {
		t.Fatalf("restored config or name differs: %+v %q", restored.cfg, restored.name)
	}
	again, err := restored.MarshalBinary()
	if err != nil || !bytes.Equal(data, again) {
		t.Fatalf("re-encoding differs (%v)", err)
	}

	// Both models must go on identically.
	for i, v := range values[2000:] {
		ts := t0.Add(time.Duration(2000+i) * time.Minute)
		a, b := m.Observe(ts, v, nil), restored.Observe(ts, v, nil)
		if a.Score != b.Score || a.IsAnomaly != b.IsAnomaly {
			t.Fatalf("point %d: original %v/%v, restored %v/%v", 2000+i, a.Score, a.IsAnomaly, b.Score, b.IsAnomaly)
		}
	}
}

func TestUnmarshalRejectsCorruptData(t *testing.T) {
	m := newTestModel(t, Config{})
	feed(t, m, noisy(21, 100, 0, 1))
	data, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := UnmarshalModel(data[:len(data)/2]); err == nil {
		t.Error("UnmarshalModel accepted truncated data")
	}
	if _, err := UnmarshalModel([]byte("not a model")); err == nil {
		t.Error("UnmarshalModel accepted garbage")
	}

	m.st.Points.Values = m.st.Points.Values[:10]
	bad, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := UnmarshalModel(bad); err == nil || !strings.Contains(err.Error(), "corrupt point buffer") {
		t.Errorf("UnmarshalModel error = %v, want a corrupt point buffer", err)
	}
}

func TestReconfigure(t *testing.T) {
	m := newTestModel(t, Config{})
	feed(t, m, noisy(22, 300, 0, 1))
	s := 0.2
	if err := m.Reconfigure(Config{Sensitivity: &s}); err != nil {
		t.Fatalf("Reconfigure: %v", err)
	}
	if m.Samples() != 300 {
		t.Errorf("samples = %d after a threshold change, want 300 kept", m.Samples())
	}
	if err := m.Reconfigure(Config{RetentionPoints: 128}); err != nil {
		t.Fatalf("Reconfigure retention: %v", err)
	}
	if m.Samples() != 300 || m.st.Points.Len != 128 {
		t.Errorf("after a retention change: %d samples, %d retained; want 300 replayed, 128 retained",
			m.Samples(), m.st.Points.Len)
	}
	bad := 2.0
	if err := m.Reconfigure(Config{Sensitivity: &bad}); err == nil {
		t.Error("Reconfigure accepted sensitivity 2")
	}
}

func TestReconfigureKeepsValueRange(t *testing.T) {
	values := noisy(24, 200, 0, 1)
	values[10] = 50 // long gone from the 64 retained points
	m := newTestModel(t, Config{RetentionPoints: 64})
	feed(t, m, values)
	seen := m.st.Range
	if err := m.Reconfigure(Config{RetentionPoints: 32}); err != nil {
		t.Fatalf("Reconfigure retention: %v", err)
	}
	if m.st.Range != seen {
		t.Errorf("value range %+v after the rebuild, want %+v kept", m.st.Range, seen)
	}
}

func TestCloneIsIndependent(t *testing.T) {
	m := newTestModel(t, Config{EnableSeasonal: true, SeasonalPeriod: SeasonalPeriod{Points: 10}})
	feed(t, m, noisy(23, 200, 0, 1))
	c := m.Clone()
	if !reflect.DeepEqual(m.st, c.st) {
		t.Fatal("clone differs from the original")
	}
	c.Observe(t0.Add(time.Hour*24), 5, nil)
	if m.Samples() != 200 || c.Samples() != 201 {
		t.Fatalf("samples original %d clone %d, want 200 and 201", m.Samples(), c.Samples())
	}
	if reflect.DeepEqual(m.st.Points, c.st.Points) || reflect.DeepEqual(m.st.Seasonal.Means, c.st.Seasonal.Means) {
		t.Error("clone shares buffers with the original")
	}
}
