package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestSchemasUpToDate regenerates the schemas from the CRDs of the Chaos
// Mesh module version that chaosmeshtest names, and compares them with the
// committed ones.
func TestSchemasUpToDate(t *testing.T) {
	out := t.TempDir()
	if err := run(out, ""); err != nil {
		t.Fatalf("generate: %v", err)
	}
	for _, k := range kinds {
		name := k.resource + ".json"
		got, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		committed, err := os.ReadFile(filepath.Join("..", "..", "schemas", name))
		if err != nil {
			t.Fatalf("read committed schema: %v", err)
		}
		if !bytes.Equal(got, committed) {
			t.Errorf("schemas/%s differs from the generator's output: run go generate ./builtin/chaosmesh", name)
		}
	}
}

func TestConvertKeywords(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want string
	}{
		{"object closed", `{"type": "object", "properties": {"a": {"type": "string", "description": "d"}}}`,
			`{"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": false}`},
		{"unknown fields kept", `{"type": "object", "properties": {"a": {"type": "string"}}, "x-kubernetes-preserve-unknown-fields": true}`,
			`{"type": "object", "properties": {"a": {"type": "string"}}}`},
		{"map", `{"type": "object", "additionalProperties": {"type": "string"}}`,
			`{"type": "object", "additionalProperties": {"type": "string"}}`},
		{"int or string", `{"anyOf": [{"type": "integer"}, {"type": "string"}], "x-kubernetes-int-or-string": true}`,
			`{"type": ["integer", "string"]}`},
		{"nullable", `{"type": "integer", "nullable": true, "format": "int64"}`,
			`{"type": ["integer", "null"]}`},
		{"exclusive minimum", `{"type": "integer", "minimum": 0, "exclusiveMinimum": true}`,
			`{"type": "integer", "exclusiveMinimum": 0}`},
		{"int32 bounds", `{"type": "integer", "format": "int32", "minimum": 0}`,
			`{"type": "integer", "minimum": 0, "maximum": ` + jsonNumber(math.MaxInt32) + `}`},
		{"items", `{"type": "array", "items": {"type": "object", "properties": {"k": {"type": "string"}}, "required": ["k"]}}`,
			`{"type": "array", "items": {"type": "object", "properties": {"k": {"type": "string"}}, "required": ["k"], "additionalProperties": false}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var in, want map[string]any
			if err := json.Unmarshal([]byte(tc.in), &in); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(tc.want), &want); err != nil {
				t.Fatal(err)
			}
			got, err := convert(in, "spec")
			if err != nil {
				t.Fatalf("convert: %v", err)
			}
			// Compare as JSON, so that integer types do not matter.
			gotJSON, _ := json.Marshal(got)
			var normalized map[string]any
			if err := json.Unmarshal(gotJSON, &normalized); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(normalized, want) {
				t.Errorf("convert(%s) = %s, want %s", tc.in, gotJSON, tc.want)
			}
		})
	}
}

func TestConvertRejectsUnknownKeyword(t *testing.T) {
	_, err := convert(map[string]any{"type": "object", "properties": map[string]any{"a": map[string]any{"oneOf": []any{}}}}, "spec")
	if err == nil || !strings.Contains(err.Error(), `spec.a: unsupported keyword "oneOf"`) {
		t.Errorf("convert of an unknown keyword = %v, want an error naming spec.a and oneOf", err)
	}
}

func jsonNumber(n int) string {
	data, _ := json.Marshal(n)
	return string(data)
}
