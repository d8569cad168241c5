package prommetrics

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/common/model"

	"github.com/mockforge/mockforged/sdk"
)

// Limits on what a record may contain. They keep one call from creating an
// exposition that Prometheus rejects or that is too large to scrape.
const (
	maxNameLength       = 200
	maxLabels           = 16
	maxLabelValueLength = 1024
	maxHelpLength       = 1024
	maxBuckets          = 64
)

// tenantLabel is the label that carries the calling tenant on every series.
const tenantLabel = "tenant"

// reservedLabels may not be set by a record: the plugin sets tenant, a
// Prometheus server sets job and instance when it scrapes, and le and
// quantile belong to histogram and summary series.
var reservedLabels = []string{tenantLabel, "job", "instance", "le", "quantile"}

// checkMetricName applies the Prometheus naming rules to name, and the
// convention that only counter names end in _total.
func checkMetricName(name string, kind metricType) error {
	switch {
	case name == "":
		return invalidf(`missing name: give the metric's name, such as "chaos_faults_injected_total"`)
	case len(name) > maxNameLength:
		return invalidf("metric name %q is %d bytes long: use at most %d", name, len(name), maxNameLength)
	case strings.Contains(name, ":"):
		return invalidf("invalid metric name %q: colons are reserved for Prometheus recording rules; use underscores instead", name)
	case !model.LegacyValidation.IsValidMetricName(name):
		return invalidf(`invalid metric name %q: use letters, digits and underscores, not starting with a digit, such as "chaos_latency_seconds"`, name)
	case strings.HasPrefix(name, "__"):
		return invalidf("invalid metric name %q: names starting with \"__\" are reserved for Prometheus itself", name)
	case kind == counterType && !strings.HasSuffix(name, "_total"):
		return invalidf("invalid counter name %q: counter names end in _total, such as %q", name, name+"_total")
	case kind != counterType && strings.HasSuffix(name, "_total"):
		return invalidf("invalid %s name %q: only counter names end in _total; record it as a counter or rename it", kind, name)
	}
	return nil
}

// checkLabels applies the Prometheus label rules to the names and values
// of labels and returns the names sorted.
func checkLabels(labels map[string]string) ([]string, error) {
	if len(labels) > maxLabels {
		return nil, invalidf("%d labels given: a metric may have at most %d", len(labels), maxLabels)
	}
	names := make([]string, 0, len(labels))
	for name, value := range labels {
		if err := checkLabelName(name); err != nil {
			return nil, err
		}
		if err := checkLabelValue(name, value); err != nil {
			return nil, err
		}
		names = append(names, name)
	}
	slices.Sort(names)
	return names, nil
}

func checkLabelName(name string) error {
	switch {
	case !model.LegacyValidation.IsValidLabelName(name):
		return invalidf(`invalid label name %q: use letters, digits and underscores, not starting with a digit, such as "target_db"`, name)
	case strings.HasPrefix(name, "__"):
		return invalidf("invalid label name %q: names starting with \"__\" are reserved for Prometheus itself", name)
	case slices.Contains(reservedLabels, name):
		return invalidf("label name %q is reserved (reserved: %s): choose another name", name, strings.Join(reservedLabels, ", "))
	}
	return nil
}

func checkLabelValue(name, value string) error {
	switch {
	case !utf8.ValidString(value):
		return invalidf("value of label %q is not valid UTF-8", name)
	case len(value) > maxLabelValueLength:
		return invalidf("value of label %q is %d bytes long: use at most %d", name, len(value), maxLabelValueLength)
	}
	return nil
}

func checkHelp(help string) error {
	switch {
	case !utf8.ValidString(help):
		return invalidf("help is not valid UTF-8")
	case len(help) > maxHelpLength:
		return invalidf("help is %d bytes long: use at most %d", len(help), maxHelpLength)
	}
	return nil
}

// checkBuckets checks histogram upper bounds: finite and strictly
// increasing. The +Inf bucket is always added and must not be given.
func checkBuckets(buckets []float64) error {
	if len(buckets) > maxBuckets {
		return invalidf("%d buckets given: use at most %d", len(buckets), maxBuckets)
	}
	for i, b := range buckets {
		if math.IsInf(b, 0) || math.IsNaN(b) {
			return invalidf("bucket %g is not finite: list the finite upper bounds only, +Inf is always added", b)
		}
		if i > 0 && b <= buckets[i-1] {
			return invalidf("buckets must increase strictly: %g follows %g", b, buckets[i-1])
		}
	}
	return nil
}

// sampleNames returns the names under which a metric's samples appear in
// the text and OpenMetrics formats. Two metrics whose sample names overlap
// would make an exposition that Prometheus rejects.
func sampleNames(name string, kind metricType) []string {
	switch kind {
	case counterType:
		// OpenMetrics names the counter family without _total.
		base := strings.TrimSuffix(name, "_total")
		return []string{base, name, base + "_created"}
	case histogramType:
		return []string{name, name + "_bucket", name + "_sum", name + "_count", name + "_created"}
	}
	return []string{name}
}

// errorf returns a failed call's error with code and a message built from
// format. The SDK passes its code and message to the caller.
func errorf(code, format string, args ...any) error {
	return &sdk.ErrorDetail{Code: code, Message: fmt.Sprintf(format, args...)}
}

func invalidf(format string, args ...any) error {
	return errorf(codeInvalidArgument, format, args...)
}
