package tenant

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"sigs.k8s.io/yaml"
)

// FileSchema is the JSON Schema (draft 2020-12) of a tenants file.
//
//go:embed tenants.schema.json
var FileSchema []byte

// File is the content of a declarative tenants file, in YAML or JSON:
//
//	tenants:
//	  - name: acme
//	    plan: professional
//	    quotas:
//	      concurrent_executions: 40
//	      storage_bytes: unlimited
//	      max_duration: 8h
//	    permissions: [manage_users]
//	  - name: trial
//	    plan: free
//	    disabled: true
type File struct {
	Tenants []FileTenant `json:"tenants"`
}

// FileTenant is one tenant in a tenants file. ApplyFile sets the tenant's
// plan, quota overrides, granted permissions and disabled flag to exactly
// these values, so an omitted field resets what the CLI may have set.
type FileTenant struct {
	Name        string         `json:"name"`
	Plan        Plan           `json:"plan"`
	Quotas      QuotaOverrides `json:"quotas"`
	Permissions []Permission   `json:"permissions,omitempty"`
	Disabled    bool           `json:"disabled,omitempty"`
}

// fileSchema compiles FileSchema once.
var fileSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(FileSchema))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("tenants.schema.json", doc); err != nil {
		return nil, err
	}
	return c.Compile("tenants.schema.json")
})

// LoadFile reads and validates the tenants file at path.
func LoadFile(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read tenants file: %w", err)
	}
	return ParseFile(data, path)
}

// ParseFile parses a tenants file in YAML or JSON and validates it against
// FileSchema and the rules the schema cannot express: unique names, and
// custom permissions only on the enterprise plan. Errors name the file
// (source), the location in it and the offending value.
func ParseFile(data []byte, source string) (*File, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("invalid tenants file %s: it is empty; list tenants under the key \"tenants\"", source)
	}
	doc, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("invalid tenants file %s: %w", source, err)
	}
	if err := validateFileSchema(doc, source); err != nil {
		return nil, err
	}
	var f File
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("invalid tenants file %s: %w", source, err)
	}
	if err := f.validate(); err != nil {
		return nil, fmt.Errorf("invalid tenants file %s: %w", source, err)
	}
	return &f, nil
}

func validateFileSchema(doc []byte, source string) error {
	schema, err := fileSchema()
	if err != nil {
		return fmt.Errorf("compile the tenants file schema: %w", err)
	}
	value, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("invalid tenants file %s: %w", source, err)
	}
	err = schema.Validate(value)
	var verr *jsonschema.ValidationError
	if errors.As(err, &verr) {
		return fmt.Errorf("invalid tenants file %s:\n%s", source, describeValidation(verr, value))
	}
	return err
}

// describeValidation lists the innermost schema errors, one per line with
// the JSON pointer and the value it points to in the file (doc).
func describeValidation(verr *jsonschema.ValidationError, doc any) string {
	printer := message.NewPrinter(language.English)
	var lines []string
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				walk(c)
			}
			return
		}
		location := "/" + strings.Join(e.InstanceLocation, "/")
		if value := describeValue(doc, e.InstanceLocation); value != "" {
			location += " (value " + value + ")"
		}
		lines = append(lines, fmt.Sprintf("  at %s: %s", location, e.ErrorKind.LocalizedString(printer)))
	}
	walk(verr)
	return strings.Join(lines, "\n")
}

// maxValueChars bounds how much of a value an error message quotes.
const maxValueChars = 60

// describeValue returns the JSON of the scalar at path in doc, shortened to
// maxValueChars. It returns "" for objects and arrays, whose errors name the
// offending property or item themselves.
func describeValue(doc any, path []string) string {
	v := doc
	for _, token := range path {
		switch node := v.(type) {
		case map[string]any:
			v = node[token]
		case []any:
			i, err := strconv.Atoi(token)
			if err != nil || i < 0 || i >= len(node) {
				return "?"
			}
			v = node[i]
		default:
			return "?"
		}
	}
	switch v.(type) {
	case map[string]any, []any:
		return ""
	}
	out, err := json.Marshal(v)
	if err != nil {
		return "?"
	}
	if len(out) > maxValueChars {
		return string(out[:maxValueChars]) + "..."
	}
	return string(out)
}

func (f *File) validate() error {
	seen := map[string]int{}
	for i, t := range f.Tenants {
		if j, dup := seen[t.Name]; dup {
			return fmt.Errorf("at /tenants/%d/name: tenant %q is listed twice, also at /tenants/%d; merge the two entries", i, t.Name, j)
		}
		seen[t.Name] = i
		for k, p := range t.Permissions {
			if !p.IsStandard() && !t.Plan.AllowsCustomPermissions() {
				return fmt.Errorf("at /tenants/%d/permissions/%d: %s is a custom permission, which only enterprise tenants can have; tenant %q is on plan %s: use a standard permission (%s) or plan enterprise",
					i, k, p, t.Name, t.Plan, joinQuoted(standardPermissions))
			}
		}
	}
	return nil
}
