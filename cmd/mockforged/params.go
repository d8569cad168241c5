package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/mockforge/mockforged/sdk"
)

// buildParameters returns the JSON object of an exec call's parameters. It
// starts from the object in paramsFile, if given ("-" reads stdin), and sets
// each key=value assignment of --param on it, in order. A dotted key such as
// a.b=1 sets b inside the object a. It creates a when missing and replaces a
// when it is not an object. So --param values override the file and earlier
// --param values.
func buildParameters(assignments []string, paramsFile string, stdin io.Reader) ([]byte, error) {
	params := map[string]any{}
	if paramsFile != "" {
		data, err := readJSONObjectFile("--params-file", paramsFile, stdin)
		if err != nil {
			return nil, err
		}
		params, err = decodeObject(data)
		if err != nil {
			return nil, fmt.Errorf("decode --params-file %s: %w", describeFile(paramsFile), err)
		}
	}

	for _, assignment := range assignments {
		path, value, err := parseParam(assignment)
		if err != nil {
			return nil, err
		}
		setPath(params, path, value)
	}

	data, err := json.Marshal(params)
	if err != nil {
		return nil, fmt.Errorf("encode parameters: %w", err)
	}
	return data, nil
}

// parseParam splits a --param assignment into its key path and value. The
// value is decoded when it is valid JSON (a number, true, false, null, a
// quoted string, an object or an array) and is a string otherwise.
func parseParam(assignment string) ([]string, any, error) {
	// JSON encoding would replace each invalid byte with U+FFFD, so the
	// plugin would get a different key or value than the one typed.
	if !utf8.ValidString(assignment) {
		return nil, nil, usageErrorf("invalid --param %q: it is not valid UTF-8; pass keys and values as UTF-8 text", assignment)
	}
	key, raw, found := strings.Cut(assignment, "=")
	if !found {
		return nil, nil, usageErrorf("invalid --param %q: expected key=value, for example --param count=3", assignment)
	}
	if key == "" {
		return nil, nil, usageErrorf("invalid --param %q: the key before \"=\" is empty; write key=value, for example --param count=3", assignment)
	}
	path := strings.Split(key, ".")
	for _, part := range path {
		if part == "" {
			return nil, nil, usageErrorf("invalid --param %q: key %q has an empty part between dots; write nested keys as a.b=value, and use --params-file for keys that contain dots", assignment, key)
		}
	}
	return path, parseParamValue(raw), nil
}

func parseParamValue(raw string) any {
	if !json.Valid([]byte(raw)) {
		return raw
	}
	decoder := json.NewDecoder(strings.NewReader(raw))
	decoder.UseNumber() // keeps integers beyond 2^53 exact
	var value any
	if err := decoder.Decode(&value); err != nil {
		return raw
	}
	return value
}

// setPath sets value at the key path in object, creating nested objects and
// replacing any non-object value on the way.
func setPath(object map[string]any, path []string, value any) {
	for _, key := range path[:len(path)-1] {
		child, ok := object[key].(map[string]any)
		if !ok {
			child = map[string]any{}
			object[key] = child
		}
		object = child
	}
	object[path[len(path)-1]] = value
}

func decodeObject(data []byte) (map[string]any, error) {
	decoder := json.NewDecoder(bytes.NewReader(data))
	decoder.UseNumber()
	var object map[string]any
	if err := decoder.Decode(&object); err != nil {
		return nil, err
	}
	return object, nil
}

// readJSONObjectFile reads name, or stdin when name is "-", and checks that
// it contains exactly one JSON object. flag names the flag that gave the
// file, for error messages.
func readJSONObjectFile(flag, name string, stdin io.Reader) ([]byte, error) {
	data, err := readInput(name, stdin)
	if err != nil {
		return nil, fmt.Errorf("read %s %s: %w", flag, describeFile(name), err)
	}
	if len(data) > sdk.MaxMessageBytes {
		return nil, fmt.Errorf("%s %s is larger than %d MiB, the daemon's message size limit", flag, describeFile(name), sdk.MaxMessageBytes>>20)
	}
	if err := checkJSONObject(data); err != nil {
		return nil, fmt.Errorf("%s %s %w", flag, describeFile(name), err)
	}
	return data, nil
}

func readInput(name string, stdin io.Reader) ([]byte, error) {
	// One byte over the limit shows that the input is too large without
	// reading all of it.
	if name == "-" {
		return io.ReadAll(io.LimitReader(stdin, sdk.MaxMessageBytes+1))
	}
	file, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	return io.ReadAll(io.LimitReader(file, sdk.MaxMessageBytes+1))
}

// checkJSONObject returns an error that completes the sentence "FILE ..."
// unless data is a single JSON object.
func checkJSONObject(data []byte) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return errors.New(`is empty; it must contain a JSON object, at least {}`)
	}
	if !utf8.Valid(data) {
		line, column := position(data, invalidUTF8Offset(data))
		return fmt.Errorf("contains invalid UTF-8 at line %d, column %d; save the file as UTF-8", line, column)
	}
	decoder := json.NewDecoder(bytes.NewReader(data))
	var value any
	if err := decoder.Decode(&value); err != nil {
		return fmt.Errorf("contains invalid JSON: %s", describeJSONError(data, err))
	}
	if _, ok := value.(map[string]any); !ok {
		return fmt.Errorf(`must contain a JSON object ({...}), not %s`, jsonKind(value))
	}
	end := int(decoder.InputOffset())
	var extra any
	if err := decoder.Decode(&extra); !errors.Is(err, io.EOF) {
		trailing := end + len(data[end:]) - len(bytes.TrimLeft(data[end:], " \t\r\n"))
		line, column := position(data, trailing)
		return fmt.Errorf("contains data after the JSON object at line %d, column %d; put everything in one object", line, column)
	}
	return nil
}

// invalidUTF8Offset returns the offset of the first byte of data that does
// not start a valid UTF-8 sequence, or len(data) when there is none.
func invalidUTF8Offset(data []byte) int {
	for offset := 0; offset < len(data); {
		r, size := utf8.DecodeRune(data[offset:])
		if r == utf8.RuneError && size <= 1 {
			return offset
		}
		offset += size
	}
	return len(data)
}

// describeJSONError adds the line and column to a JSON syntax error.
func describeJSONError(data []byte, err error) string {
	var syntaxErr *json.SyntaxError
	if errors.As(err, &syntaxErr) {
		line, column := position(data, max(int(syntaxErr.Offset)-1, 0)) // Offset counts the bad byte
		return fmt.Sprintf("%s at line %d, column %d", syntaxErr, line, column)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "the JSON ends early; check for a missing closing brace or quote"
	}
	return err.Error()
}

func position(data []byte, offset int) (line, column int) {
	offset = min(offset, len(data))
	before := data[:offset]
	line = bytes.Count(before, []byte("\n")) + 1
	column = offset - bytes.LastIndexByte(before, '\n')
	return line, column
}

func jsonKind(value any) string {
	switch value.(type) {
	case []any:
		return "an array"
	case string:
		return "a string"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	default:
		return fmt.Sprintf("%T", value)
	}
}

func describeFile(name string) string {
	if name == "-" {
		return "(stdin)"
	}
	return fmt.Sprintf("%q", name)
}
