package scenario

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// nestedParallel returns a scenario whose first step is depth parallel
// groups, one inside the other, around one plugin step.
func nestedParallel(depth int) string {
	return "name: a\nsteps: " + strings.Repeat(`[{"parallel": `, depth) + `[{"plugin": "p"}]` + strings.Repeat("}]", depth) + "\n"
}

// nestedLoops returns a scenario with loops of the given max_iterations,
// one inside the other, around one plugin step.
func nestedLoops(iterations ...int) string {
	inner := `[{"plugin": "p"}]`
	for i := len(iterations) - 1; i >= 0; i-- {
		inner = fmt.Sprintf(`[{"loop": {"max_iterations": %d, "steps": %s}}]`, iterations[i], inner)
	}
	return "name: a\nsteps: " + inner + "\n"
}

func TestParseLimits(t *testing.T) {
	tests := []struct {
		name    string
		doc     string
		wantErr string
	}{
		{"steps at the maximum depth", nestedParallel(MaxStepDepth - 1), ""},
		{"steps too deep", nestedParallel(MaxStepDepth), "nest 9 levels deep"},
		{"document too deep", "name: a\nsteps: [{plugin: p, parameters: " + strings.Repeat("[", 70) + strings.Repeat("]", 70) + "}]\n", "more than 64 levels"},
		{"loops within the run limit", nestedLoops(100, 1000), ""},
		{"loops above the run limit", nestedLoops(100, 1000, 2), "would run 200000 times"},
		{"file too large", "name: a\nsteps: [{plugin: p}]\n#" + strings.Repeat("x", MaxFileBytes), "the limit is 262144"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc), "limits.yaml")
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Parse succeeded, want an error containing %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error does not contain %q:\n%v", tt.wantErr, err)
			}
		})
	}
}

func TestCheckName(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		wantErr string
	}{
		{"valid", "checkout-latency.v2_a", ""},
		{"longest", strings.Repeat("a", MaxNameBytes), ""},
		{"empty", "", "empty"},
		{"too long", strings.Repeat("a", MaxNameBytes+1), "has 64 bytes"},
		{"huge", strings.Repeat("a", 1<<20), "has 1048576 bytes"},
		{"slash", "a/b", "invalid scenario name"},
		{"dot dot", "..", "invalid scenario name"},
		{"parent path", "../etc", "invalid scenario name"},
		{"NUL", "a\x00b", "invalid scenario name"},
		{"upper case", "Checkout", "invalid scenario name"},
		{"leading dash", "-a", "invalid scenario name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckName(tt.input)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("CheckName(%q) = %v, want nil", tt.input, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("CheckName = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

// TestCheckNameMatchesSchema keeps CheckName and the schema's name pattern
// the same rule.
func TestCheckNameMatchesSchema(t *testing.T) {
	var schema struct {
		Properties struct {
			Name struct {
				Pattern string `json:"pattern"`
			} `json:"name"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(Schema, &schema); err != nil {
		t.Fatal(err)
	}
	if got, want := schema.Properties.Name.Pattern, namePattern.String(); got != want {
		t.Errorf("schema name pattern = %q, CheckName uses %q", got, want)
	}
}
