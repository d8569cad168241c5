package scenario

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

// rejectProbeURLs is a Validator that rejects every HTTP probe's URL.
func rejectProbeURLs(s *Scenario) []FieldError {
	var out []FieldError
	for i, p := range s.Probes {
		if p.HTTP != nil {
			out = append(out, FieldError{Path: pointer([]string{"probes", strconv.Itoa(i), "http", "url"}), Message: "URL rejected"})
		}
	}
	return out
}

func TestParseReportsRuleAndValidatorErrorsTogether(t *testing.T) {
	doc := `name: several
steps:
  - {name: x, plugin: p}
  - {name: x, plugin: p}
probes:
  - metric: m
    interval: 1ms
    http: {url: "http://10.0.0.1/"}
guards:
  - metric: other
    threshold: {above: 1}
`
	_, err := Parse([]byte(doc), "several.yaml", rejectProbeURLs)
	var invalid *InvalidError
	if !errors.As(err, &invalid) {
		t.Fatalf("Parse error = %v, want an *InvalidError", err)
	}
	want := []string{
		"at /steps/1/name (line 4)",
		"at /probes/0/interval (line 7)",
		"at /probes/0/http/url (line 8): URL rejected",
		"at /guards/0/metric (line 10)",
	}
	if len(invalid.Fields) != len(want) {
		t.Fatalf("Parse reported %d errors, want %d:\n%v", len(invalid.Fields), len(want), err)
	}
	for i, w := range want {
		if got := invalid.Fields[i].String(); !strings.HasPrefix(got, w) {
			t.Errorf("error %d = %q, want it to start with %q", i, got, w)
		}
	}
}

func TestParseSkipsValidatorsAfterSchemaErrors(t *testing.T) {
	doc := "name: a\nsteps:\n  - plugin: p\n    delay: soon\nprobes:\n  - {metric: m, interval: 1s, http: {url: 'http://10.0.0.1/'}}\n"
	called := false
	validator := func(*Scenario) []FieldError {
		called = true
		return nil
	}
	_, err := Parse([]byte(doc), "bad.yaml", validator)
	if err == nil || !strings.Contains(err.Error(), "/steps/0/delay (line 4)") {
		t.Errorf("Parse error = %v, want the schema error of delay", err)
	}
	if called {
		t.Error("the validator ran on a file that failed the schema")
	}
}

func TestParseValidatorPassing(t *testing.T) {
	none := func(*Scenario) []FieldError { return nil }
	if _, err := Parse([]byte(validYAML), "valid.yaml", none); err != nil {
		t.Errorf("Parse with a passing validator: %v", err)
	}
}

func TestSplitPointerInvertsPointer(t *testing.T) {
	for _, path := range [][]string{nil, {"steps", "0"}, {"a/b", "c~d", ""}} {
		got := splitPointer(pointer(path))
		if strings.Join(got, "|") != strings.Join(path, "|") || len(got) != len(path) {
			t.Errorf("splitPointer(pointer(%q)) = %q", path, got)
		}
	}
}
