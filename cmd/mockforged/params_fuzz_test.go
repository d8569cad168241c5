package main

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// FuzzBuildParameters builds an exec call's parameters from two arbitrary
// --param assignments and an arbitrary --params-file read from stdin. The
// result must be a JSON object, and the second assignment, when valid, must
// be found in it unchanged at its key path.
func FuzzBuildParameters(f *testing.F) {
	f.Add("count=3", "db.port=5432", []byte(`{"a": 1}`))
	f.Add("a=1", "a.b=2", []byte(`{"db": {"host": "h"}}`))
	f.Add(`o={"a":1}`, "o.b=[1,\"x\"]", []byte(`{}`))
	f.Add("id=9007199254740993", "s=\"42\"", []byte(`{"id": 1e999}`))
	f.Add("k=\xff", "\xfe=1", []byte("{\"a\": \"\xff\"}"))
	f.Add("=3", "a..b=1", []byte(`[1, 2]`))
	f.Fuzz(func(t *testing.T, first, second string, file []byte) {
		paramsFile := ""
		if len(file) > 0 {
			paramsFile = "-"
		}
		got, err := buildParameters([]string{first, second}, paramsFile, bytes.NewReader(file))
		if err != nil {
			if got != nil {
				t.Errorf("buildParameters returned %q with error %v", got, err)
			}
			return
		}
		var params map[string]any
		decoder := json.NewDecoder(bytes.NewReader(got))
		decoder.UseNumber()
		if err := decoder.Decode(&params); err != nil || params == nil {
			t.Fatalf("buildParameters = %q, not a JSON object: %v", got, err)
		}

		path, want, err := parseParam(second)
		if err != nil {
			t.Fatalf("buildParameters accepted --param %q that parseParam rejects: %v", second, err)
		}
		value := any(params)
		for _, key := range path {
			object, ok := value.(map[string]any)
			if !ok {
				t.Fatalf("--param %q: %q holds %v, not an object, in %s", second, key, value, got)
			}
			value = object[key]
		}
		if !reflect.DeepEqual(value, want) {
			t.Errorf("--param %q: parameters hold %#v at %s, want %#v", second, value, strings.Join(path, "."), want)
		}
	})
}
