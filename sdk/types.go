package sdk

import (
	"encoding/json"
	"fmt"
)

// ExecuteRequest is one call to a plugin.
type ExecuteRequest struct {
	// TenantID is the tenant the call is made for.
	TenantID string
	// ScenarioID and ExecutionID are set when the call is a step of a
	// scenario execution.
	ScenarioID  string
	ExecutionID string
	// RequestID identifies the call in logs on both sides.
	RequestID string
	// Parameters is a JSON object; it is "{}" when the caller sent none.
	Parameters json.RawMessage
	// Metadata holds free-form string values from the caller.
	Metadata map[string]string
}

// DecodeParameters unmarshals the request's parameters into v, rejecting
// fields that v does not have.
func (r *ExecuteRequest) DecodeParameters(v any) error {
	return decodeStrict(r.Parameters, v)
}

// ExecuteResult is what a plugin returns from a call.
type ExecuteResult struct {
	// Success tells whether the call did what was asked.
	Success bool
	// Message is a one-line summary for humans.
	Message string
	// Data is a JSON object with the call's output; nil means none.
	Data json.RawMessage
	// Error describes the failure when Success is false.
	Error *ErrorDetail
}

// ErrorDetail describes a failed call.
type ErrorDetail struct {
	// Code is a short machine-readable word, such as "timeout".
	Code string
	// Message is a one-line explanation for humans.
	Message string
	// Retryable tells whether the same call may succeed later.
	Retryable bool
	// Details is a JSON object with more data; nil means none.
	Details json.RawMessage
}

// Error makes ErrorDetail usable as an error. A plugin may return an
// *ErrorDetail from Execute to control the code the caller sees.
func (e *ErrorDetail) Error() string {
	if e.Code == "" {
		return e.Message
	}
	return e.Code + ": " + e.Message
}

// OK returns a successful result whose Data is v marshalled as JSON. It
// panics when v cannot be marshalled to a JSON object, which is a
// programming error.
func OK(message string, v any) *ExecuteResult {
	res := &ExecuteResult{Success: true, Message: message}
	if v != nil {
		data, err := marshalObject(v)
		if err != nil {
			panic(fmt.Sprintf("sdk: OK: %v", err))
		}
		res.Data = data
	}
	return res
}

// Failed returns a failed result with the given code and message.
func Failed(code, message string) *ExecuteResult {
	return &ExecuteResult{
		Success: false,
		Message: message,
		Error:   &ErrorDetail{Code: code, Message: message},
	}
}
