package dbfault

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
)

// params are the parameters of every operation. Which of them an operation
// or a fault type accepts is checked by checkAllowed, so that a parameter
// that does not apply is an error rather than silently ignored.
type params struct {
	Operation string `json:"operation"`

	// add_fault; Proxy also filters list_faults and reset.
	Proxy          text     `json:"proxy"`
	Type           string   `json:"type"`
	Duration       text     `json:"duration"`
	Probability    *float64 `json:"probability"`
	Direction      string   `json:"direction"`
	Latency        text     `json:"latency"`
	Jitter         text     `json:"jitter"`
	Match          *text    `json:"match"`
	SQLState       text     `json:"sqlstate"`
	Code           *int64   `json:"code"`
	Message        text     `json:"message"`
	Delay          text     `json:"delay"`
	Connections    string   `json:"connections"`
	AfterBytes     *int64   `json:"after_bytes"`
	BytesPerSecond *int64   `json:"bytes_per_second"`
	AverageSize    *int64   `json:"average_size"`
	SizeVariation  *int64   `json:"size_variation"`

	// remove_fault
	ID string `json:"id"`
}

// text is a string parameter that also accepts a JSON number, kept as
// written. Command-line tools that decode "--param sqlstate=40001" as JSON
// send a number, which is still a valid SQLSTATE, proxy name or pattern.
type text string

// UnmarshalJSON accepts a JSON string or number.
func (t *text) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = text(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("expected a string, got %s", b)
	}
	*t = text(b)
	return nil
}

// Operation names, the value of the "operation" parameter.
const (
	// OpListProxies lists the configured proxies.
	OpListProxies = "list_proxies"
	// OpAddFault adds a fault to a proxy.
	OpAddFault = "add_fault"
	// OpListFaults lists the caller's active faults, optionally of one proxy.
	OpListFaults = "list_faults"
	// OpRemoveFault removes one fault by id.
	OpRemoveFault = "remove_fault"
	// OpReset removes the caller's faults, optionally of one proxy only.
	OpReset = "reset"
)

// operationParams lists the parameters each operation accepts besides
// "operation". add_fault's list depends on the fault type.
var operationParams = map[string][]string{
	OpListProxies: {},
	OpListFaults:  {"proxy"},
	OpRemoveFault: {"id"},
	OpReset:       {"proxy"},
}

// commonFaultParams are accepted by every fault type.
var commonFaultParams = []string{"proxy", "type", "duration", "probability"}

// faultParams lists the parameters each fault type accepts besides
// commonFaultParams.
var faultParams = map[FaultType][]string{
	FaultSlowQuery:         {"latency", "jitter", "match"},
	FaultQueryError:        {"match", "sqlstate", "code", "message"},
	FaultConnectionTimeout: {"delay"},
	FaultConnectionReset:   {"connections", "after_bytes", "direction"},
	FaultBandwidth:         {"bytes_per_second", "direction"},
	FaultSlicer:            {"average_size", "size_variation", "delay", "direction"},
}

// operations returns the operation names in a stable order.
func operations() []string {
	ops := []string{OpAddFault}
	for op := range operationParams {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	return ops
}

// presentKeys returns the top-level keys of a JSON object.
func presentKeys(raw json.RawMessage) ([]string, error) {
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 {
		return nil, nil
	}
	if trimmed[0] != '{' {
		return nil, fmt.Errorf("invalid parameters: expected a JSON object, got %.40s", trimmed)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &fields); err != nil {
		return nil, fmt.Errorf("invalid parameters: %w", err)
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys, nil
}

// checkAllowed rejects the first key that is neither "operation" nor in
// allowed; target names the operation or fault type in the error.
func checkAllowed(keys []string, allowed []string, target string) error {
	for _, k := range keys {
		if k == "operation" || slices.Contains(allowed, k) {
			continue
		}
		if len(allowed) == 0 {
			return fmt.Errorf("parameter %q does not apply to %s, which takes no parameters", k, target)
		}
		return fmt.Errorf("parameter %q does not apply to %s; it takes %s", k, target, strings.Join(allowed, ", "))
	}
	return nil
}

// parseFaultSpec validates add_fault's parameters against the proxy's
// protocol. It returns an error that names the bad value and the fix.
func parseFaultSpec(p params, keys []string, protocol Protocol) (faultSpec, error) {
	t := FaultType(p.Type)
	extra, ok := faultParams[t]
	if !ok {
		return faultSpec{}, fmt.Errorf("invalid fault type %q: use one of %s", p.Type, joinTypes())
	}
	if err := checkAllowed(keys, append(slices.Clone(commonFaultParams), extra...), "fault type "+p.Type); err != nil {
		return faultSpec{}, err
	}
	if t.isQueryFault() && protocol == ProtocolTCP {
		return faultSpec{}, fmt.Errorf("fault type %s needs a postgres or mysql proxy, but proxy %q uses protocol tcp", t, p.Proxy)
	}

	spec := faultSpec{Type: t, Proxy: string(p.Proxy), Probability: 1}
	var err error
	if spec.Duration, err = parsePositiveDuration("duration", string(p.Duration), true); err != nil {
		return faultSpec{}, err
	}
	if spec.Probability, err = parseProbability(p.Probability); err != nil {
		return faultSpec{}, err
	}

	if err := parseTypeParams(p, protocol, &spec); err != nil {
		return faultSpec{}, err
	}
	return spec, nil
}

// parseProbability returns 1 when the probability is absent.
func parseProbability(p *float64) (float64, error) {
	if p == nil {
		return 1, nil
	}
	if math.IsNaN(*p) || *p < 0 || *p > 1 {
		return 0, fmt.Errorf("invalid probability %v: use a number from 0 to 1", *p)
	}
	return *p, nil
}

// parseTypeParams fills the fields of spec that belong to its type.
func parseTypeParams(p params, protocol Protocol, spec *faultSpec) error {
	var err error
	switch spec.Type {
	case FaultSlowQuery:
		err = parseSlowQuery(p, spec)
	case FaultQueryError:
		err = parseQueryError(p, protocol, spec)
	case FaultConnectionTimeout:
		spec.Delay, err = parseNonNegativeDuration("delay", string(p.Delay))
	case FaultConnectionReset:
		err = parseConnectionReset(p, spec)
	case FaultBandwidth:
		err = parseBandwidth(p, spec)
	case FaultSlicer:
		err = parseSlicer(p, spec)
	}
	return err
}

func joinTypes() string {
	names := make([]string, len(faultTypes))
	for i, t := range faultTypes {
		names[i] = string(t)
	}
	return strings.Join(names, ", ")
}

func parseSlowQuery(p params, spec *faultSpec) error {
	var err error
	if spec.Latency, err = parsePositiveDuration("latency", string(p.Latency), true); err != nil {
		return err
	}
	if spec.Jitter, err = parseNonNegativeDuration("jitter", string(p.Jitter)); err != nil {
		return err
	}
	if spec.Jitter > spec.Latency {
		return fmt.Errorf("invalid jitter %s: it exceeds the latency %s; use a jitter of at most the latency", spec.Jitter, spec.Latency)
	}
	spec.Match, err = parseMatch(p.Match)
	return err
}

func parseQueryError(p params, protocol Protocol, spec *faultSpec) error {
	var err error
	if spec.Match, err = parseMatch(p.Match); err != nil {
		return err
	}
	spec.Message = string(p.Message)
	sqlState := string(p.SQLState)
	switch protocol {
	case ProtocolPostgres:
		if p.Code != nil {
			return fmt.Errorf("parameter code applies to mysql proxies only; proxy %q uses protocol postgres, so set sqlstate instead", p.Proxy)
		}
		if sqlState == "" {
			return fmt.Errorf("missing sqlstate: a query_error on a postgres proxy needs a five-character SQLSTATE such as 57014 or 40001")
		}
	case ProtocolMySQL:
		if p.Code == nil {
			return fmt.Errorf("missing code: a query_error on a mysql proxy needs a MySQL error code such as 1205 or 1213")
		}
		if *p.Code < 1 || *p.Code > math.MaxUint16 {
			return fmt.Errorf("invalid code %d: use a MySQL error code from 1 to 65535", *p.Code)
		}
		spec.Code = uint16(*p.Code)
		if sqlState == "" {
			sqlState = "HY000"
		}
	}
	if !validSQLState(sqlState) {
		return fmt.Errorf("invalid sqlstate %q: use five digits or uppercase letters, such as 57014", sqlState)
	}
	spec.SQLState = sqlState
	if spec.Message == "" {
		spec.Message = "error injected by mockforged db-fault-injector"
	}
	return nil
}

func validSQLState(s string) bool {
	if len(s) != 5 {
		return false
	}
	for _, c := range []byte(s) {
		if (c < '0' || c > '9') && (c < 'A' || c > 'Z') {
			return false
		}
	}
	return true
}

func parseConnectionReset(p params, spec *faultSpec) error {
	spec.Connections = p.Connections
	switch spec.Connections {
	case "":
		spec.Connections = resetAll
	case resetNew, resetExisting, resetAll:
	default:
		return fmt.Errorf("invalid connections %q: use new, existing or all", p.Connections)
	}
	if p.AfterBytes != nil {
		if *p.AfterBytes < 0 {
			return fmt.Errorf("invalid after_bytes %d: use 0 to reset at once or a positive byte count", *p.AfterBytes)
		}
		spec.AfterBytes = *p.AfterBytes
	}
	var err error
	spec.Direction, err = parseDirection(p.Direction, DirectionBoth)
	return err
}

func parseBandwidth(p params, spec *faultSpec) error {
	if p.BytesPerSecond == nil {
		return fmt.Errorf("missing bytes_per_second: set the rate limit in bytes per second, such as 65536")
	}
	if *p.BytesPerSecond <= 0 {
		return fmt.Errorf("invalid bytes_per_second %d: use a positive number of bytes per second", *p.BytesPerSecond)
	}
	spec.BytesPerSecond = *p.BytesPerSecond
	var err error
	spec.Direction, err = parseDirection(p.Direction, DirectionDownstream)
	return err
}

// maxSliceSize bounds average_size + size_variation so that a slice fits
// comfortably in memory already held by the connection's buffers.
const maxSliceSize = 1 << 20

func parseSlicer(p params, spec *faultSpec) error {
	if p.AverageSize == nil {
		return fmt.Errorf("missing average_size: set the mean slice size in bytes, such as 64")
	}
	if *p.AverageSize <= 0 || *p.AverageSize > maxSliceSize {
		return fmt.Errorf("invalid average_size %d: use a size from 1 to %d bytes", *p.AverageSize, maxSliceSize)
	}
	spec.AverageSize = int(*p.AverageSize)
	if p.SizeVariation != nil {
		v := *p.SizeVariation
		if v < 0 || v >= *p.AverageSize {
			return fmt.Errorf("invalid size_variation %d: use a value from 0 to average_size-1 (%d)", v, *p.AverageSize-1)
		}
		spec.SizeVariation = int(v)
	}
	var err error
	if spec.Delay, err = parseNonNegativeDuration("delay", string(p.Delay)); err != nil {
		return err
	}
	spec.Direction, err = parseDirection(p.Direction, DirectionDownstream)
	return err
}

func parseDirection(s string, fallback Direction) (Direction, error) {
	switch d := Direction(s); d {
	case "":
		return fallback, nil
	case DirectionUpstream, DirectionDownstream, DirectionBoth:
		return d, nil
	}
	return "", fmt.Errorf("invalid direction %q: use upstream (client to server), downstream (server to client) or both", s)
}

// maxMatchLength bounds a match pattern; RE2 patterns compile in linear
// time, so this only keeps fault listings readable.
const maxMatchLength = 4096

func parseMatch(s *text) (*regexp.Regexp, error) {
	if s == nil {
		return nil, nil
	}
	if *s == "" {
		return nil, fmt.Errorf("invalid match: the pattern is empty; omit match to apply the fault to every query")
	}
	if len(*s) > maxMatchLength {
		return nil, fmt.Errorf("invalid match: the pattern has %d bytes; use at most %d", len(*s), maxMatchLength)
	}
	re, err := regexp.Compile(string(*s))
	if err != nil {
		return nil, fmt.Errorf("invalid match %q: %w (Go RE2 syntax)", *s, err)
	}
	return re, nil
}

func parsePositiveDuration(name, s string, required bool) (time.Duration, error) {
	if s == "" {
		if required {
			return 0, fmt.Errorf("missing %s: set a Go duration such as \"200ms\" or \"2m\"", name)
		}
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid %s %q: use a Go duration such as \"200ms\" or \"2m\"", name, s)
	}
	if d <= 0 {
		return 0, fmt.Errorf("invalid %s %q: use a positive duration", name, s)
	}
	return d, nil
}

func parseNonNegativeDuration(name, s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid %s %q: use a Go duration such as \"20ms\"", name, s)
	}
	if d < 0 {
		return 0, fmt.Errorf("invalid %s %q: use a duration of zero or more", name, s)
	}
	return d, nil
}
