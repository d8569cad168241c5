package scenario

import (
	"fmt"
	"strconv"
	"time"
)

// MinProbeInterval is the shortest probe interval. Every probe value is one
// durable write to the tenant store, so a shorter interval would mostly
// measure the store.
const MinProbeInterval = 50 * time.Millisecond

// check validates what the schema cannot express and fills the default
// step names.
func (s *Scenario) check(lines lineIndex) []FieldError {
	c := checker{lines: lines, names: map[string]string{}}
	if s.MaxDuration < 0 || (s.MaxDuration == 0 && lines.has("max_duration")) {
		c.add([]string{"max_duration"}, "max_duration %s is not positive; give a duration such as \"10m\"", s.MaxDuration.D())
	}
	c.steps([]string{"steps"}, s.Steps, 1, 1)

	metrics := map[string]int{}
	for i, p := range s.Probes {
		path := []string{"probes", strconv.Itoa(i)}
		if j, dup := metrics[p.Metric]; dup {
			c.add(append(path, "metric"), "metric %q is already measured by /probes/%d; give each probe its own metric", p.Metric, j)
		}
		metrics[p.Metric] = i
		if p.Interval.D() < MinProbeInterval {
			c.add(append(path, "interval"), "interval %s is below the minimum of %s", p.Interval.D(), MinProbeInterval)
		}
		if p.Timeout < 0 || (p.Timeout == 0 && lines.has(append(path, "timeout")...)) {
			c.add(append(path, "timeout"), "timeout %s is not positive", p.Timeout.D())
		}
	}
	for i, g := range s.Guards {
		path := []string{"guards", strconv.Itoa(i)}
		if _, ok := metrics[g.Metric]; !ok {
			c.add(append(path, "metric"), "no probe measures metric %q; add a probe with \"metric: %s\" or fix the name", g.Metric, g.Metric)
		}
		if t := g.Threshold; t != nil && t.Above == nil && t.Below == nil {
			c.add(append(path, "threshold"), "a threshold needs above, below or both")
		}
	}
	return c.fields
}

type checker struct {
	lines  lineIndex
	fields []FieldError
	// names maps each explicit step name to the path of its step.
	names map[string]string
}

func (c *checker) add(path []string, format string, args ...any) {
	c.fields = append(c.fields, FieldError{Path: pointer(path), Line: c.lines.line(path), Message: fmt.Sprintf(format, args...)})
}

// steps checks the step list at path. depth is its nesting level, 1 for
// the top-level list, and runs is how often each of its steps runs in an
// execution because of the loops around it.
func (c *checker) steps(path []string, steps []Step, depth, runs int) {
	if depth > MaxStepDepth {
		c.add(path, "steps nest %d levels deep in parallel groups and loops, and the limit is %d; flatten the scenario", depth, MaxStepDepth)
		return
	}
	for i := range steps {
		c.step(append(append([]string{}, path...), strconv.Itoa(i)), &steps[i], depth, runs)
	}
}

func (c *checker) step(path []string, st *Step, depth, runs int) {
	p := pointer(path)
	if st.Name == "" {
		st.Name = p[1:]
	} else if other, dup := c.names[st.Name]; dup {
		c.add(append(path, "name"), "step name %q is already used by %s; give each step its own name", st.Name, other)
	} else {
		c.names[st.Name] = p
	}
	for _, field := range []struct {
		name  string
		value Duration
	}{{"delay", st.Delay}, {"duration", st.Duration}, {"timeout", st.Timeout}} {
		if field.value < 0 || (field.name == "timeout" && field.value == 0 && c.lines.has(append(path, "timeout")...)) {
			c.add(append(path, field.name), "%s %s is not positive", field.name, field.value.D())
		}
	}
	switch {
	case st.Parallel != nil:
		c.steps(append(path, "parallel"), st.Parallel, depth+1, runs)
	case st.Loop != nil:
		// runs is at most MaxStepRuns and the schema caps max_iterations
		// at 1000, so the product fits in an int.
		loopRuns := runs * max(st.Loop.MaxIterations, 1)
		if loopRuns > MaxStepRuns {
			c.add(append(path, "loop", "max_iterations"),
				"the steps of this loop would run %d times with the loops around it, and the limit is %d; lower max_iterations", loopRuns, MaxStepRuns)
			return
		}
		c.steps(append(path, "loop", "steps"), st.Loop.Steps, depth+1, loopRuns)
	}
}

// has reports whether the document has a value at path.
func (x lineIndex) has(path ...string) bool {
	if x.root == nil {
		return false
	}
	node := x.root
	if len(node.Content) > 0 {
		node = node.Content[0]
	}
	for _, token := range path {
		next, _ := child(node, token)
		if next == nil {
			return false
		}
		node = next
	}
	return true
}
