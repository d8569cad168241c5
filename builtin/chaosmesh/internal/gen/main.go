// Command gen writes the JSON Schemas of the chaos-mesh plugin's create
// parameters, one per experiment kind, into the folder named by -out. The
// schema of each kind's spec is converted from the OpenAPI v3 schema of
// Chaos Mesh's CRD for that kind (config/crd/bases in the Chaos Mesh
// module that chaosmeshtest installs), so that the plugin checks a spec as
// the API server will before sending it.
//
// Run it with go generate in builtin/chaosmesh; its output is committed.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"sigs.k8s.io/yaml"

	"github.com/mockforge/mockforged/builtin/chaosmesh/chaosmeshtest"
)

// kind is one experiment kind: its CRD file and, for the kinds a Schedule
// can wrap, the field of a Schedule's spec that holds it.
type kind struct {
	name, resource, embedKey string
}

// kinds must match the plugin's list of managed kinds.
var kinds = []kind{
	{"PodChaos", "podchaos", "podChaos"},
	{"NetworkChaos", "networkchaos", "networkChaos"},
	{"StressChaos", "stresschaos", "stressChaos"},
	{"IOChaos", "iochaos", "ioChaos"},
	{"TimeChaos", "timechaos", "timeChaos"},
	{"DNSChaos", "dnschaos", "dnsChaos"},
	{"HTTPChaos", "httpchaos", "httpChaos"},
	{"JVMChaos", "jvmchaos", "jvmChaos"},
	{"KernelChaos", "kernelchaos", "kernelChaos"},
	{"Schedule", "schedules", ""},
}

// scheduleFields are the fields of a Schedule's spec besides the wrapped
// experiments. The plugin accepts Schedules of the kinds above only, so
// the fields of workflows and cloud experiments are left out.
var scheduleFields = []string{"schedule", "type", "historyLimit", "concurrencyPolicy", "startingDeadlineSeconds"}

func main() {
	out := flag.String("out", "schemas", "folder to write the schemas into")
	crdDir := flag.String("crd-dir", "", "folder of Chaos Mesh's CRD files (default: config/crd/bases of the Chaos Mesh module in the module cache)")
	flag.Parse()
	if err := run(*out, *crdDir); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(out, crdDir string) error {
	if crdDir == "" {
		dir, err := chaosmeshtest.CRDDir()
		if err != nil {
			return err
		}
		crdDir = dir
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for _, k := range kinds {
		spec, err := readSpecSchema(filepath.Join(crdDir, "chaos-mesh.org_"+k.resource+".yaml"))
		if err != nil {
			return fmt.Errorf("%s: %w", k.name, err)
		}
		if k.name == "Schedule" {
			if spec, err = scheduleSpec(spec); err != nil {
				return fmt.Errorf("%s: %w", k.name, err)
			}
		}
		converted, err := convert(spec, "spec")
		if err != nil {
			return fmt.Errorf("%s: %w", k.name, err)
		}
		if err := writeSchema(filepath.Join(out, k.resource+".json"), paramsSchema(k, converted)); err != nil {
			return err
		}
	}
	return nil
}

// readSpecSchema returns the OpenAPI v3 schema of the spec of the CRD's
// v1alpha1 version.
func readSpecSchema(path string) (map[string]any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var crd struct {
		Spec struct {
			Versions []struct {
				Name   string `json:"name"`
				Schema struct {
					OpenAPIV3Schema map[string]any `json:"openAPIV3Schema"`
				} `json:"schema"`
			} `json:"versions"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(data, &crd); err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}
	for _, v := range crd.Spec.Versions {
		if v.Name != "v1alpha1" {
			continue
		}
		props, _ := v.Schema.OpenAPIV3Schema["properties"].(map[string]any)
		spec, ok := props["spec"].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: version v1alpha1 has no spec schema", path)
		}
		return spec, nil
	}
	return nil, fmt.Errorf("%s: no version v1alpha1", path)
}

// scheduleSpec keeps the Schedule fields the plugin accepts and limits
// type to the kinds it can wrap.
func scheduleSpec(spec map[string]any) (map[string]any, error) {
	props, _ := spec["properties"].(map[string]any)
	kept := map[string]any{}
	var types []any
	for _, name := range scheduleFields {
		p, ok := props[name]
		if !ok {
			return nil, fmt.Errorf("the Schedule CRD has no spec.%s", name)
		}
		kept[name] = p
	}
	for _, k := range kinds {
		if k.embedKey == "" {
			continue
		}
		p, ok := props[k.embedKey]
		if !ok {
			return nil, fmt.Errorf("the Schedule CRD has no spec.%s", k.embedKey)
		}
		kept[k.embedKey] = p
		types = append(types, k.name)
	}
	typ, _ := kept["type"].(map[string]any)
	typ["enum"] = types
	out := map[string]any{}
	for key, v := range spec {
		out[key] = v
	}
	out["properties"] = kept
	return out, nil
}

// namePattern and namespacePattern are Kubernetes' DNS-1123 subdomain and
// label, which object names and namespaces must match.
const (
	namePattern      = `^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	namespacePattern = `^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
)

// paramsSchema wraps a kind's spec schema into the schema of a create
// call's parameters.
func paramsSchema(k kind, spec map[string]any) map[string]any {
	return map[string]any{
		"$schema": "https://json-schema.org/draft/2020-12/schema",
		"title":   "chaos-mesh create parameters for " + k.name,
		"description": fmt.Sprintf("Generated by builtin/chaosmesh/internal/gen from the CRD chaos-mesh.org_%s.yaml of %s@%s. Do not edit.",
			k.resource, chaosmeshtest.ChaosMeshModule, chaosmeshtest.ChaosMeshVersion),
		"type":                 "object",
		"additionalProperties": false,
		"required":             []any{"operation", "kind", "spec"},
		"properties": map[string]any{
			"operation": map[string]any{"const": "create"},
			"kind":      map[string]any{"type": "string"},
			"name":      map[string]any{"type": "string", "minLength": 1, "maxLength": 253, "pattern": namePattern},
			"namespace": map[string]any{"type": "string", "minLength": 1, "maxLength": 63, "pattern": namespacePattern},
			"duration":  map[string]any{"type": "string", "minLength": 1},
			"dry_run":   map[string]any{"type": "boolean"},
			"spec":      map[string]any{"$ref": "#/$defs/spec"},
		},
		"$defs": map[string]any{"spec": spec},
	}
}

func writeSchema(path string, schema map[string]any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(schema); err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}
