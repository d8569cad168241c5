package prommetrics

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/mockforge/mockforged/sdk"
)

// Operations selected by the "operation" parameter.
const (
	OpRecord = "record"
	OpList   = "list"
	OpDelete = "delete"
)

// Error codes of failed calls, in ErrorDetail.Code.
const (
	// codeInvalidArgument marks a parameter that is missing, malformed or
	// breaks the Prometheus naming rules.
	codeInvalidArgument = "invalid_argument"
	// codeConflict marks a record that does not match the metric's
	// existing type, labels, buckets or help, or whose name collides with
	// another metric's samples.
	codeConflict = "conflict"
	// codeLimitExceeded marks a new series beyond max_series_per_tenant.
	codeLimitExceeded = "limit_exceeded"
	// codeNotFound marks a metric or series that the tenant does not have.
	codeNotFound = "not_found"
)

// Params are the parameters of every operation. Each operation accepts
// only the fields listed for it in operationParams.
type Params struct {
	Operation string            `json:"operation"`
	Name      string            `json:"name,omitempty"`
	Type      string            `json:"type,omitempty"`
	Help      string            `json:"help,omitempty"`
	Labels    map[string]string `json:"labels,omitempty"`
	Value     *float64          `json:"value,omitempty"`
	Buckets   []float64         `json:"buckets,omitempty"`
	All       bool              `json:"all,omitempty"`
}

// operationParams lists the parameters each operation accepts besides
// "operation".
var operationParams = map[string][]string{
	OpRecord: {"name", "type", "help", "labels", "value", "buckets"},
	OpList:   {"name"},
	OpDelete: {"name", "labels", "all"},
}

// RecordResult is the data of record.
type RecordResult struct {
	Name   string     `json:"name"`
	Type   string     `json:"type"`
	Series SeriesInfo `json:"series"`
}

// ListResult is the data of list.
type ListResult struct {
	Metrics []MetricInfo `json:"metrics"`
	// Series is the number of series the tenant has, and MaxSeries its
	// limit.
	Series    int            `json:"series"`
	MaxSeries int            `json:"max_series"`
	Listener  ListenerStatus `json:"listener"`
	// Pushgateway is set when pushing is configured.
	Pushgateway *PushStatus `json:"pushgateway,omitempty"`
}

// DeleteResult is the data of delete.
type DeleteResult struct {
	Deleted []DeletedMetric `json:"deleted"`
}

// Execute runs the operation named by the "operation" parameter: record,
// list or delete. Every operation acts on the calling tenant's series only.
// Bad parameters fail the call and change nothing.
func (p *Plugin) Execute(_ context.Context, req *sdk.ExecuteRequest) (*sdk.ExecuteResult, error) {
	prm, err := decodeParams(req)
	if err != nil {
		return nil, err
	}
	switch prm.Operation {
	case OpRecord:
		return p.record(req.TenantID, prm)
	case OpList:
		return p.list(req.TenantID, prm.Name)
	default:
		return p.delete(req.TenantID, prm)
	}
}

// decodeParams decodes the parameters strictly and checks that each one
// applies to the operation.
func decodeParams(req *sdk.ExecuteRequest) (Params, error) {
	var prm Params
	if err := req.DecodeParameters(&prm); err != nil {
		return Params{}, invalidf("%v", err)
	}
	allowed, ok := operationParams[prm.Operation]
	if !ok {
		ops := slices.Sorted(maps.Keys(operationParams))
		if prm.Operation == "" {
			return Params{}, invalidf("missing operation: set operation to one of %s", strings.Join(ops, ", "))
		}
		return Params{}, invalidf("unknown operation %q: use one of %s", prm.Operation, strings.Join(ops, ", "))
	}
	var present map[string]json.RawMessage
	if len(bytes.TrimSpace(req.Parameters)) > 0 {
		if err := json.Unmarshal(req.Parameters, &present); err != nil {
			return Params{}, invalidf("invalid parameters: %v", err)
		}
	}
	for _, key := range slices.Sorted(maps.Keys(present)) {
		if key != "operation" && !slices.Contains(allowed, key) {
			return Params{}, invalidf("parameter %q does not apply to operation %s, which takes %s", key, prm.Operation, strings.Join(allowed, ", "))
		}
	}
	return prm, nil
}

func (p *Plugin) record(tenant string, prm Params) (*sdk.ExecuteResult, error) {
	info, err := p.store.record(tenant, recordRequest{
		Name: prm.Name, Type: prm.Type, Help: prm.Help, Labels: prm.Labels, Value: prm.Value, Buckets: prm.Buckets,
	})
	if err != nil {
		return nil, err
	}
	msg := fmt.Sprintf("recorded %s %s%s", prm.Type, prm.Name, formatLabels(info.Labels))
	return sdk.OK(msg, RecordResult{Name: prm.Name, Type: prm.Type, Series: info}), nil
}

func (p *Plugin) list(tenant, name string) (*sdk.ExecuteResult, error) {
	metrics, err := p.store.list(tenant, name)
	if err != nil {
		return nil, err
	}
	series, limit := p.store.seriesCount(tenant)
	listener, push := p.status()
	out := ListResult{Metrics: metrics, Series: series, MaxSeries: limit, Listener: listener, Pushgateway: push}
	msg := fmt.Sprintf("%d metrics, %d of %d series", len(metrics), series, limit)
	return sdk.OK(msg, out), nil
}

func (p *Plugin) delete(tenant string, prm Params) (*sdk.ExecuteResult, error) {
	deleted, err := p.store.delete(tenant, deleteRequest{Name: prm.Name, Labels: prm.Labels, All: prm.All})
	if err != nil {
		return nil, err
	}
	total := 0
	for _, d := range deleted {
		total += d.Series
	}
	p.log.Info("series deleted", "tenant", tenant, "metrics", len(deleted), "series", total)
	return sdk.OK(fmt.Sprintf("deleted %d series of %d metrics", total, len(deleted)), DeleteResult{Deleted: deleted}), nil
}

// formatLabels returns labels as {a="1",b="2"}, or "" when there are none.
func formatLabels(labels map[string]string) string {
	if len(labels) == 0 {
		return ""
	}
	parts := make([]string, 0, len(labels))
	for _, name := range slices.Sorted(maps.Keys(labels)) {
		parts = append(parts, fmt.Sprintf("%s=%q", name, labels[name]))
	}
	return "{" + strings.Join(parts, ",") + "}"
}
