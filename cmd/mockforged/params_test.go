package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBuildParameters(t *testing.T) {
	tests := []struct {
		name        string
		assignments []string
		file        string // contents of --params-file; empty means no file
		want        string
	}{
		{name: "none", want: `{}`},
		{name: "string", assignments: []string{"mode=latency"}, want: `{"mode":"latency"}`},
		{name: "integer", assignments: []string{"count=3"}, want: `{"count":3}`},
		{name: "large integer kept exact", assignments: []string{"id=9007199254740993"}, want: `{"id":9007199254740993}`},
		{name: "float", assignments: []string{"ratio=0.25"}, want: `{"ratio":0.25}`},
		{name: "booleans", assignments: []string{"on=true", "off=false"}, want: `{"off":false,"on":true}`},
		{name: "null", assignments: []string{"x=null"}, want: `{"x":null}`},
		{name: "quoted string", assignments: []string{`s="42"`}, want: `{"s":"42"}`},
		{name: "object", assignments: []string{`o={"a":1}`}, want: `{"o":{"a":1}}`},
		{name: "array", assignments: []string{`a=[1,"x"]`}, want: `{"a":[1,"x"]}`},
		{name: "empty value", assignments: []string{"s="}, want: `{"s":""}`},
		{name: "invalid JSON kept as string", assignments: []string{"s={oops"}, want: `{"s":"{oops"}`},
		{name: "leading zero is a string", assignments: []string{"zip=01234"}, want: `{"zip":"01234"}`},
		{name: "value with equals sign", assignments: []string{"q=a=b"}, want: `{"q":"a=b"}`},
		{name: "value with comma", assignments: []string{"list=a,b"}, want: `{"list":"a,b"}`},
		{name: "nested key", assignments: []string{"db.port=5432"}, want: `{"db":{"port":5432}}`},
		{name: "nested keys merge", assignments: []string{"db.host=h", "db.port=1"}, want: `{"db":{"host":"h","port":1}}`},
		{name: "deep key", assignments: []string{"a.b.c=true"}, want: `{"a":{"b":{"c":true}}}`},
		{name: "later param wins", assignments: []string{"n=1", "n=2"}, want: `{"n":2}`},
		{name: "nested key replaces scalar", assignments: []string{"a=1", "a.b=2"}, want: `{"a":{"b":2}}`},
		{name: "scalar replaces object", assignments: []string{"a.b=2", "a=1"}, want: `{"a":1}`},
		{name: "nested key into JSON object", assignments: []string{`a={"x":1}`, "a.y=2"}, want: `{"a":{"x":1,"y":2}}`},
		{name: "file alone", file: `{"a": 1, "b": {"c": "d"}}`, want: `{"a":1,"b":{"c":"d"}}`},
		{name: "param overrides file", file: `{"a": 1, "b": 2}`, assignments: []string{"a=10"}, want: `{"a":10,"b":2}`},
		{name: "nested param merges into file", file: `{"db": {"host": "h", "port": 1}}`, assignments: []string{"db.port=2"}, want: `{"db":{"host":"h","port":2}}`},
		{name: "file keeps large integers", file: `{"id": 9007199254740993}`, want: `{"id":9007199254740993}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var file string
			if tt.file != "" {
				file = writeTempFile(t, tt.file)
			}

			got, err := buildParameters(tt.assignments, file, strings.NewReader(""))

			if err != nil {
				t.Fatalf("buildParameters(%q) error: %v", tt.assignments, err)
			}
			if string(got) != tt.want {
				t.Errorf("buildParameters(%q) = %s, want %s", tt.assignments, got, tt.want)
			}
		})
	}
}

func TestBuildParametersFromStdin(t *testing.T) {
	got, err := buildParameters([]string{"b=2"}, "-", strings.NewReader(`{"a": 1}`))

	if err != nil {
		t.Fatalf("buildParameters error: %v", err)
	}
	if string(got) != `{"a":1,"b":2}` {
		t.Errorf("parameters = %s, want {\"a\":1,\"b\":2}", got)
	}
}

func TestBuildParametersErrors(t *testing.T) {
	tests := []struct {
		name        string
		assignments []string
		file        string // contents of --params-file; empty means no file
		want        string
		usage       bool
	}{
		{name: "missing equals", assignments: []string{"count"}, want: `invalid --param "count": expected key=value, for example --param count=3`, usage: true},
		{name: "empty key", assignments: []string{"=3"}, want: `invalid --param "=3": the key before "=" is empty`, usage: true},
		{name: "leading dot", assignments: []string{".a=1"}, want: `invalid --param ".a=1": key ".a" has an empty part between dots`, usage: true},
		{name: "double dot", assignments: []string{"a..b=1"}, want: `key "a..b" has an empty part`, usage: true},
		{name: "trailing dot", assignments: []string{"a.=1"}, want: `key "a." has an empty part`, usage: true},
		{name: "key not UTF-8", assignments: []string{"\xfe=1"}, want: `invalid --param "\xfe=1": it is not valid UTF-8`, usage: true},
		{name: "value not UTF-8", assignments: []string{"k=a\xff"}, want: `invalid --param "k=a\xff": it is not valid UTF-8`, usage: true},
		{name: "file is array", file: `[1, 2]`, want: `must contain a JSON object ({...}), not an array`},
		{name: "file is string", file: `"x"`, want: `not a string`},
		{name: "file is number", file: `12`, want: `not a number`},
		{name: "file is null", file: `null`, want: `not null`},
		{name: "file is empty", file: " \n", want: `is empty; it must contain a JSON object`},
		{name: "file has syntax error", file: "{\n  \"a\": ,\n}", want: `contains invalid JSON: invalid character ',' looking for beginning of value at line 2, column 8`},
		{name: "file ends early", file: `{"a": 1`, want: `the JSON ends early`},
		{name: "file has trailing data", file: "{\"a\": 1}\n{\"b\": 2}", want: `contains data after the JSON object at line 2, column 1`},
		{name: "file not UTF-8", file: "{\n  \"a\": \"\xff\"\n}", want: `contains invalid UTF-8 at line 2, column 9; save the file as UTF-8`},
		{name: "file has stray brace", file: `{"a": 1}}`, want: `contains data after the JSON object at line 1, column 9`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var file string
			if tt.file != "" {
				file = writeTempFile(t, tt.file)
			}

			got, err := buildParameters(tt.assignments, file, strings.NewReader(""))

			if err == nil {
				t.Fatalf("buildParameters = %s, want an error containing %q", got, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to contain %q", err, tt.want)
			}
			if file != "" && !strings.Contains(err.Error(), file) {
				t.Errorf("error = %q, want it to name the file %s", err, file)
			}
			if isUsageError(err) != tt.usage {
				t.Errorf("isUsageError = %v, want %v", isUsageError(err), tt.usage)
			}
		})
	}
}

func TestBuildParametersMissingFile(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.json")

	_, err := buildParameters(nil, missing, strings.NewReader(""))

	if err == nil || !strings.Contains(err.Error(), `read --params-file "`+missing+`"`) {
		t.Errorf("error = %v, want it to name the missing file", err)
	}
}

func TestBuildParametersStdinNotObject(t *testing.T) {
	_, err := buildParameters(nil, "-", strings.NewReader(`[]`))

	if err == nil || !strings.Contains(err.Error(), "--params-file (stdin) must contain a JSON object") {
		t.Errorf("error = %v, want it to name stdin", err)
	}
}

func writeTempFile(t *testing.T, contents string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "params.json")
	if err := os.WriteFile(path, []byte(contents), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
