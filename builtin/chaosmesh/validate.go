package chaosmesh

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// schemaFiles are the JSON Schemas (draft 2020-12) of the create
// parameters, one per kind, named after the kind's resource. go generate
// converts them from Chaos Mesh's CRDs with internal/gen.
//
//go:embed schemas/*.json
var schemaFiles embed.FS

// paramSchemas holds the compiled schemas by resource name, compiled once
// on first use.
var paramSchemas = sync.OnceValues(compileParamSchemas)

func compileParamSchemas() (map[string]*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	out := make(map[string]*jsonschema.Schema, len(kinds))
	for _, k := range kinds {
		name := "schemas/" + k.resource + ".json"
		data, err := schemaFiles.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("read embedded schema %s: %w", name, err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("decode embedded schema %s: %w", name, err)
		}
		url := "embedded:///" + name
		if err := c.AddResource(url, doc); err != nil {
			return nil, fmt.Errorf("add embedded schema %s: %w", name, err)
		}
		if out[k.resource], err = c.Compile(url); err != nil {
			return nil, fmt.Errorf("compile embedded schema %s: %w", name, err)
		}
	}
	return out, nil
}

// validateParams checks the parameters of a create call against the
// kind's schema. The error lists every failure with the JSON pointer of
// the value, such as "/spec/delay/latency".
func validateParams(k kindInfo, raw []byte) error {
	schemas, err := paramSchemas()
	if err != nil {
		return fmt.Errorf("chaos-mesh: %w", err)
	}
	value, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return callError(CodeInvalidArgument, "invalid parameters: %v", err)
	}
	err = schemas[k.resource].Validate(value)
	var verr *jsonschema.ValidationError
	if errors.As(err, &verr) {
		return callError(CodeInvalidArgument, "invalid %s parameters: %s", k.kind, strings.Join(schemaViolations(verr), "; "))
	}
	if err != nil {
		return fmt.Errorf("validate %s parameters: %w", k.kind, err)
	}
	return nil
}

var englishPrinter = message.NewPrinter(language.English)

// schemaViolations flattens a validation error into one line per failing
// value, "pointer: reason", sorted and without repeats. An unknown field
// is reported at its own pointer.
func schemaViolations(verr *jsonschema.ValidationError) []string {
	seen := map[string]bool{}
	var out []string
	add := func(line string) {
		if !seen[line] {
			seen[line] = true
			out = append(out, line)
		}
	}
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				walk(c)
			}
			return
		}
		pointer := jsonPointer(e.InstanceLocation)
		if extra, ok := e.ErrorKind.(*kind.AdditionalProperties); ok {
			for _, name := range extra.Properties {
				add(childPointer(pointer, name) + ": unknown field; check its spelling against Chaos Mesh's fields")
			}
			return
		}
		add(pointer + ": " + describeViolation(e.ErrorKind))
	}
	walk(verr)
	sort.Strings(out)
	return out
}

// describeViolation returns the reason of one failure. Bounds are written
// as plain numbers, because the library's English printer writes large
// ones in scientific notation.
func describeViolation(k jsonschema.ErrorKind) string {
	switch v := k.(type) {
	case *kind.Minimum:
		return fmt.Sprintf("%s is less than the minimum %s", ratString(v.Got), ratString(v.Want))
	case *kind.Maximum:
		return fmt.Sprintf("%s is greater than the maximum %s", ratString(v.Got), ratString(v.Want))
	case *kind.ExclusiveMinimum:
		return fmt.Sprintf("%s is not greater than %s", ratString(v.Got), ratString(v.Want))
	case *kind.ExclusiveMaximum:
		return fmt.Sprintf("%s is not less than %s", ratString(v.Got), ratString(v.Want))
	}
	return k.LocalizedString(englishPrinter)
}

// ratString writes an integer without a fraction and any other number
// with up to six decimals.
func ratString(r *big.Rat) string {
	if r == nil {
		return "?"
	}
	if r.IsInt() {
		return r.Num().String()
	}
	return r.FloatString(6)
}

// jsonPointer joins tokens into an RFC 6901 pointer; the root is "/".
func jsonPointer(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteString("/")
		b.WriteString(escapePointerToken(t))
	}
	if b.Len() == 0 {
		return "/"
	}
	return b.String()
}

// childPointer returns the pointer of the member name of the object at
// parent.
func childPointer(parent, name string) string {
	if parent == "/" {
		parent = ""
	}
	return parent + "/" + escapePointerToken(name)
}

func escapePointerToken(t string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(t)
}
