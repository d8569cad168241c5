package scenario

import (
	"errors"
	"testing"
)

// FuzzParseScenario feeds arbitrary bytes to Parse. Parse must not panic,
// must return either a scenario or an *InvalidError, and a scenario it
// returns must respect the limits it enforces.
func FuzzParseScenario(f *testing.F) {
	f.Add([]byte(validYAML))
	f.Add([]byte(`{"name": "j", "steps": [{"plugin": "p", "parameters": {"a": 1}}]}`))
	f.Add([]byte(nestedLoops(10, 10)))
	f.Add([]byte(nestedParallel(3)))
	f.Add([]byte("name: a\nsteps:\n  - plugin: p\n    rollback: {parameters: {id: \"${result.id}\"}}\n"))
	f.Add([]byte("a: &a [x, x]\nb: [*a, *a]\nname: a\nsteps: [{plugin: p}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data, "fuzz.yaml")
		if err != nil {
			var invalid *InvalidError
			if !errors.As(err, &invalid) {
				t.Fatalf("Parse error %T is not an *InvalidError: %v", err, err)
			}
			if len(invalid.Fields) == 0 {
				t.Fatalf("InvalidError lists no field: %v", err)
			}
			return
		}
		if len(data) > MaxFileBytes {
			t.Fatalf("Parse accepted %d bytes, above MaxFileBytes", len(data))
		}
		if err := CheckName(s.Name); err != nil {
			t.Fatalf("Parse accepted name %q that CheckName rejects: %v", s.Name, err)
		}
		if len(s.Steps) == 0 {
			t.Fatal("Parse accepted a scenario without steps")
		}
		checkStepLimits(t, s.Steps, 1, 1)
	})
}

func checkStepLimits(t *testing.T, steps []Step, depth, runs int) {
	t.Helper()
	if depth > MaxStepDepth {
		t.Fatalf("Parse accepted steps at depth %d, above MaxStepDepth", depth)
	}
	for _, st := range steps {
		if st.Name == "" {
			t.Fatal("Parse left a step without a name")
		}
		switch {
		case st.Parallel != nil:
			checkStepLimits(t, st.Parallel, depth+1, runs)
		case st.Loop != nil:
			n := runs * st.Loop.MaxIterations
			if st.Loop.MaxIterations < 1 || n > MaxStepRuns {
				t.Fatalf("Parse accepted a loop that runs its steps %d times", n)
			}
			checkStepLimits(t, st.Loop.Steps, depth+1, n)
		}
	}
}
