package pluginconfig

import (
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

// maxShownValue bounds the length of a config value quoted in a message.
const maxShownValue = 60

// violationsOf turns a validation error of the config value into one
// violation per failing location, in plain words: what the value must be
// and what it is. The alternatives of a failed anyOf or oneOf are joined
// into one requirement. Keywords without a wording of their own keep the
// schema library's message.
func violationsOf(verr *jsonschema.ValidationError, root *jsonschema.Schema, value any) []Violation {
	units := verr.BasicOutput().Errors
	var list []Violation
	seen := map[Violation]bool{}
	add := func(v Violation) {
		if !seen[v] {
			seen[v] = true
			list = append(list, v)
		}
	}
	used := make([]bool, len(units))
	for i, unit := range units {
		if unit.Error == nil || used[i] {
			continue
		}
		loc := unit.KeywordLocation
		switch unit.Error.Kind.(type) {
		case *kind.AnyOf, *kind.OneOf:
			var branches []string
			byBranch := map[string][]string{}
			for j := range units {
				rest, ok := strings.CutPrefix(units[j].KeywordLocation, loc+"/")
				if !ok || units[j].Error == nil {
					continue
				}
				used[j] = true
				branch, _, _ := strings.Cut(rest, "/")
				if _, known := byBranch[branch]; !known {
					branches = append(branches, branch)
				}
				byBranch[branch] = append(byBranch[branch], requirement(units[j].Error, nil))
			}
			if len(branches) == 0 {
				add(Violation{Pointer: unit.InstanceLocation, Message: unit.Error.String()})
				continue
			}
			alternatives := make([]string, len(branches))
			for k, b := range branches {
				alternatives[k] = strings.Join(byBranch[b], " and ")
			}
			add(Violation{Pointer: unit.InstanceLocation,
				Message: "must " + strings.Join(alternatives, ", or ") + got(value, unit.InstanceLocation)})
		case *kind.AdditionalProperties, *kind.Required:
			// The valid keys are listed for the config object itself; a
			// nested object's would need its own subschema.
			keysOf := root
			if unit.InstanceLocation != "" {
				keysOf = nil
			}
			add(Violation{Pointer: unit.InstanceLocation, Message: requirement(unit.Error, keysOf)})
		default:
			add(Violation{Pointer: unit.InstanceLocation,
				Message: "must " + requirement(unit.Error, nil) + got(value, unit.InstanceLocation)})
		}
	}
	return list
}

// requirement returns what a failed keyword requires of the value, worded
// to follow "must" ("be at most 1"). For the keywords about an object's
// keys it returns the whole problem, and root, when not nil, supplies the
// valid keys beside an unknown one.
func requirement(e *jsonschema.OutputError, root *jsonschema.Schema) string {
	switch k := e.Kind.(type) {
	case *kind.Type:
		return "be " + joinOr(mapEach(k.Want, typeName))
	case *kind.Minimum:
		return "be at least " + number(k.Want)
	case *kind.Maximum:
		return "be at most " + number(k.Want)
	case *kind.ExclusiveMinimum:
		return "be greater than " + number(k.Want)
	case *kind.ExclusiveMaximum:
		return "be less than " + number(k.Want)
	case *kind.MultipleOf:
		return "be a multiple of " + number(k.Want)
	case *kind.Enum:
		return "be one of " + joinOr(mapEach(k.Want, formatJSON))
	case *kind.Const:
		return "be " + formatJSON(k.Want)
	case *kind.Pattern:
		return "match the pattern " + k.Want
	case *kind.MinLength:
		return fmt.Sprintf("be at least %d characters long", k.Want)
	case *kind.MaxLength:
		return fmt.Sprintf("be at most %d characters long", k.Want)
	case *kind.MinItems:
		return fmt.Sprintf("have at least %d items", k.Want)
	case *kind.MaxItems:
		return fmt.Sprintf("have at most %d items", k.Want)
	case *kind.Required:
		return "missing " + plural(len(k.Missing), "key", "keys") + " " + joinAnd(mapEach(k.Missing, quote))
	case *kind.AdditionalProperties:
		msg := "unknown " + plural(len(k.Properties), "key", "keys") + " " + joinAnd(mapEach(k.Properties, quote))
		if root != nil && len(root.Properties) > 0 {
			keys := make([]string, 0, len(root.Properties))
			for name := range root.Properties {
				keys = append(keys, name)
			}
			slices.Sort(keys)
			msg += ": the valid keys are " + joinAnd(keys)
		}
		return msg
	}
	return "satisfy " + e.String()
}

// got returns ", got V" with the value at the JSON pointer ptr of value,
// or "" when the pointer does not resolve.
func got(value any, ptr string) string {
	v, ok := lookup(value, ptr)
	if !ok {
		return ""
	}
	return ", got " + formatJSON(v)
}

// lookup resolves a JSON pointer in a decoded JSON value.
func lookup(value any, ptr string) (any, bool) {
	if ptr == "" {
		return value, true
	}
	for _, token := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		token = strings.ReplaceAll(strings.ReplaceAll(token, "~1", "/"), "~0", "~")
		switch node := value.(type) {
		case map[string]any:
			v, ok := node[token]
			if !ok {
				return nil, false
			}
			value = v
		case []any:
			i, err := strconv.Atoi(token)
			if err != nil || i < 0 || i >= len(node) {
				return nil, false
			}
			value = node[i]
		default:
			return nil, false
		}
	}
	return value, true
}

// formatJSON formats a JSON value for a message, shortened when long.
func formatJSON(v any) string {
	if n, ok := v.(json.Number); ok {
		return n.String()
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(data) > maxShownValue {
		return string(data[:maxShownValue]) + "..."
	}
	return string(data)
}

// number formats a schema bound: an integer as is, a fraction as a
// decimal.
func number(r *big.Rat) string {
	if r.IsInt() {
		return r.Num().String()
	}
	f, _ := r.Float64()
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// typeName words a JSON Schema type name.
func typeName(t string) string {
	switch t {
	case "integer":
		return "a whole number"
	case "number":
		return "a number"
	case "string":
		return "a string"
	case "boolean":
		return "true or false"
	case "object":
		return "an object"
	case "array":
		return "an array"
	}
	return t
}

func quote(s string) string { return strconv.Quote(s) }

func mapEach[T any](in []T, f func(T) string) []string {
	out := make([]string, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}

func joinOr(items []string) string { return joinWith(items, "or") }

func joinAnd(items []string) string { return joinWith(items, "and") }

func joinWith(items []string, word string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " " + word + " " + items[len(items)-1]
}

func plural(n int, singular, pluralForm string) string {
	if n == 1 {
		return singular
	}
	return pluralForm
}
