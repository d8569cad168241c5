package detect

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"slices"
)

// encoded is the persisted form of a Model.
type encoded struct {
	Name   string
	Config Config
	State  state
}

// MarshalBinary encodes the model, config included, with encoding/gob.
func (m *Model) MarshalBinary() ([]byte, error) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(encoded{Name: m.name, Config: m.cfg, State: m.st}); err != nil {
		return nil, fmt.Errorf("encode model %q: %w", m.name, err)
	}
	return buf.Bytes(), nil
}

// UnmarshalModel decodes a model encoded by MarshalBinary. It rejects data
// of another encoding version and data whose sizes do not match its config.
func UnmarshalModel(data []byte) (*Model, error) {
	var e encoded
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&e); err != nil {
		return nil, fmt.Errorf("decode model: %w", err)
	}
	if e.State.Version != stateVersion {
		return nil, fmt.Errorf("decode model %q: encoding version %d, this build reads version %d", e.Name, e.State.Version, stateVersion)
	}
	cfg := e.Config.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("decode model %q: %w", e.Name, err)
	}
	if err := e.State.check(cfg); err != nil {
		return nil, fmt.Errorf("decode model %q: %w", e.Name, err)
	}
	m := &Model{name: e.Name, st: e.State}
	m.applyConfig(cfg)
	if !m.st.Range.Set {
		// Encodings from before the value range was kept: the retained
		// points are the best estimate of the range, and without one every
		// new value would be a novelty.
		m.st.Range.seed(m.st.Points.CopyValues(nil))
	}
	return m, nil
}

// check verifies that decoded slices have the sizes the config implies, so
// that a corrupt record cannot cause an out-of-range index later.
func (s *state) check(cfg Config) error {
	p := &s.Points
	if len(p.Times) != cfg.RetentionPoints || len(p.Values) != cfg.RetentionPoints ||
		p.Len < 0 || p.Len > cfg.RetentionPoints || p.Head < 0 || p.Head >= cfg.RetentionPoints {
		return fmt.Errorf("corrupt point buffer: %d slots for retention_points %d", len(p.Values), cfg.RetentionPoints)
	}
	se := &s.Seasonal
	if len(se.Means) != se.Phases || len(se.Counts) != se.Phases || (se.Period > 0 && se.Phases != se.Period) {
		return fmt.Errorf("corrupt seasonal state: %d phases", se.Phases)
	}
	if se.PeriodNanos < 0 || se.Period < 0 {
		return fmt.Errorf("corrupt seasonal state: negative period")
	}
	if s.Pattern.Counts != nil && len(s.Pattern.Counts) != patternSlots {
		return fmt.Errorf("corrupt pattern state: %d slots", len(s.Pattern.Counts))
	}
	if bins := int(maxSurprisal/tailBinWidth) + 1; len(s.Score.Hist.Counts) != bins || len(s.Score.Hist.Centers) != bins {
		return fmt.Errorf("corrupt score state: %d histogram bins", len(s.Score.Hist.Counts))
	}
	if s.Trend.Window != cfg.MovingAverageWindow || s.Score.Pos < 0 || s.Score.Pos >= scoreRecent ||
		s.Pattern.Pos < 0 || s.Pattern.Pos >= patternLength-1 {
		return fmt.Errorf("corrupt state: window positions out of range")
	}
	return nil
}

// Reconfigure applies cfg to the model. When cfg changes only thresholds
// and switches, the model keeps its state. When it changes the shape of the
// state (retention, windows, seasonality), the model is rebuilt by replaying
// its retained points into a new model, so history older than the
// retention is lost, apart from the range of values seen.
func (m *Model) Reconfigure(cfg Config) error {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("metric %q: %w", m.name, err)
	}
	if sameShape(m.cfg, cfg) {
		m.applyConfig(cfg)
		return nil
	}
	fresh, err := NewModel(m.name, cfg)
	if err != nil {
		return err
	}
	for i := 0; i < m.st.Points.Len; i++ {
		ts, x := m.st.Points.At(i)
		fresh.update(ts, x, false)
	}
	// The range of values seen does not depend on the config, and the
	// retained points alone would narrow it.
	if m.st.Range.Set {
		fresh.st.Range = m.st.Range
	}
	*m = *fresh
	return nil
}

// sameShape reports whether two configs give states of the same layout.
func sameShape(a, b Config) bool {
	return a.RetentionPoints == b.RetentionPoints &&
		a.MovingAverageWindow == b.MovingAverageWindow &&
		a.BaselineWindow == b.BaselineWindow &&
		a.EnableSeasonal == b.EnableSeasonal &&
		a.SeasonalPeriod == b.SeasonalPeriod &&
		a.SeasonalPhases == b.SeasonalPhases &&
		a.Robust == b.Robust &&
		a.MinBaselineSamples == b.MinBaselineSamples
}

// Clone returns a deep copy of the model.
func (m *Model) Clone() *Model {
	c := *m
	c.scratch = nil
	st := &c.st
	st.Points.Times = slices.Clone(st.Points.Times)
	st.Points.Values = slices.Clone(st.Points.Values)
	st.Seasonal.Means = slices.Clone(st.Seasonal.Means)
	st.Seasonal.Counts = slices.Clone(st.Seasonal.Counts)
	st.Pattern.Counts = slices.Clone(st.Pattern.Counts)
	st.Score.Hist.Counts = slices.Clone(st.Score.Hist.Counts)
	st.Score.Hist.Centers = slices.Clone(st.Score.Hist.Centers)
	return &c
}

// Rename returns the model under another metric name; the receiver is
// unchanged.
func (m *Model) Rename(name string) *Model {
	c := m.Clone()
	c.name = name
	return c
}
