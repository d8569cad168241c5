package detect

import (
	"fmt"
	"math"
	"time"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/stat"
)

// Detection is the check of one value against a metric's baseline, without
// adding it to the model.
type Detection struct {
	Metric    string    `json:"metric"`
	Timestamp time.Time `json:"timestamp"`
	Value     float64   `json:"value"`
	// IsAnomaly is true when the value is outside Expected.
	IsAnomaly bool `json:"is_anomaly"`
	// Expected is the range used for the decision: the seasonal phase's
	// range when seasonality is known for the timestamp, else the baseline's.
	Expected Range `json:"expected_range"`
	// Deviation is |z| against the baseline used.
	Deviation float64 `json:"deviation_score"`
	// Score grades how rare the value alone is, on the scale of streaming
	// scores: −log10 of its two-sided tail probability under the range
	// tested, over 5, capped at 1 (see valueScore).
	Score float64 `json:"anomaly_score"`
	// Anomaly is set when IsAnomaly is true.
	Anomaly *Anomaly `json:"anomaly,omitempty"`
}

// DetectValue checks x at ts against the baseline and, when seasonality is
// known, the baseline of ts's phase. The model is not changed. It returns
// an error wrapping ErrTooFewSamples before min_baseline_samples points.
// With a period in points, ts's phase counts from the newest point's phase
// in steps of the mean time between points. Until that time is known,
// DetectValue returns an error for any ts but the newest point's.
func (m *Model) DetectValue(ts time.Time, x float64, ctx map[string]string) (Detection, error) {
	if !m.ready() {
		return Detection{}, m.tooFewSamples()
	}
	n, err := m.pointsBefore(ts)
	if err != nil {
		return Detection{}, err
	}
	c := m.pointCandidate(ts.UnixNano(), n, x)
	d := Detection{
		Metric:    m.name,
		Timestamp: ts.UTC(),
		Value:     x,
		Expected:  c.expected,
		Deviation: min(math.Abs(c.z), MaxDeviation),
		IsAnomaly: math.Abs(c.z) >= m.k,
		Score:     m.valueScore(c.z),
	}
	if d.IsAnomaly {
		d.Anomaly = m.newAnomaly(ts, c, d.Score, ctx)
	}
	return d, nil
}

// pointCandidate tests x against the seasonal baseline of its phase when
// that is known, else against the baseline. n is the number of points
// before x.
func (m *Model) pointCandidate(ts, n int64, x float64) candidate {
	if m.cfg.EnableSeasonal {
		if mu, sd, ok := m.st.Seasonal.Expected(ts, n); ok {
			return rangeCandidate(TypeSeasonal, x, mu, sd, m.k)
		}
	}
	b := m.st.Baseline
	return rangeCandidate(TypeStatistical, x, b.Center, b.scale(), m.k)
}

// pointsBefore returns the number of points that a point at ts would have
// before it, which places ts in a period counted in points. That is the
// newest point's count, N−1, plus the rounded number of mean steps between
// points from the newest point's timestamp to ts. The count matters only for a
// period in points, and it is only as exact as the step is regular.
func (m *Model) pointsBefore(ts time.Time) (int64, error) {
	s := &m.st.Seasonal
	if !m.cfg.EnableSeasonal || !s.known() || s.PeriodNanos > 0 {
		return m.st.N, nil
	}
	newest := m.st.N - 1
	gap := ts.UnixNano() - m.st.LastTime
	if gap == 0 {
		return newest, nil
	}
	if s.Step <= 0 {
		return 0, fmt.Errorf("metric %q: cannot place timestamp %s in the seasonal period of %d points, because the time between points is not known yet: "+
			"omit the timestamp to use the newest point's phase, or add points with increasing timestamps",
			m.name, ts.UTC().Format(time.RFC3339Nano), s.Period)
	}
	// Only the phase matters, so the offset is taken modulo the period,
	// which also keeps a far timestamp from overflowing the count.
	offset := math.Mod(math.Round(float64(gap)/s.Step), float64(s.Period))
	return newest + int64(offset), nil
}

// valueScore grades a single value of z-score z on the scale of the
// streaming score: its two-sided tail probability p under the normal
// spread of the range it was tested against, as −log10(p)/scoreDecades.
// A 2 standard deviation value, 1 in 22, scores 0.27; 3 standard
// deviations, 1 in 370, 0.51; 4.5 or more, 1.
//
// The streaming score grades the mean surprisal of the last scoreRecent
// points against the history of that mean. A single value's surprisal must
// not be placed in that history, because the mean of several points
// spreads far less than one point. An ordinary value would then rank among
// the rarest means: a 2 standard deviation value scored 0.74.
func (m *Model) valueScore(z float64) float64 {
	return scoreFromTail(twoSidedTail(z))
}

func (m *Model) tooFewSamples() error {
	return fmt.Errorf("metric %q has %d points, needs at least %d (min_baseline_samples): %w",
		m.name, m.st.N, m.cfg.MinBaselineSamples, ErrTooFewSamples)
}

// WindowReport is the result of a look-back over retained points.
type WindowReport struct {
	Metric string `json:"metric"`
	// From and To bound the window: To is the newest point's timestamp and
	// From is To minus the look-back, not the wall clock.
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Points is the number of retained points in the window; Truncated is
	// set when the window reaches back past the oldest retained point.
	Points    int  `json:"points"`
	Truncated bool `json:"truncated"`
	// Mean, StdDev, Min and Max describe the window's values.
	Mean   float64 `json:"mean"`
	StdDev float64 `json:"std_dev"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	// Anomalies lists the points outside their expected range, checked
	// against the current baseline, oldest first.
	Anomalies []Anomaly `json:"anomalies"`
}

// DetectWindow checks the retained points of the last lookback, ending at
// the newest point, against the current baseline (and each point's seasonal
// phase), without changing the model. It returns an error wrapping
// ErrTooFewSamples before min_baseline_samples points.
func (m *Model) DetectWindow(lookback time.Duration, ctx map[string]string) (WindowReport, error) {
	if lookback <= 0 {
		return WindowReport{}, fmt.Errorf("invalid look-back %s: must be positive", lookback)
	}
	if !m.ready() {
		return WindowReport{}, m.tooFewSamples()
	}

	to := m.st.LastTime
	from := to - int64(lookback)
	r := WindowReport{Metric: m.name, From: time.Unix(0, from).UTC(), To: time.Unix(0, to).UTC(), Anomalies: []Anomaly{}}
	points := &m.st.Points
	oldestTS, _ := points.At(0)
	r.Truncated = oldestTS > from && m.st.N > int64(points.Len)
	firstN := m.st.N - int64(points.Len) // points before the oldest retained
	values := make([]float64, 0, points.Len)
	for i := 0; i < points.Len; i++ {
		ts, x := points.At(i)
		if ts < from {
			continue
		}
		values = append(values, x)
		c := m.pointCandidate(ts, firstN+int64(i), x)
		if math.Abs(c.z) >= m.k {
			a := m.newAnomaly(time.Unix(0, ts), c, m.valueScore(c.z), ctx)
			r.Anomalies = append(r.Anomalies, *a)
		}
	}

	r.Points = len(values)
	if len(values) > 0 {
		r.Mean, r.StdDev = stat.PopMeanStdDev(values, nil)
		r.Min, r.Max = floats.Min(values), floats.Max(values)
	}
	return r, nil
}
