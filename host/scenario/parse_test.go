package scenario

import (
	"errors"
	"strings"
	"testing"
)

const validYAML = `name: checkout-latency
description: Slow queries under load
tags: [db, latency]
max_duration: 2m
steady_state:
  before: 1s
  after: 1s
steps:
  - name: slow
    plugin: db-fault-simulator
    parameters: {fault_type: slow_query, latency_ms: 10}
    duration: 1s
    rollback:
      parameters: {fault_type: slow_query, latency_ms: 0}
  - parallel:
      - plugin: db-fault-simulator
        parameters: {fault_type: slow_query}
      - plugin: db-fault-simulator
        parameters: {fault_type: slow_query}
  - loop:
      max_iterations: 3
      steps:
        - plugin: db-fault-simulator
          parameters: {fault_type: slow_query}
probes:
  - metric: latency
    interval: 100ms
    http: {url: "http://127.0.0.1:8080/health"}
guards:
  - metric: latency
    anomaly: {severity: high}
  - metric: latency
    threshold: {above: 500, consecutive: 2}
`

func TestParseValid(t *testing.T) {
	s, err := Parse([]byte(validYAML), "valid.yaml")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if s.Name != "checkout-latency" || len(s.Steps) != 3 {
		t.Fatalf("parsed %q with %d steps, want checkout-latency with 3", s.Name, len(s.Steps))
	}
	if got := s.Steps[1].Parallel[1].Name; got != "steps/1/parallel/1" {
		t.Errorf("default name = %q, want steps/1/parallel/1", got)
	}
	if got := s.Steps[2].Loop.MaxIterations; got != 3 {
		t.Errorf("max_iterations = %d, want 3", got)
	}
	if got := s.Guards[1].Threshold.Consecutive; got != 2 {
		t.Errorf("consecutive = %d, want 2", got)
	}
}

func TestParseJSON(t *testing.T) {
	doc := `{"name": "j", "steps": [{"plugin": "p", "parameters": {"a": 1}}]}`
	s, err := Parse([]byte(doc), "j.json")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if string(s.Steps[0].Parameters) != `{"a":1}` {
		t.Errorf("parameters = %s", s.Steps[0].Parameters)
	}
}

func TestParseErrorsNamePathAndLine(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want string
	}{
		{"unknown field", "name: a\nsteps:\n  - plugin: p\n    colour: red\n", "at /steps/0/colour (line 4)"},
		{"missing plugin", "name: a\nsteps:\n  - name: x\n    delay: 1s\n", "at /steps/0 (line 3)"},
		{"bad duration", "name: a\nsteps:\n  - plugin: p\n    delay: soon\n", "at /steps/0/delay (line 4)"},
		{"loop without count", "name: a\nsteps:\n  - loop:\n      steps: [{plugin: p}]\n", "at /steps/0/loop (line 3)"},
		{"bad severity", "name: a\nsteps: [{plugin: p}]\nprobes:\n  - {metric: m, interval: 1s, http: {url: 'http://127.0.0.1/'}}\nguards:\n  - metric: m\n    anomaly: {severity: huge}\n", "at /guards/0/anomaly/severity (line 7)"},
		{"guard without probe", "name: a\nsteps: [{plugin: p}]\nguards:\n  - metric: m\n    threshold: {above: 1}\n", "at /guards/0/metric (line 4)"},
		{"duplicate step name", "name: a\nsteps:\n  - {name: x, plugin: p}\n  - {name: x, plugin: p}\n", "at /steps/1/name (line 4)"},
		{"probe too fast", "name: a\nsteps: [{plugin: p}]\nprobes:\n  - metric: m\n    interval: 1ms\n    http: {url: 'http://127.0.0.1/'}\n", "at /probes/0/interval (line 5)"},
		{"bad name", "name: Bad Name\nsteps: [{plugin: p}]\n", "at /name (line 1)"},
		{"empty", "  \n", "the file is empty"},
		{"bad yaml", "name: a\nsteps: [\n", "not valid YAML"},
		{"threshold without bound", "name: a\nsteps: [{plugin: p}]\nprobes: [{metric: m, interval: 1s, http: {url: 'http://127.0.0.1/'}}]\nguards:\n  - metric: m\n    threshold: {consecutive: 2}\n", "at /guards/0/threshold (line 6)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc), "bad.yaml")
			var invalid *InvalidError
			if !errors.As(err, &invalid) {
				t.Fatalf("Parse error = %v, want an *InvalidError", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error does not contain %q:\n%v", tt.want, err)
			}
			if !strings.Contains(err.Error(), "bad.yaml") {
				t.Errorf("error does not name the file:\n%v", err)
			}
		})
	}
}
