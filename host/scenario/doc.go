// Package scenario defines the scenario file: a named plan of plugin calls
// with probes and guards, written in YAML or JSON and checked against
// Schema. Parse returns a Scenario or an error that names the path and the
// line of every bad field.
package scenario
