package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	apiv1 "github.com/mockforge/mockforged/proto/api/v1"
)

// Output formats of the -o flag.
const (
	formatTable = "table"
	formatText  = "text"
	formatJSON  = "json"
)

// enumValue is a string flag that accepts only the listed values, so that a
// bad value is rejected while the command line is parsed.
type enumValue struct {
	value   *string
	allowed []string
}

var _ pflag.Value = (*enumValue)(nil)

func newEnumValue(target *string, defaultValue string, allowed ...string) *enumValue {
	*target = defaultValue
	return &enumValue{value: target, allowed: allowed}
}

func (e *enumValue) String() string { return *e.value }

// Type returns the accepted values, which the help text shows as the flag's
// argument.
func (e *enumValue) Type() string { return strings.Join(e.allowed, "|") }

func (e *enumValue) Set(s string) error {
	if !slices.Contains(e.allowed, s) {
		return fmt.Errorf("use one of %s", strings.Join(e.allowed, ", "))
	}
	*e.value = s
	return nil
}

// addOutputFlag adds -o/--output to flags. The first allowed format is the
// default.
func addOutputFlag(flags *pflag.FlagSet, target *string, allowed ...string) {
	flags.VarP(newEnumValue(target, allowed[0], allowed...), "output", "o",
		"output format; json prints only the JSON document on stdout")
}

// writeJSON writes v as indented JSON followed by a newline.
func writeJSON(w io.Writer, v any) error {
	encoder := json.NewEncoder(w)
	encoder.SetIndent("", "  ")
	encoder.SetEscapeHTML(false)
	if err := encoder.Encode(v); err != nil {
		return fmt.Errorf("write JSON output: %w", err)
	}
	return nil
}

// embeddedJSON returns data for embedding in a JSON document: null when
// empty, as is when it is valid JSON, and as a JSON string otherwise, so that
// the document stays valid whatever the daemon sent.
func embeddedJSON(data []byte) json.RawMessage {
	if len(bytes.TrimSpace(data)) == 0 {
		return json.RawMessage("null")
	}
	if json.Valid(data) {
		return json.RawMessage(data)
	}
	quoted, _ := json.Marshal(string(data)) // json.Marshal returns no error for a string
	return json.RawMessage(quoted)
}

// indentJSON returns data indented by two spaces and prefixed with prefix on
// every line, for text output. Invalid JSON is returned as it is.
func indentJSON(data []byte, prefix string) string {
	var out bytes.Buffer
	if err := json.Indent(&out, bytes.TrimSpace(data), prefix, "  "); err != nil {
		return prefix + string(data)
	}
	return prefix + out.String()
}

// stateName returns the lowercase name of a plugin state, as shown in
// tables and JSON output.
func stateName(state apiv1.PluginState) string {
	switch state {
	case apiv1.PluginState_PLUGIN_STATE_STARTING:
		return "starting"
	case apiv1.PluginState_PLUGIN_STATE_RUNNING:
		return "running"
	case apiv1.PluginState_PLUGIN_STATE_FAILED:
		return "failed"
	case apiv1.PluginState_PLUGIN_STATE_STOPPED:
		return "stopped"
	default:
		return "unknown"
	}
}

// orDash returns s, or "-" when s is empty, for table cells.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
