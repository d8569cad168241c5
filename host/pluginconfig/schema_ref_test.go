package pluginconfig

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestCompileSchemaRejectsExternalRefs checks that a plugin's schema cannot
// make the daemon read a local file: a $ref to a readable JSON file must fail
// as firmly as one to a FIFO, which would block the reader forever.
func TestCompileSchemaRejectsExternalRefs(t *testing.T) {
	dir := t.TempDir()
	jsonFile := filepath.Join(dir, "defs.json")
	if err := os.WriteFile(jsonFile, []byte(`{"type": "object"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		schema string
	}{
		{"absolute file URL", `{"$ref": "file://` + jsonFile + `"}`},
		{"file URL under $defs", `{"$defs": {"x": {"$ref": "file://` + jsonFile + `"}}, "properties": {"a": {"$ref": "#/$defs/x"}}}`},
		{"relative ref against a file $id", `{"$id": "file://` + dir + `/", "$ref": "defs.json"}`},
		{"FIFO", `{"$ref": "file://` + fifo + `"}`},
		{"device", `{"$ref": "file:///dev/zero"}`},
		{"http URL", `{"$ref": "http://127.0.0.1:1/schema.json"}`},
		{"draft 7 file ref", `{"$schema": "http://json-schema.org/draft-07/schema#", "$ref": "file://` + jsonFile + `"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() {
				_, err := CompileSchema("p", []byte(tc.schema))
				done <- err
			}()
			select {
			case err := <-done:
				if !errors.Is(err, ErrExternalRef) {
					t.Errorf("CompileSchema error = %v, want ErrExternalRef", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("CompileSchema blocked reading the referenced file")
			}
		})
	}
}

func TestCompileSchemaAllowsInternalRefs(t *testing.T) {
	tests := []struct {
		name   string
		schema string
	}{
		{"$defs pointer", `{"$defs": {"n": {"type": "integer"}}, "properties": {"a": {"$ref": "#/$defs/n"}}}`},
		{"draft 7 definitions", `{"$schema": "http://json-schema.org/draft-07/schema#", "definitions": {"n": {"type": "integer"}}, "properties": {"a": {"$ref": "#/definitions/n"}}}`},
		{"recursive", `{"properties": {"child": {"$ref": "#"}}}`},
		{"metaschema", `{"properties": {"schema": {"$ref": "https://json-schema.org/draft/2020-12/schema"}}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := CompileSchema("p", []byte(tc.schema))
			if err != nil {
				t.Fatalf("CompileSchema: %v", err)
			}
			if err := s.Validate([]byte(`{}`)); err != nil {
				t.Errorf("Validate({}): %v", err)
			}
		})
	}
}
