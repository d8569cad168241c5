package anomaly

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/mockforge/mockforged/builtin/anomaly/detect"
	"github.com/mockforge/mockforged/sdk"
)

// Error codes of failed results.
const (
	codeInvalid      = "invalid_parameters"
	codeNotFound     = "not_found"
	codeTooFew       = "too_few_samples"
	codeStorage      = "storage_error"
	codeLimit        = "limit_exceeded"
	codeSessionGone  = "session_not_found"
	codeOutOfOrder   = "out_of_order"
	codeInvalidPoint = "invalid_point"
	codeInternal     = "internal_error"
)

// opError is a failure with the error code that the result carries.
type opError struct {
	code      string
	msg       string
	retryable bool
	// details is the result's JSON error details; nil means none.
	details json.RawMessage
}

// PointErrorDetails are the error details of a call that failed on one
// point, so that a caller can name the point's source, such as a CSV line.
type PointErrorDetails struct {
	// Point is the 0-based index of the point in the call's points.
	Point int `json:"point"`
	// Reason describes what is wrong with the point, without the fix.
	Reason string `json:"reason"`
}

// pointError returns a failure of point i: its message is "point i:
// reason: fix" and its details carry the index and the reason.
func pointError(code string, i int, reason, fix string) *opError {
	msg := fmt.Sprintf("point %d: %s", i, reason)
	if fix != "" {
		msg += ": " + fix
	}
	return &opError{code: code, msg: msg, details: encodePointDetails(i, reason)}
}

// encodePointDetails encodes the error details of a failure of point i.
// json.Marshal cannot fail on PointErrorDetails, an int and a string.
func encodePointDetails(i int, reason string) json.RawMessage {
	details, _ := json.Marshal(PointErrorDetails{Point: i, Reason: reason})
	return details
}

func (e *opError) Error() string { return e.msg }

// maxPointsPerCall bounds the points of one ingest or scan call.
const maxPointsPerCall = 200000

// Execute runs the operation named by the "operation" parameter.
func (p *Plugin) Execute(ctx context.Context, req *sdk.ExecuteRequest) (*sdk.ExecuteResult, error) {
	op, err := parseOperation(req.Parameters)
	if err != nil {
		return failed(err), nil
	}
	run := operations[op]
	c := p.newCall(ctx, req.TenantID)
	c.t.mu.Lock()
	defer c.t.mu.Unlock()
	res, err := run(c, req)
	if err != nil {
		return failed(err), nil
	}
	res.Message += c.storageNote()
	return res, nil
}

// operations maps operation names to their handlers.
var operations = map[string]func(*call, *sdk.ExecuteRequest) (*sdk.ExecuteResult, error){
	OpIngest:           (*call).ingest,
	OpUpdateBaseline:   (*call).updateBaseline,
	OpDetect:           (*call).detect,
	OpDetectWindow:     (*call).detectWindow,
	OpDetectCollective: (*call).detectCollective,
	OpListMetrics:      (*call).listMetrics,
	OpClearMetrics:     (*call).clearMetrics,
	OpScan:             (*call).scan,
}

func (p *Plugin) newCall(ctx context.Context, tenantID string) *call {
	p.mu.RLock()
	cfg, gen := p.cfg, p.cfgGen
	p.mu.RUnlock()
	return &call{ctx: ctx, p: p, t: p.tenant(tenantID), cfg: cfg, gen: gen, store: p.storeFor(ctx, tenantID)}
}

// failed converts an error to a failed result with its code.
func failed(err error) *sdk.ExecuteResult {
	var oe *opError
	switch {
	case errors.As(err, &oe):
		res := sdk.Failed(oe.code, oe.msg)
		res.Error.Retryable = oe.retryable
		res.Error.Details = oe.details
		return res
	case errors.Is(err, detect.ErrTooFewSamples):
		return sdk.Failed(codeTooFew, err.Error())
	}
	return sdk.Failed(codeInternal, err.Error())
}
