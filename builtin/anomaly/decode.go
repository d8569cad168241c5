package anomaly

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/mockforge/mockforged/sdk"
)

// operationNames lists the operations in the order the README describes
// them.
var operationNames = []string{
	OpIngest, OpUpdateBaseline, OpDetect, OpDetectWindow, OpDetectCollective, OpListMetrics, OpClearMetrics, OpScan,
}

// parseOperation returns the operation named by the parameters.
func parseOperation(params json.RawMessage) (string, error) {
	if len(bytes.TrimSpace(params)) == 0 {
		params = json.RawMessage("{}")
	}
	if !json.Valid(params) {
		// Unmarshal only to describe the syntax error: json.Valid does not.
		err := json.Unmarshal(params, new(json.RawMessage))
		return "", &opError{code: codeInvalid, msg: fmt.Sprintf(
			"invalid parameters: %v: send one JSON object, such as {\"operation\": \"list_metrics\"}", err)}
	}
	var head struct {
		Operation json.RawMessage `json:"operation"`
	}
	if err := json.Unmarshal(params, &head); err != nil {
		return "", &opError{code: codeInvalid, msg: fmt.Sprintf(
			"invalid parameters: expected a JSON object such as {\"operation\": \"list_metrics\"}, found %s", describeJSON(params))}
	}
	raw := bytes.TrimSpace(head.Operation)
	if len(raw) == 0 || string(raw) == "null" || string(raw) == `""` {
		return "", &opError{code: codeInvalid, msg: "missing operation: \"operation\" is required and must be one of " + joinList(operationNames, "or")}
	}
	var op string
	if err := json.Unmarshal(raw, &op); err != nil {
		return "", &opError{code: codeInvalid, msg: fmt.Sprintf(
			"operation must be a string such as \"ingest\", not %s", describeJSON(raw))}
	}
	if !slices.Contains(operationNames, op) {
		return "", &opError{code: codeInvalid, msg: fmt.Sprintf(
			"unknown operation %q: use one of %s", op, joinList(operationNames, "or"))}
	}
	return op, nil
}

// decode parses the parameters strictly into v. When they do not fit v, it
// returns an error that names the parameter's path, such as
// points[3].value, and what is expected there. A problem inside one point
// is an invalid_point failure whose details name the point.
func decode(req *sdk.ExecuteRequest, v any) error {
	err := req.DecodeParameters(v)
	if err == nil {
		return nil
	}
	op, _ := parseOperation(req.Parameters) // Execute checked it already
	if explained := explainParams(req.Parameters, reflect.TypeOf(v).Elem(), op); explained != nil {
		return explained
	}
	return &opError{code: codeInvalid, msg: err.Error()}
}

// fieldError is a JSON value that does not fit its parameter.
type fieldError struct {
	// msg names the parameter's path, such as points[3].value, and the
	// problem.
	msg string
	// point is the index of the point that contains the value, or -1
	// outside the points array.
	point int
	// reason is msg with the path inside the point, such as value, for
	// PointErrorDetails.
	reason string
}

// explainParams walks the parameters against the type t that they decode
// into and returns the first value that does not fit, as the decoder meets
// it, or nil when it finds none.
func explainParams(raw json.RawMessage, t reflect.Type, op string) *opError {
	if !json.Valid(raw) {
		return nil
	}
	fe := checkJSON(bytes.TrimSpace(raw), t, "", op)
	if fe == nil {
		return nil
	}
	if fe.point < 0 {
		return &opError{code: codeInvalid, msg: fe.msg}
	}
	return &opError{code: codeInvalidPoint, msg: fe.msg, details: encodePointDetails(fe.point, fe.reason)}
}

var (
	unmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	timestampType   = reflect.TypeFor[Timestamp]()
)

// checkJSON checks the JSON value raw against type t at path. op names
// the operation in messages about unknown parameters.
func checkJSON(raw []byte, t reflect.Type, path, op string) *fieldError {
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		if err := reflect.New(t).Interface().(json.Unmarshaler).UnmarshalJSON(raw); err != nil {
			return newFieldError(path, err.Error()) // such as `-5: invalid timestamp: ...`
		}
		return nil
	}
	if string(raw) == "null" {
		return nil // the decoder leaves the value unset; operations check what they require
	}
	switch t.Kind() {
	case reflect.Pointer:
		return checkJSON(raw, t.Elem(), path, op)
	case reflect.Struct:
		return checkObject(raw, t, path, op)
	case reflect.Slice:
		return checkArray(raw, t, path, op)
	case reflect.Map:
		return checkMap(raw, t, path, op)
	case reflect.String:
		if raw[0] != '"' {
			if hint, ok := stringHints[path]; ok {
				return newFieldError(path, fmt.Sprintf("must be %s, not %s", hint, describeJSON(raw)))
			}
			return typeMismatch(path, raw, t)
		}
	case reflect.Bool:
		if string(raw) != "true" && string(raw) != "false" {
			return typeMismatch(path, raw, t)
		}
	case reflect.Float32, reflect.Float64:
		return checkFloat(raw, t, path)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return checkInt(raw, t, path)
	}
	return nil
}

func checkObject(raw []byte, t reflect.Type, path, op string) *fieldError {
	if raw[0] != '{' {
		return typeMismatch(path, raw, t)
	}
	fields := structFields(t)
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil { // the opening brace
		return nil
	}
	for dec.More() {
		token, err := dec.Token()
		if err != nil {
			return nil
		}
		key, _ := token.(string)
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil
		}
		field, ok := lookupField(fields, key)
		if !ok {
			return unknownField(path, key, fields, op)
		}
		if fe := checkJSON(bytes.TrimSpace(value), field.typ, joinPath(path, field.name), op); fe != nil {
			return fe
		}
	}
	return nil
}

func checkArray(raw []byte, t reflect.Type, path, op string) *fieldError {
	if raw[0] != '[' {
		return typeMismatch(path, raw, t)
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil
	}
	for i, item := range items {
		if fe := checkJSON(bytes.TrimSpace(item), t.Elem(), fmt.Sprintf("%s[%d]", path, i), op); fe != nil {
			return fe
		}
	}
	return nil
}

func checkMap(raw []byte, t reflect.Type, path, op string) *fieldError {
	if raw[0] != '{' {
		return typeMismatch(path, raw, t)
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		return nil
	}
	keys := make([]string, 0, len(members))
	for key := range members {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	for _, key := range keys {
		if fe := checkJSON(bytes.TrimSpace(members[key]), t.Elem(), joinPath(path, key), op); fe != nil {
			return fe
		}
	}
	return nil
}

func checkFloat(raw []byte, t reflect.Type, path string) *fieldError {
	if !isJSONNumber(raw) {
		return typeMismatch(path, raw, t)
	}
	if _, err := strconv.ParseFloat(string(raw), t.Bits()); errors.Is(err, strconv.ErrRange) {
		return newFieldError(path, fmt.Sprintf("%s is out of range for a %d-bit float, whose magnitude is at most about %s",
			raw, t.Bits(), map[int]string{32: "3.4e38", 64: "1.8e308"}[t.Bits()]))
	}
	return nil
}

func checkInt(raw []byte, t reflect.Type, path string) *fieldError {
	if !isJSONNumber(raw) {
		return typeMismatch(path, raw, t)
	}
	_, err := strconv.ParseInt(string(raw), 10, t.Bits())
	switch {
	case errors.Is(err, strconv.ErrRange):
		return newFieldError(path, fmt.Sprintf("%s is out of range for a %d-bit integer", raw, t.Bits()))
	case err != nil:
		return newFieldError(path, fmt.Sprintf("must be a whole number such as 2, not %s", raw))
	}
	return nil
}

func isJSONNumber(raw []byte) bool {
	return raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9')
}

// newFieldError returns the error of the value at path; problem completes a
// sentence that starts with the path.
func newFieldError(path, problem string) *fieldError {
	fe := &fieldError{msg: path + " " + problem, point: -1}
	rest, ok := strings.CutPrefix(path, "points[")
	if !ok {
		return fe
	}
	index, relative, ok := strings.Cut(rest, "]")
	n, err := strconv.Atoi(index)
	if !ok || err != nil {
		return fe
	}
	relative = strings.TrimPrefix(relative, ".")
	if relative == "" {
		relative = "the point"
	}
	fe.point, fe.reason = n, relative+" "+problem
	return fe
}

// stringHints describe the string parameters whose form a bare "a string"
// would not tell.
var stringHints = map[string]string{
	"lookback":     `a duration string such as "15m"`,
	"bucket":       `a duration string such as "1m"`,
	"out_of_order": `"reject" or "drop"`,
}

func typeMismatch(path string, raw []byte, t reflect.Type) *fieldError {
	return newFieldError(path, fmt.Sprintf("must be %s, not %s", expectedType(t), describeJSON(raw)))
}

func unknownField(path, key string, fields []structField, op string) *fieldError {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.name
	}
	switch {
	case path == "" && op == "":
		// The plugin's config, which no operation names.
		return &fieldError{point: -1, msg: fmt.Sprintf(
			"unknown key %q: the valid keys are %s (the plugin's README describes each)", key, joinList(names, "and"))}
	case path == "":
		return &fieldError{point: -1, msg: fmt.Sprintf(
			"unknown parameter %q for operation %s: the valid parameters are %s (the plugin's README describes each)",
			key, op, joinList(names, "and"))}
	}
	return newFieldError(path, fmt.Sprintf("has an unknown field %q: the valid fields are %s", key, joinList(names, "and")))
}

// expectedType describes the JSON that decodes into t.
func expectedType(t reflect.Type) string {
	if t == timestampType {
		return "an RFC 3339 string or a number of Unix seconds"
	}
	switch t.Kind() {
	case reflect.Pointer:
		return expectedType(t.Elem())
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Float32, reflect.Float64:
		return "a number such as 12.5"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number such as 2"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.String {
			return `an array of strings such as ["db.cpu"]`
		}
		return "an array of objects"
	case reflect.Map:
		return `an object of strings such as {"experiment": "db-latency"}`
	case reflect.Struct:
		return "an object"
	}
	return t.String()
}

// describeJSON names the kind of a JSON value and shows it, shortened.
func describeJSON(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "empty"
	}
	shown := string(raw)
	if len(shown) > 40 {
		shown = shown[:37] + "..."
	}
	switch raw[0] {
	case '"':
		return "the string " + shown
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "the boolean " + shown
	case 'n':
		return "null"
	}
	return "the number " + shown
}

// structField is a JSON member of a struct.
type structField struct {
	name string
	typ  reflect.Type
	// depth is the embedding depth: a shallower field hides a deeper one
	// of the same name, as in encoding/json.
	depth int
}

// structFields returns the JSON members of t, with embedded structs'
// members in place, in declaration order.
func structFields(t reflect.Type) []structField {
	var out []structField
	index := map[string]int{}
	var walk func(t reflect.Type, depth int)
	walk = func(t reflect.Type, depth int) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, _, _ := strings.Cut(tag, ",")
			if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
				walk(f.Type, depth+1)
				continue
			}
			if !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			if j, seen := index[name]; seen {
				if depth < out[j].depth {
					out[j].typ, out[j].depth = f.Type, depth
				}
				continue
			}
			index[name] = len(out)
			out = append(out, structField{name: name, typ: f.Type, depth: depth})
		}
	}
	walk(t, 0)
	return out
}

// lookupField finds the member that key decodes into: the exact name, or
// else a case-insensitive match, as encoding/json does.
func lookupField(fields []structField, key string) (structField, bool) {
	for _, f := range fields {
		if f.name == key {
			return f, true
		}
	}
	for _, f := range fields {
		if strings.EqualFold(f.name, key) {
			return f, true
		}
	}
	return structField{}, false
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// joinList joins items as "a, b and c" with the conjunction given.
func joinList(items []string, conjunction string) string {
	if len(items) <= 1 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " " + conjunction + " " + items[len(items)-1]
}
