package chaosmesh

import (
	"fmt"
	"reflect"
	"strings"
)

// jsonPath turns a path of Go field names, as Chaos Mesh's webhook
// validation reports it ("Spec.TcParameter.Delay.Latency"), into the JSON
// path of the manifest ("spec.delay.latency"). Inline fields disappear.
// A segment it cannot map is kept as it is.
func jsonPath(obj any, goPath string) string {
	t := reflect.TypeOf(obj)
	var out []string
	for _, seg := range strings.Split(goPath, ".") {
		name, index, _ := strings.Cut(seg, "[")
		for t != nil && (t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map) {
			t = t.Elem()
		}
		if t == nil || t.Kind() != reflect.Struct {
			out = append(out, seg)
			t = nil
			continue
		}
		f, ok := t.FieldByName(name)
		if !ok {
			out = append(out, seg)
			t = nil
			continue
		}
		t = f.Type
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if tag == "" && (f.Anonymous || strings.Contains(f.Tag.Get("json"), "inline")) {
			continue
		}
		if tag == "" {
			tag = name
		}
		if index != "" {
			tag += "[" + index
		}
		out = append(out, tag)
	}
	return strings.Join(out, ".")
}

// pruneEmpty removes empty strings and nulls from maps, recursively.
func pruneEmpty(m map[string]any) {
	for k, v := range m {
		switch x := v.(type) {
		case nil:
			delete(m, k)
		case string:
			if x == "" {
				delete(m, k)
			}
		case map[string]any:
			pruneEmpty(x)
		case []any:
			for _, item := range x {
				if im, ok := item.(map[string]any); ok {
					pruneEmpty(im)
				}
			}
		}
	}
}

// checkRequired checks fields that Chaos Mesh needs but that not every
// release of its CRDs marks as required.
func checkRequired(k kindInfo, spec map[string]any) error {
	target, path := spec, "spec"
	if k.kind == "Schedule" {
		inner, _ := findKind(fmt.Sprint(spec["type"]))
		target, _ = spec[inner.embedKey].(map[string]any)
		path += "." + inner.embedKey
		k = inner
	}
	if k.kind == "IOChaos" {
		if v, _ := target["volumePath"].(string); v == "" {
			return fmt.Errorf("missing %s.volumePath: set it to the mount point of the volume in the target container, such as /data", path)
		}
	}
	return nil
}

// newFields are spec fields that Chaos Mesh's defaulting sets but that CRDs
// published before the field existed reject under strict validation.
// NOTE: NetworkChaos's partitionBehavior (default "drop") is newer than the
// CRDs of the Chaos Mesh module version the tests install; the cluster's
// own CRD default applies when the field is left out.
var newFields = []string{"partitionBehavior"}

// dropUnrequestedNewFields removes newFields from the object's spec unless
// the caller set them.
func dropUnrequestedNewFields(content, requested map[string]any) {
	spec, _ := content["spec"].(map[string]any)
	for _, f := range newFields {
		if _, ok := requested[f]; !ok && spec != nil {
			delete(spec, f)
		}
	}
}
