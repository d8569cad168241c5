package metrics

import (
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mockforge/mockforged/host/api"
	"github.com/mockforge/mockforged/host/tenant"
	apiv1 "github.com/mockforge/mockforged/proto/api/v1"
)

// Outcomes of a call besides the gRPC code names of errors.
const (
	outcomeSuccess = "success"
	// outcomeFailure is a call whose result has success false.
	outcomeFailure = "failure"
)

var _ api.Metrics = (*Metrics)(nil)

// ObserveCall records one Execute request. pluginID is empty when no
// plugin of that id exists, and tenantID is empty when the tenant gate did
// not admit the call. Both are then counted as "_unknown", and only
// admitted calls are counted in the duration histogram. params and resp
// are the request's parameters and the response, from which the results of
// the anomaly detector, the database fault injector and the Chaos Mesh
// plugin are read.
func (m *Metrics) ObserveCall(pluginID, tenantID string, params []byte, resp *apiv1.ExecuteResponse, err error, d time.Duration) {
	if m == nil {
		return
	}
	m.observe(pluginID, tenantID, params, resp.GetSuccess(), resp.GetDataJson(), err, d)
}

// observe records one call. success is the Success of the plugin's result,
// and data is its result data.
func (m *Metrics) observe(pluginID, tenantID string, params []byte, success bool, data []byte, err error, d time.Duration) {
	pluginLabel, tenantLabel := orUnknown(pluginID), orUnknown(tenantID)
	m.calls.WithLabelValues(pluginLabel, tenantLabel, outcome(success, err)).Inc()
	if tenantID == "" {
		return
	}
	m.callDuration.WithLabelValues(pluginLabel).Observe(d.Seconds())
	if err != nil || !success {
		return
	}
	switch pluginID {
	case anomalyPluginID:
		m.countAnomalies(data)
	case dbFaultPluginID:
		m.experiments.observeFaults(pluginID, tenantID, params, data)
	case chaosMeshPluginID:
		m.experiments.observeChaos(pluginID, tenantID, params, data)
	}
}

// outcome names how a call ended: success, failure, or the snake_case name
// of the gRPC code of its error, such as deadline_exceeded.
func outcome(success bool, err error) string {
	switch {
	case err != nil:
		return codeName(status.Code(err))
	case success:
		return outcomeSuccess
	}
	return outcomeFailure
}

// codeName returns a gRPC code as a snake_case word: NotFound becomes
// not_found.
func codeName(c codes.Code) string {
	var b strings.Builder
	previousLower := false
	for _, r := range c.String() {
		upper := r >= 'A' && r <= 'Z'
		if upper && previousLower {
			b.WriteByte('_')
		}
		previousLower = r >= 'a' && r <= 'z'
		if upper {
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Reasons of tenant rejections besides the quota names.
const (
	reasonRateLimited       = "rate_limited"
	reasonPermissionDenied  = "permission_denied"
	reasonTenantDisabled    = "tenant_disabled"
	reasonQuotaPrefix       = "quota_"
	reasonQuotaUnrecognized = "quota_other"
)

// ObserveRejection records a call that the tenant gate rejected with err.
// Rejections of a tenant that does not exist, and errors that are not
// rejections (a cancelled call, a failed store), are not counted, so that
// the tenant label only takes names of existing tenants.
func (m *Metrics) ObserveRejection(tenantID string, err error) {
	if m == nil || tenantID == "" {
		return
	}
	if reason := rejectionReason(err); reason != "" {
		m.rejections.WithLabelValues(tenantID, reason).Inc()
	}
}

// rejectionReason classifies an error of tenant.Manager.Admit, or returns
// "" when err is not a rejection.
func rejectionReason(err error) string {
	st, ok := status.FromError(err)
	if !ok {
		return ""
	}
	switch st.Code() {
	case codes.FailedPrecondition:
		return reasonTenantDisabled
	case codes.PermissionDenied:
		return reasonPermissionDenied
	case codes.ResourceExhausted:
		return exhaustedReason(st)
	}
	return ""
}

// exhaustedReason distinguishes the rate limit from a quota by the
// ErrorInfo that host/tenant attaches to a ResourceExhausted status.
func exhaustedReason(st *status.Status) string {
	for _, detail := range st.Details() {
		info, ok := detail.(*errdetails.ErrorInfo)
		if !ok {
			continue
		}
		switch info.GetReason() {
		case tenant.ReasonRateLimited:
			return reasonRateLimited
		case tenant.ReasonQuotaExceeded:
			return quotaReason(info.GetMetadata()["quota"])
		}
	}
	return reasonQuotaUnrecognized
}

func quotaReason(quota string) string {
	if _, err := tenant.ParseQuotaName(quota); err != nil {
		return reasonQuotaUnrecognized
	}
	return reasonQuotaPrefix + quota
}

func orUnknown(s string) string {
	if s == "" {
		return unknownLabel
	}
	return s
}
