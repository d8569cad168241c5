// Package pluginconfig validates plugin configs against the JSON Schema a
// plugin declares and persists accepted configs in the data directory.
package pluginconfig

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Schema is a compiled plugin config schema. A nil *Schema accepts every
// JSON object.
type Schema struct {
	schema *jsonschema.Schema
}

// CompileSchema compiles a JSON Schema document. The document's $schema
// selects the draft; draft 2020-12 applies when it names none. Empty input
// returns a nil *Schema. A $ref to any document other than the schema itself
// or a standard metaschema fails with ErrExternalRef.
func CompileSchema(pluginID string, doc []byte) (*Schema, error) {
	if len(bytes.TrimSpace(doc)) == 0 {
		return nil, nil
	}
	parsed, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return nil, fmt.Errorf("config schema of plugin %s is not valid JSON: %w", pluginID, err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.UseLoader(noExternalRefs{})
	url := "mockforged:///plugins/" + pluginID + "/config.schema.json"
	if err := c.AddResource(url, parsed); err != nil {
		return nil, fmt.Errorf("config schema of plugin %s: %w", pluginID, err)
	}
	sch, err := c.Compile(url)
	var loadErr *jsonschema.LoadURLError
	if errors.As(err, &loadErr) && errors.Is(loadErr.Err, ErrExternalRef) {
		return nil, fmt.Errorf("config schema of plugin %s %w (%s); put every definition in the schema itself, under $defs", pluginID, ErrExternalRef, loadErr.URL)
	}
	if err != nil {
		return nil, fmt.Errorf("config schema of plugin %s is invalid: %w", pluginID, err)
	}
	return &Schema{schema: sch}, nil
}

// ErrExternalRef is returned by CompileSchema for a schema that refers to a
// document outside itself.
var ErrExternalRef = errors.New("refers to a document outside the schema")

// noExternalRefs is the schema compiler's loader for every URL that is not a
// JSON Schema metaschema (those are embedded in the library). The library's
// default loader reads file:// URLs, so a plugin's schema could make the
// daemon read, or block on, any local file such as a FIFO or /dev/zero.
type noExternalRefs struct{}

func (noExternalRefs) Load(string) (any, error) {
	return nil, ErrExternalRef
}

// Violation is one failing location of a config.
type Violation struct {
	// Pointer is the JSON pointer of the failing value; "" is the root.
	Pointer string
	// Message describes the problem at Pointer.
	Message string
}

// InvalidError lists every violation of a config.
type InvalidError struct {
	Violations []Violation
}

func (e *InvalidError) Error() string {
	parts := make([]string, len(e.Violations))
	for i, v := range e.Violations {
		ptr := v.Pointer
		if ptr == "" {
			ptr = "/"
		}
		parts[i] = fmt.Sprintf("at %s: %s", ptr, v.Message)
	}
	return "config does not match the plugin's schema: " + strings.Join(parts, "; ")
}

// Validate checks a config, which must be a JSON object, against the schema.
func (s *Schema) Validate(config []byte) error {
	value, err := jsonschema.UnmarshalJSON(bytes.NewReader(config))
	if err != nil {
		return &InvalidError{Violations: []Violation{{Message: "not valid JSON: " + err.Error()}}}
	}
	if _, ok := value.(map[string]any); !ok {
		return &InvalidError{Violations: []Violation{{Message: "the config must be a JSON object"}}}
	}
	if s == nil || s.schema == nil {
		return nil
	}
	err = s.schema.Validate(value)
	if err == nil {
		return nil
	}
	var verr *jsonschema.ValidationError
	if !errors.As(err, &verr) {
		return fmt.Errorf("validate config: %w", err)
	}
	return &InvalidError{Violations: violations(verr, s.schema, value)}
}

// violations flattens a validation error of value into its failures (see
// violationsOf), sorted by pointer so that the output is stable.
func violations(verr *jsonschema.ValidationError, root *jsonschema.Schema, value any) []Violation {
	list := violationsOf(verr, root, value)
	if len(list) == 0 {
		list = append(list, Violation{Message: verr.Error()})
	}
	sort.SliceStable(list, func(i, j int) bool { return list[i].Pointer < list[j].Pointer })
	return list
}

// SplitEnabled reads the daemon-owned top-level key "enabled" from a config
// and returns the config without it. A config without the key is enabled.
func SplitEnabled(config []byte) (rest []byte, enabled bool, err error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(config, &obj); err != nil {
		return nil, false, fmt.Errorf("config is not a JSON object: %w", err)
	}
	if obj == nil {
		return nil, false, errors.New("config is not a JSON object: got null")
	}
	enabled = true
	if raw, ok := obj["enabled"]; ok {
		if err := json.Unmarshal(raw, &enabled); err != nil {
			return nil, false, fmt.Errorf(`config key "enabled" must be true or false, got %s`, raw)
		}
		delete(obj, "enabled")
	}
	rest, err = json.Marshal(obj)
	if err != nil {
		return nil, false, fmt.Errorf("encode config: %w", err)
	}
	return rest, enabled, nil
}
