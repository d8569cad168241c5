package detect

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Defaults applied by Config.WithDefaults to fields left at their zero value.
const (
	DefaultStdDevThreshold     = 3.0
	DefaultMinBaselineSamples  = 30
	DefaultSensitivity         = 0.7
	DefaultMovingAverageWindow = 10
	DefaultRetentionPoints     = 1024
	DefaultBaselineWindow      = 1000
	DefaultBaselineRefresh     = 50
	DefaultCooldownPoints      = 150
	DefaultSpikeThreshold      = 10.0
	DefaultSeasonalPhases      = 24
)

// Limits checked by Config.Validate.
const (
	// minSpikeThreshold is the smallest spike_threshold. Below 3 standard
	// deviations, more than 1 point in 370 of Gaussian noise is a spike.
	minSpikeThreshold  = 3
	maxRetentionPoints = 1 << 16
	maxSeasonalPhases  = 4096
	maxSeasonalPoints  = 4096
)

// Config configures one metric's model. Its JSON names are the plugin's
// config keys. Zero numeric fields take their defaults in WithDefaults;
// booleans whose default is true are pointers, so that nil means "default".
type Config struct {
	// StdDevThreshold is k: a value is outside the expected range when it lies
	// more than k·StdDevThreshold scaled by sensitivity standard deviations
	// from the baseline (see EffectiveThreshold). Default 3.0.
	StdDevThreshold float64 `json:"std_dev_threshold,omitempty"`
	// MinBaselineSamples is the number of points a metric needs before it
	// scores or flags anything. Default 30, minimum 2.
	MinBaselineSamples int `json:"min_baseline_samples,omitempty"`
	// Sensitivity in [0, 1] scales both the range threshold and the score
	// threshold: higher flags more. Nil means 0.7.
	Sensitivity *float64 `json:"sensitivity,omitempty"`
	// Robust uses the median and the MAD instead of the mean and the standard
	// deviation, for heavy-tailed metrics.
	Robust bool `json:"robust,omitempty"`
	// MovingAverageWindow is the number of points of the moving average that
	// the trend detector compares with the baseline; it must be less than
	// RetentionPoints. Default 10.
	MovingAverageWindow int `json:"moving_average_window,omitempty"`
	// EnableTrend turns the trend detector on. Nil means true.
	EnableTrend *bool `json:"enable_trend,omitempty"`
	// EnablePattern turns the pattern detector on: it scores how rarely the
	// shape of the last four points has occurred before. Nil means true.
	EnablePattern *bool `json:"enable_pattern,omitempty"`
	// EnableNovelty makes a value beyond every value the metric has had an
	// anomaly whatever its score: below the lowest or above the highest by
	// more than a tenth of the range between them. Turn it off for metrics
	// that grow without bound, such as counters. Nil means true.
	EnableNovelty *bool `json:"enable_novelty,omitempty"`
	// EnableSeasonal turns the seasonal detector on; it needs SeasonalPeriod.
	EnableSeasonal bool `json:"enable_seasonal,omitempty"`
	// SeasonalPeriod is the season's length in points, as a duration, or
	// "auto" to detect it from the retained points.
	SeasonalPeriod SeasonalPeriod `json:"seasonal_period,omitzero"`
	// SeasonalPhases is the number of phases a duration period is split
	// into, for example 24 for each hour of a 24h period. Default 24.
	SeasonalPhases int `json:"seasonal_phases,omitempty"`
	// RetentionPoints is the number of raw points kept per metric for
	// look-back queries and period detection. Default 1024.
	RetentionPoints int `json:"retention_points,omitempty"`
	// BaselineWindow is the horizon, in points, of the exponentially
	// weighted statistics behind the baseline. Default 1000.
	BaselineWindow int `json:"baseline_window,omitempty"`
	// BaselineRefresh is how many points pass between two automatic baseline
	// refreshes. Default 50.
	BaselineRefresh int `json:"baseline_refresh_points,omitempty"`
	// CooldownPoints is how many points stay quiet after an alert. Default
	// 150; a negative value turns the cooldown off.
	CooldownPoints int `json:"cooldown_points,omitempty"`
	// SpikeThreshold is the distance, in standard deviations of the
	// baseline (of the point's seasonal phase, when that is known), at which
	// a point that jumps away from the point before it is an anomaly
	// whatever its score: a spike. A spike farther than the anomaly that
	// started a cooldown breaks through that cooldown. Default 10; a
	// negative value turns the rule off, for metrics whose recurring spikes
	// are normal and should be learnt by the score.
	SpikeThreshold float64 `json:"spike_threshold,omitempty"`
	// ScoreThreshold is the calibrated score at or above which a point is an
	// anomaly. Nil means the value derived from Sensitivity (see
	// EffectiveScoreThreshold).
	ScoreThreshold *float64 `json:"score_threshold,omitempty"`
}

// SeasonalPeriod is a season's length: a number of points, a duration, or
// automatic detection. In JSON it is an integer (points) or a string: a Go
// duration such as "24h", a number of points such as "288", or "auto".
type SeasonalPeriod struct {
	// Points is the period in points; 0 when the period is a duration.
	Points int
	// Duration is the period as a duration; 0 when it is in points.
	Duration time.Duration
	// Auto selects detection of the period from the data.
	Auto bool
}

// IsZero reports whether no period is set.
func (p SeasonalPeriod) IsZero() bool {
	return p.Points == 0 && p.Duration == 0 && !p.Auto
}

// String formats the period the way UnmarshalJSON reads it.
func (p SeasonalPeriod) String() string {
	switch {
	case p.Auto:
		return "auto"
	case p.Duration > 0:
		return p.Duration.String()
	case p.Points > 0:
		return strconv.Itoa(p.Points)
	}
	return ""
}

// MarshalJSON writes points as a number and the other forms as strings.
func (p SeasonalPeriod) MarshalJSON() ([]byte, error) {
	if p.Points > 0 {
		return []byte(strconv.Itoa(p.Points)), nil
	}
	return json.Marshal(p.String())
}

// UnmarshalJSON reads an integer or a string; see SeasonalPeriod.
func (p *SeasonalPeriod) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if bytes.Equal(data, []byte("null")) {
		*p = SeasonalPeriod{}
		return nil
	}
	if len(data) > 0 && data[0] == '"' {
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return err
		}
		parsed, err := ParseSeasonalPeriod(s)
		if err != nil {
			return err
		}
		*p = parsed
		return nil
	}
	n, err := strconv.Atoi(string(data))
	if err != nil {
		return fmt.Errorf("invalid seasonal_period %s: use a whole number of points, a duration such as \"24h\", or \"auto\"", data)
	}
	*p = SeasonalPeriod{Points: n}
	return nil
}

// ParseSeasonalPeriod parses "auto", a number of points or a Go duration.
func ParseSeasonalPeriod(s string) (SeasonalPeriod, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return SeasonalPeriod{}, nil
	}
	if strings.EqualFold(s, "auto") {
		return SeasonalPeriod{Auto: true}, nil
	}
	if n, err := strconv.Atoi(s); err == nil {
		return SeasonalPeriod{Points: n}, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return SeasonalPeriod{}, fmt.Errorf("invalid seasonal_period %q: use a whole number of points, a duration such as \"24h\", or \"auto\"", s)
	}
	return SeasonalPeriod{Duration: d}, nil
}

// WithDefaults returns c with every unset field set to its default.
func (c Config) WithDefaults() Config {
	setDefault(&c.StdDevThreshold, DefaultStdDevThreshold)
	setDefault(&c.MinBaselineSamples, DefaultMinBaselineSamples)
	setDefault(&c.MovingAverageWindow, DefaultMovingAverageWindow)
	setDefault(&c.SeasonalPhases, DefaultSeasonalPhases)
	setDefault(&c.RetentionPoints, DefaultRetentionPoints)
	setDefault(&c.BaselineWindow, DefaultBaselineWindow)
	setDefault(&c.BaselineRefresh, DefaultBaselineRefresh)
	setDefault(&c.CooldownPoints, DefaultCooldownPoints)
	setDefault(&c.SpikeThreshold, DefaultSpikeThreshold)
	if c.Sensitivity == nil {
		s := DefaultSensitivity
		c.Sensitivity = &s
	}
	if c.EnableTrend == nil {
		on := true
		c.EnableTrend = &on
	}
	if c.EnablePattern == nil {
		on := true
		c.EnablePattern = &on
	}
	if c.EnableNovelty == nil {
		on := true
		c.EnableNovelty = &on
	}
	return c
}

func setDefault[T int | float64](field *T, def T) {
	if *field == 0 {
		*field = def
	}
}

// Validate checks a config that WithDefaults has filled and returns an error
// naming the first invalid field and its accepted range.
func (c Config) Validate() error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(c.StdDevThreshold > 0 && c.StdDevThreshold <= 100,
		"invalid std_dev_threshold %g: must be greater than 0 and at most 100", c.StdDevThreshold)
	check(c.MinBaselineSamples >= 2,
		"invalid min_baseline_samples %d: must be at least 2", c.MinBaselineSamples)
	check(c.Sensitivity != nil && *c.Sensitivity >= 0 && *c.Sensitivity <= 1,
		"invalid sensitivity %v: must be between 0 and 1", deref(c.Sensitivity))
	check(c.MovingAverageWindow >= 2 && c.MovingAverageWindow < c.RetentionPoints,
		"invalid moving_average_window %d: must be at least 2 and less than retention_points (%d)",
		c.MovingAverageWindow, c.RetentionPoints)
	check(c.RetentionPoints >= 16 && c.RetentionPoints <= maxRetentionPoints,
		"invalid retention_points %d: must be between 16 and %d", c.RetentionPoints, maxRetentionPoints)
	check(c.BaselineWindow >= 2, "invalid baseline_window %d: must be at least 2", c.BaselineWindow)
	check(c.BaselineRefresh >= 1, "invalid baseline_refresh_points %d: must be at least 1", c.BaselineRefresh)
	check(c.SeasonalPhases >= 2 && c.SeasonalPhases <= maxSeasonalPhases,
		"invalid seasonal_phases %d: must be between 2 and %d", c.SeasonalPhases, maxSeasonalPhases)
	check(c.SpikeThreshold < 0 || (c.SpikeThreshold >= minSpikeThreshold && c.SpikeThreshold <= MaxDeviation),
		"invalid spike_threshold %g: must be between %g and %d standard deviations, or negative to turn spikes off",
		c.SpikeThreshold, float64(minSpikeThreshold), MaxDeviation)
	if c.ScoreThreshold != nil {
		check(*c.ScoreThreshold > 0 && *c.ScoreThreshold <= 1,
			"invalid score_threshold %g: must be greater than 0 and at most 1", *c.ScoreThreshold)
	}
	errs = append(errs, c.validateSeasonal()...)
	return errors.Join(errs...)
}

func (c Config) validateSeasonal() []error {
	p := c.SeasonalPeriod
	var errs []error
	if c.EnableSeasonal && p.IsZero() {
		errs = append(errs, errors.New("missing seasonal_period: enable_seasonal needs a period in points, a duration such as \"24h\", or \"auto\""))
	}
	if p.Points != 0 && (p.Points < 2 || p.Points > maxSeasonalPoints) {
		errs = append(errs, fmt.Errorf("invalid seasonal_period %d: must be between 2 and %d points", p.Points, maxSeasonalPoints))
	}
	if p.Duration < 0 || (p.Duration > 0 && p.Duration < time.Second) {
		errs = append(errs, fmt.Errorf("invalid seasonal_period %s: a duration must be at least 1s", p.Duration))
	}
	if p.Auto && c.RetentionPoints < 64 {
		errs = append(errs, fmt.Errorf("invalid seasonal_period auto: needs retention_points of at least 64, got %d", c.RetentionPoints))
	}
	return errs
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// EffectiveThreshold returns the number of standard deviations beyond
// which a value is outside the expected range: StdDevThreshold·(1.7 −
// sensitivity). At the default sensitivity 0.7 it is StdDevThreshold
// itself; sensitivity 1 lowers it by 30% and sensitivity 0 raises it by 70%.
func (c Config) EffectiveThreshold() float64 {
	return c.StdDevThreshold * (1.7 - *c.Sensitivity)
}

// EffectiveScoreThreshold returns ScoreThreshold when set, else the
// threshold derived from Sensitivity by scoreThresholdFor.
func (c Config) EffectiveScoreThreshold() float64 {
	if c.ScoreThreshold != nil {
		return *c.ScoreThreshold
	}
	return scoreThresholdFor(*c.Sensitivity)
}
