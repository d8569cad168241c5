package pluginconfig

import (
	"errors"
	"strings"
	"testing"
)

const draft7Schema = `{
	"$schema": "http://json-schema.org/draft-07/schema#",
	"type": "object",
	"additionalProperties": false,
	"required": ["url"],
	"properties": {
		"url": {"type": "string", "minLength": 1},
		"retries": {"type": "integer", "minimum": 0}
	}
}`

const draft2020Schema = `{
	"$schema": "https://json-schema.org/draft/2020-12/schema",
	"type": "object",
	"properties": {"tags": {"type": "array", "prefixItems": [{"type": "string"}], "items": false}}
}`

func TestValidate(t *testing.T) {
	tests := []struct {
		name         string
		schema       string
		config       string
		wantPointers []string
	}{
		{"draft 7 valid", draft7Schema, `{"url":"x","retries":2}`, nil},
		{"draft 7 wrong type and extra field", draft7Schema, `{"url":"x","retries":"two","extra":1}`, []string{"", "/retries"}},
		{"draft 7 missing required", draft7Schema, `{}`, []string{""}},
		{"draft 2020-12 valid", draft2020Schema, `{"tags":["a"]}`, nil},
		{"draft 2020-12 prefixItems enforced", draft2020Schema, `{"tags":["a","b"]}`, []string{"/tags/1"}},
		{"no schema accepts any object", "", `{"anything":true}`, nil},
		{"no schema still needs an object", "", `[1]`, []string{""}},
		{"invalid JSON", draft7Schema, `{"url":`, []string{""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := CompileSchema("p", []byte(tc.schema))
			if err != nil {
				t.Fatal(err)
			}
			err = s.Validate([]byte(tc.config))
			if tc.wantPointers == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var inv *InvalidError
			if !errors.As(err, &inv) {
				t.Fatalf("got %v, want *InvalidError", err)
			}
			var got []string
			seen := map[string]bool{}
			for _, v := range inv.Violations {
				if !seen[v.Pointer] {
					seen[v.Pointer] = true
					got = append(got, v.Pointer)
				}
				if v.Message == "" {
					t.Errorf("violation at %q has no message", v.Pointer)
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.wantPointers, ",") {
				t.Errorf("pointers = %q, want %q (error: %v)", got, tc.wantPointers, err)
			}
		})
	}
}

// wordingSchema has one property per kind of failure that the messages
// word themselves, and an anyOf whose alternatives are joined.
const wordingSchema = `{
	"type": "object",
	"additionalProperties": false,
	"required": ["name"],
	"properties": {
		"name": {"type": "string", "minLength": 2},
		"ratio": {"type": "number", "maximum": 1, "exclusiveMinimum": 0},
		"mode": {"enum": ["fast", "safe"]},
		"limit": {"type": "integer", "anyOf": [{"maximum": 0}, {"minimum": 3, "maximum": 1000}]},
		"period": {"oneOf": [{"type": "integer"}, {"type": "string", "pattern": "^[0-9]+s$"}]}
	}
}`

func TestValidateWording(t *testing.T) {
	s, err := CompileSchema("p", []byte(wordingSchema))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		config string
		want   string
	}{
		{`{"name": "ab", "ratio": 2}`, "at /ratio: must be at most 1, got 2"},
		{`{"name": "ab", "ratio": 0}`, "at /ratio: must be greater than 0, got 0"},
		{`{"name": "ab", "ratio": "half"}`, `at /ratio: must be a number, got "half"`},
		{`{"name": "a"}`, `at /name: must be at least 2 characters long, got "a"`},
		{`{"name": "ab", "mode": "slow"}`, `at /mode: must be one of "fast" or "safe", got "slow"`},
		{`{"name": "ab", "limit": 2}`, "at /limit: must be at most 0, or be at least 3, got 2"},
		{`{"name": "ab", "limit": 1e4}`, "at /limit: must be at most 0, or be at most 1000, got 1e4"},
		{`{"name": "ab", "period": "ten"}`, `at /period: must be a whole number, or match the pattern ^[0-9]+s$, got "ten"`},
		{`{}`, `at /: missing key "name"`},
		{`{"name": "ab", "colour": 1, "size": 2}`, `at /: unknown keys "colour" and "size": the valid keys are limit, mode, name, period and ratio`},
	}
	for _, tc := range tests {
		err := s.Validate([]byte(tc.config))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate(%s) = %v, want it to contain %q", tc.config, err, tc.want)
		}
	}
}

func TestCompileSchemaRejectsBrokenSchema(t *testing.T) {
	if _, err := CompileSchema("p", []byte(`{"type": 12}`)); err == nil || !strings.Contains(err.Error(), "plugin p") {
		t.Errorf("got %v, want an error naming the plugin", err)
	}
	if _, err := CompileSchema("p", []byte(`{not json`)); err == nil {
		t.Error("invalid JSON schema accepted")
	}
}

func TestSplitEnabled(t *testing.T) {
	tests := []struct {
		config      string
		wantRest    string
		wantEnabled bool
		wantErr     bool
	}{
		{`{"a":1}`, `{"a":1}`, true, false},
		{`{"a":1,"enabled":false}`, `{"a":1}`, false, false},
		{`{"enabled":true}`, `{}`, true, false},
		{`{"enabled":"no"}`, ``, false, true},
		{`null`, ``, false, true},
		{`[1]`, ``, false, true},
	}
	for _, tc := range tests {
		rest, enabled, err := SplitEnabled([]byte(tc.config))
		if (err != nil) != tc.wantErr {
			t.Errorf("%s: error %v, want error %v", tc.config, err, tc.wantErr)
			continue
		}
		if err == nil && (string(rest) != tc.wantRest || enabled != tc.wantEnabled) {
			t.Errorf("%s: got %s %v, want %s %v", tc.config, rest, enabled, tc.wantRest, tc.wantEnabled)
		}
	}
}

func TestStoreRoundTripAndIDs(t *testing.T) {
	s, err := OpenStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, found, err := s.Load("missing"); found || err != nil {
		t.Fatalf("missing config: found %v err %v", found, err)
	}
	want := Stored{Enabled: false, Config: []byte(`{"a":1}`)}
	if err := s.Save("my-plugin", want); err != nil {
		t.Fatal(err)
	}
	got, found, err := s.Load("my-plugin")
	if err != nil || !found || got.Enabled != want.Enabled || string(got.Config) != string(want.Config) {
		t.Errorf("loaded %+v found %v err %v", got, found, err)
	}
	for _, bad := range []string{"../escape", "a/b", "", "UPPER", ".."} {
		if err := s.Save(bad, want); err == nil {
			t.Errorf("id %q accepted", bad)
		}
	}
}
