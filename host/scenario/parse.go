package scenario

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"sigs.k8s.io/yaml"
	yamlv3 "sigs.k8s.io/yaml/goyaml.v3"
)

// Schema is the JSON Schema (draft 2020-12) of a scenario file.
//
//go:embed scenario.schema.json
var Schema []byte

// Limits of a scenario file that Parse enforces. They bound the memory and
// time that parsing and running one file can take, whatever its content.
const (
	// MaxFileBytes is the largest scenario file Parse accepts.
	MaxFileBytes = 256 << 10
	// MaxDocumentDepth is the deepest nesting of mappings and sequences
	// Parse accepts, checked before the schema, whose validation recurses
	// once per level.
	MaxDocumentDepth = 64
	// MaxStepDepth is how deep parallel groups and loops may nest: a step
	// list directly under "steps" is at depth 1.
	MaxStepDepth = 8
	// MaxStepRuns bounds how often one plugin step may run in an execution:
	// the product of the max_iterations of the loops around it. Every run
	// writes two journal events, each a durable write to the tenant store.
	MaxStepRuns = 100_000
)

// compiledSchema compiles Schema once.
var compiledSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(Schema))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("scenario.schema.json", doc); err != nil {
		return nil, err
	}
	return c.Compile("scenario.schema.json")
})

// FieldError is one invalid field of a scenario file.
type FieldError struct {
	// Path is the field's JSON pointer, such as "/steps/0/plugin".
	Path string
	// Line is the field's line in the file, 1-based; 0 when unknown.
	Line    int
	Message string
}

func (e FieldError) String() string {
	if e.Line > 0 {
		return fmt.Sprintf("at %s (line %d): %s", e.Path, e.Line, e.Message)
	}
	return fmt.Sprintf("at %s: %s", e.Path, e.Message)
}

// InvalidError lists every invalid field of a scenario file.
type InvalidError struct {
	// Source names the file, such as its path or "-" for stdin.
	Source string
	Fields []FieldError
}

func (e *InvalidError) Error() string {
	lines := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		lines[i] = "  " + f.String()
	}
	return fmt.Sprintf("invalid scenario file %s:\n%s", e.Source, strings.Join(lines, "\n"))
}

// Parse parses a scenario file in YAML or JSON, checks it against Schema
// and against the rules the schema cannot express, runs validators, and
// fills the default step names. Every error is an *InvalidError naming
// source, the path and the line of each bad field. A file that fails the
// schema gets only the schema's errors, because the later checks need a
// document of the schema's shape. Otherwise the errors of the rule checks
// and of every validator are reported together.
func Parse(data []byte, source string, validators ...Validator) (*Scenario, error) {
	invalid := func(path string, line int, format string, args ...any) error {
		return &InvalidError{Source: source, Fields: []FieldError{{Path: path, Line: line, Message: fmt.Sprintf(format, args...)}}}
	}
	if len(data) > MaxFileBytes {
		return nil, invalid("/", 0, "the file has %d bytes, and the limit is %d; split the scenario", len(data), MaxFileBytes)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, invalid("/", 0, "the file is empty; a scenario needs at least name and steps")
	}
	var root yamlv3.Node
	if err := yamlv3.Unmarshal(data, &root); err != nil {
		return nil, invalid("/", yamlErrorLine(err), "not valid YAML or JSON: %v", err)
	}
	doc, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, invalid("/", 0, "not valid YAML or JSON: %v", err)
	}
	if depth := documentDepth(&root, MaxDocumentDepth+1); depth > MaxDocumentDepth {
		return nil, invalid("/", 0, "mappings and sequences nest more than %d levels deep; flatten the file", MaxDocumentDepth)
	}
	lines := lineIndex{root: &root}
	if fields := validateSchema(doc, lines); len(fields) > 0 {
		return nil, &InvalidError{Source: source, Fields: fields}
	}

	var s Scenario
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, invalid("/", 0, "%v", err)
	}
	fields := s.check(lines)
	fields = append(fields, s.validate(lines, validators)...)
	if len(fields) > 0 {
		sort.SliceStable(fields, func(i, j int) bool { return fields[i].Line < fields[j].Line })
		return nil, &InvalidError{Source: source, Fields: fields}
	}
	return &s, nil
}

// documentDepth returns the nesting depth of node's mappings and sequences,
// counting no further than limit. Aliases are not followed, because the
// YAML parser already rejects excessive aliasing.
func documentDepth(node *yamlv3.Node, limit int) int {
	if limit <= 0 || node == nil {
		return 0
	}
	own := 0
	if node.Kind == yamlv3.MappingNode || node.Kind == yamlv3.SequenceNode {
		own = 1
	}
	deepest := 0
	for _, child := range node.Content {
		deepest = max(deepest, documentDepth(child, limit-own))
		if own+deepest >= limit {
			break
		}
	}
	return own + deepest
}

// yamlErrorLine finds "line N" in a YAML parser error.
func yamlErrorLine(err error) int {
	msg := err.Error()
	i := strings.Index(msg, "line ")
	if i < 0 {
		return 0
	}
	rest := msg[i+len("line "):]
	end := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' })
	if end < 0 {
		end = len(rest)
	}
	n, _ := strconv.Atoi(rest[:end])
	return n
}

func validateSchema(doc []byte, lines lineIndex) []FieldError {
	schema, err := compiledSchema()
	if err != nil {
		return []FieldError{{Path: "/", Message: fmt.Sprintf("compile the scenario schema: %v", err)}}
	}
	value, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return []FieldError{{Path: "/", Message: err.Error()}}
	}
	err = schema.Validate(value)
	var verr *jsonschema.ValidationError
	if !errors.As(err, &verr) {
		if err != nil {
			return []FieldError{{Path: "/", Message: err.Error()}}
		}
		return nil
	}
	printer := message.NewPrinter(language.English)
	seen := map[string]bool{}
	var out []FieldError
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				walk(c)
			}
			return
		}
		path := e.InstanceLocation
		// An unknown or missing property is reported on its object; point
		// at the unknown key itself, whose line is the useful one.
		if extra, ok := e.ErrorKind.(*kind.AdditionalProperties); ok && len(extra.Properties) == 1 {
			path = append(append([]string{}, path...), extra.Properties[0])
		}
		f := FieldError{Path: pointer(path), Line: lines.line(path), Message: e.ErrorKind.LocalizedString(printer)}
		if key := f.String(); !seen[key] {
			seen[key] = true
			out = append(out, f)
		}
	}
	walk(verr)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Line < out[j].Line })
	return out
}

// pointer returns the JSON pointer of path.
func pointer(path []string) string {
	escaped := make([]string, len(path))
	for i, token := range path {
		escaped[i] = strings.ReplaceAll(strings.ReplaceAll(token, "~", "~0"), "/", "~1")
	}
	return "/" + strings.Join(escaped, "/")
}

// lineIndex finds the line of a JSON pointer in the parsed YAML document.
type lineIndex struct {
	root *yamlv3.Node
}

// line returns the line of the value at path, or of the nearest ancestor
// that exists; for a mapping key it returns the key's line.
func (x lineIndex) line(path []string) int {
	if x.root == nil {
		return 0
	}
	node := x.root
	if node.Kind == yamlv3.DocumentNode && len(node.Content) > 0 {
		node = node.Content[0]
	}
	line := node.Line
	for _, token := range path {
		next, keyLine := child(node, token)
		if next == nil {
			return line
		}
		node = next
		line = keyLine
	}
	return line
}

// child returns the value under token in a mapping or sequence, and the
// line to report for it.
func child(node *yamlv3.Node, token string) (*yamlv3.Node, int) {
	for node.Kind == yamlv3.AliasNode && node.Alias != nil {
		node = node.Alias
	}
	switch node.Kind {
	case yamlv3.MappingNode:
		for i := 0; i+1 < len(node.Content); i += 2 {
			if node.Content[i].Value == token {
				return node.Content[i+1], node.Content[i].Line
			}
		}
	case yamlv3.SequenceNode:
		i, err := strconv.Atoi(token)
		if err == nil && i >= 0 && i < len(node.Content) {
			return node.Content[i], node.Content[i].Line
		}
	}
	return nil, 0
}
