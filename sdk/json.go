package sdk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// decodeStrict unmarshals a JSON object into v and rejects unknown fields
// and trailing data, so that a misspelled parameter is an error.
func decodeStrict(data json.RawMessage, v any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		data = json.RawMessage("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("invalid parameters: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("invalid parameters: unexpected data after the JSON object")
	}
	return nil
}

// marshalObject marshals v and checks that the result is a JSON object.
func marshalObject(v any) (json.RawMessage, error) {
	if raw, ok := v.(json.RawMessage); ok {
		return checkObject(raw)
	}
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("marshal data: %w", err)
	}
	return checkObject(data)
}

func checkObject(data json.RawMessage) (json.RawMessage, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, errors.New("data must be a JSON object")
	}
	return data, nil
}
