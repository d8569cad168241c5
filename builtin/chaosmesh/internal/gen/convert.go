package main

import (
	"fmt"
	"math"
	"slices"
	"sort"
)

// copiedKeywords mean the same in OpenAPI v3 structural schemas and in
// JSON Schema draft 2020-12, and are copied as they are.
var copiedKeywords = []string{
	"type", "enum", "required", "pattern",
	"minimum", "maximum", "minLength", "maxLength",
	"minItems", "maxItems", "uniqueItems", "minProperties", "maxProperties",
}

// droppedKeywords are documentation, server-side behaviour or checks that
// the plugin leaves to the API server.
var droppedKeywords = []string{
	"description", "default", "example",
	"x-kubernetes-list-type", "x-kubernetes-list-map-keys", "x-kubernetes-map-type",
	// NOTE: CEL rules are checked by the API server only.
	"x-kubernetes-validations",
}

// convert turns one OpenAPI v3 schema node of a CRD into JSON Schema
// draft 2020-12. Every object with listed properties gets
// additionalProperties false unless the CRD keeps unknown fields there. A
// keyword it does not know fails the conversion, so that a new Chaos Mesh
// release cannot loosen the checks unnoticed. path names the node in
// errors.
func convert(node map[string]any, path string) (map[string]any, error) {
	out := map[string]any{}
	for _, key := range sortedKeys(node) {
		value := node[key]
		switch {
		case slices.Contains(copiedKeywords, key):
			out[key] = value
		case slices.Contains(droppedKeywords, key):
		case key == "properties":
			props, err := convertProperties(value, path)
			if err != nil {
				return nil, err
			}
			out[key] = props
		case key == "items" || key == "additionalProperties":
			sub, err := convertSub(value, path+"."+key)
			if err != nil {
				return nil, err
			}
			out[key] = sub
		case key == "format":
			convertFormat(out, value)
		case key == "exclusiveMinimum" || key == "exclusiveMaximum":
			if err := convertExclusive(out, node, key, path); err != nil {
				return nil, err
			}
		case key == "nullable", key == "x-kubernetes-int-or-string", key == "anyOf",
			key == "x-kubernetes-preserve-unknown-fields":
			// Handled below, because they change type or additionalProperties.
		default:
			return nil, fmt.Errorf("%s: unsupported keyword %q", path, key)
		}
	}
	for exclusive, bound := range map[string]string{"exclusiveMinimum": "minimum", "exclusiveMaximum": "maximum"} {
		if _, ok := out[exclusive]; ok {
			delete(out, bound)
		}
	}
	if node["x-kubernetes-int-or-string"] == true {
		out["type"] = []any{"integer", "string"}
	} else if _, ok := node["anyOf"]; ok {
		return nil, fmt.Errorf("%s: anyOf without x-kubernetes-int-or-string is not supported", path)
	}
	if node["nullable"] == true {
		if t, ok := out["type"].(string); ok {
			out["type"] = []any{t, "null"}
		}
	}
	_, hasProps := out["properties"]
	_, hasAdditional := out["additionalProperties"]
	if hasProps && !hasAdditional && node["x-kubernetes-preserve-unknown-fields"] != true {
		out["additionalProperties"] = false
	}
	return out, nil
}

func convertProperties(value any, path string) (map[string]any, error) {
	props, ok := value.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s.properties: expected an object", path)
	}
	out := make(map[string]any, len(props))
	for name, p := range props {
		node, ok := p.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s.%s: expected a schema object", path, name)
		}
		converted, err := convert(node, path+"."+name)
		if err != nil {
			return nil, err
		}
		out[name] = converted
	}
	return out, nil
}

// convertSub converts the schema of items or additionalProperties, which
// may also be a boolean.
func convertSub(value any, path string) (any, error) {
	switch v := value.(type) {
	case bool:
		return v, nil
	case map[string]any:
		return convert(v, path)
	}
	return nil, fmt.Errorf("%s: expected a schema object or a boolean", path)
}

// convertFormat keeps what a format means for the values: int32 becomes
// the bounds of a 32-bit integer. Other formats (int64, byte, date-time)
// are annotations in draft 2020-12 and are dropped.
func convertFormat(out map[string]any, format any) {
	if format != "int32" {
		return
	}
	if _, ok := out["minimum"]; !ok {
		out["minimum"] = math.MinInt32
	}
	if _, ok := out["maximum"]; !ok {
		out["maximum"] = math.MaxInt32
	}
}

// convertExclusive turns OpenAPI v3.0's boolean exclusiveMinimum or
// exclusiveMaximum, which modifies minimum or maximum, into draft
// 2020-12's keyword that holds the bound itself.
func convertExclusive(out, node map[string]any, key, path string) error {
	bound := map[string]string{"exclusiveMinimum": "minimum", "exclusiveMaximum": "maximum"}[key]
	exclusive, ok := node[key].(bool)
	if !ok {
		return fmt.Errorf("%s: %s is not a boolean", path, key)
	}
	value, ok := node[bound]
	if !ok {
		return fmt.Errorf("%s: %s without %s", path, key, bound)
	}
	if exclusive {
		out[key] = value
	}
	return nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
