package chaosmesh

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// percentField is a string field of a NetworkChaos spec that holds a
// percentage, such as loss.loss. Chaos Mesh's types declare them as
// strings (FloatStr), and its webhook only checks that they parse as
// floats, but tc netem needs a percentage from 0 to 100.
type percentField struct {
	// path is the field's JSON pointer below the experiment's spec.
	path []string
	// optional marks fields that may be empty, because Chaos Mesh's
	// defaulting sets them to 0.
	optional bool
}

// networkPercentFields are the percentage fields of NetworkChaos's tc
// parameters in Chaos Mesh's API (networkchaos_types.go).
var networkPercentFields = []percentField{
	{path: []string{"delay", "correlation"}, optional: true},
	{path: []string{"delay", "reorder", "reorder"}},
	{path: []string{"delay", "reorder", "correlation"}, optional: true},
	{path: []string{"loss", "loss"}},
	{path: []string{"loss", "correlation"}, optional: true},
	{path: []string{"duplicate", "duplicate"}},
	{path: []string{"duplicate", "correlation"}, optional: true},
	{path: []string{"corrupt", "corrupt"}},
	{path: []string{"corrupt", "correlation"}, optional: true},
}

// checkNumbers checks numeric values that the CRD schema cannot bound and
// Chaos Mesh's webhook does not: the percentages of NetworkChaos, its
// reorder gap, and the workers of StressChaos's stressors. Every failure
// is listed with its JSON pointer.
func checkNumbers(k kindInfo, spec map[string]any) error {
	inner, target, pointer := innerSpec(k, spec)
	var problems []string
	switch inner.kind {
	case "NetworkChaos":
		for _, f := range networkPercentFields {
			if msg := checkPercent(target, f, pointer); msg != "" {
				problems = append(problems, msg)
			}
		}
		// tc netem takes the reorder gap as an unsigned number.
		if n, ok := integerAt(target, "delay", "reorder", "gap"); ok && n < 0 {
			problems = append(problems, fmt.Sprintf("%s/delay/reorder/gap: %d is negative: use 0 or a positive packet count", pointer, n))
		}
	case "StressChaos":
		// Chaos Mesh's Stressor.Validate requires positive workers, but its
		// generic webhook does not call it; zero workers stress nothing.
		for _, stressor := range []string{"cpu", "memory"} {
			if n, ok := integerAt(target, "stressors", stressor, "workers"); ok && n < 1 {
				problems = append(problems, fmt.Sprintf("%s/stressors/%s/workers: %d is less than 1: use the number of stress workers, such as 1", pointer, stressor, n))
			}
		}
	}
	if len(problems) == 0 {
		return nil
	}
	sort.Strings(problems)
	return callError(CodeInvalidArgument, "invalid %s parameters: %s", k.kind, strings.Join(problems, "; "))
}

// checkPercent returns a message when the field is set to anything but a
// decimal number from 0 to 100, and "" otherwise.
func checkPercent(spec map[string]any, f percentField, pointer string) string {
	value, present := valueAt(spec, f.path...)
	if !present {
		return ""
	}
	where := pointer + "/" + strings.Join(f.path, "/")
	// The schema check has rejected values that are not strings.
	text, _ := value.(string)
	if text == "" && f.optional {
		return ""
	}
	n, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
		return fmt.Sprintf("%s: %q is not a number: use a percentage from 0 to 100, such as \"30\"", where, text)
	}
	if n < 0 || n > 100 {
		return fmt.Sprintf("%s: %q is out of range: use a percentage from 0 to 100, such as \"30\"", where, text)
	}
	return ""
}

// valueAt returns the value at path in nested JSON objects.
func valueAt(m map[string]any, path ...string) (any, bool) {
	var current any = m
	for _, key := range path {
		obj, ok := current.(map[string]any)
		if !ok {
			return nil, false
		}
		if current, ok = obj[key]; !ok {
			return nil, false
		}
	}
	return current, true
}

// integerAt returns the integer at path; decodeSpec decodes integers as
// int64. Other types are left to the schema check.
func integerAt(m map[string]any, path ...string) (int64, bool) {
	value, ok := valueAt(m, path...)
	if !ok {
		return 0, false
	}
	n, ok := value.(int64)
	return n, ok
}
