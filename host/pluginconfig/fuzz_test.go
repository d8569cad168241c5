package pluginconfig

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

// FuzzCompileAndValidate compiles arbitrary bytes as a plugin's config
// schema and validates arbitrary bytes against it. Neither may panic or
// hang, and a rejected config must come with at least one violation.
func FuzzCompileAndValidate(f *testing.F) {
	f.Add([]byte(draft7Schema), []byte(`{"url":"x","retries":2}`))
	f.Add([]byte(draft2020Schema), []byte(`{"tags":["a","b"]}`))
	f.Add([]byte(``), []byte(`[1]`))
	f.Add([]byte(`{"$ref":"#"}`), []byte(`{}`))
	f.Add([]byte(`{"$ref":"file:///dev/zero"}`), []byte(`{}`))
	f.Add([]byte(`{"type":"object","properties":{"a":{"pattern":"^(a+)+$"}}}`), []byte(`{"a":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!"}`))
	f.Fuzz(func(t *testing.T, schemaDoc, config []byte) {
		schema, err := CompileSchema("fuzz", schemaDoc)
		if err != nil {
			return
		}
		err = schema.Validate(config)
		var invalid *InvalidError
		if errors.As(err, &invalid) {
			if len(invalid.Violations) == 0 {
				t.Errorf("InvalidError without violations for config %q", config)
			}
			for _, v := range invalid.Violations {
				if v.Message == "" {
					t.Errorf("violation at %q has no message", v.Pointer)
				}
			}
			return
		}
		if err == nil && !isJSONObject(config) {
			t.Errorf("config %q accepted but it is not a JSON object", config)
		}
	})
}

// FuzzSplitEnabled checks that SplitEnabled either rejects a config or
// returns a JSON object without the "enabled" key, which it then accepts
// again unchanged.
func FuzzSplitEnabled(f *testing.F) {
	f.Add([]byte(`{"a":1,"enabled":false}`))
	f.Add([]byte(`{"enabled":true}`))
	f.Add([]byte(`{"enabled":"no"}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"enabled":false,"enabled":true}`))
	f.Fuzz(func(t *testing.T, config []byte) {
		rest, _, err := SplitEnabled(config)
		if err != nil {
			return
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(rest, &obj); err != nil || obj == nil {
			t.Fatalf("SplitEnabled(%q) returned %q, not a JSON object: %v", config, rest, err)
		}
		if _, ok := obj["enabled"]; ok {
			t.Fatalf("SplitEnabled(%q) kept the enabled key: %q", config, rest)
		}
		again, enabled, err := SplitEnabled(rest)
		if err != nil || !enabled || !bytes.Equal(again, rest) {
			t.Errorf("SplitEnabled(%q) = %q, %v, %v; want the input back, enabled", rest, again, enabled, err)
		}
	})
}

func isJSONObject(data []byte) bool {
	var obj map[string]json.RawMessage
	return json.Unmarshal(data, &obj) == nil && obj != nil
}
