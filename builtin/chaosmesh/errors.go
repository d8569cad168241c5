package chaosmesh

import (
	"errors"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/mockforge/mockforged/sdk"
)

// Error codes of failed calls, in ErrorDetail.Code.
const (
	// CodeInvalidArgument marks a parameter that is missing, malformed or
	// out of range, found before anything was sent.
	CodeInvalidArgument = "invalid_argument"
	// CodeRejected marks an object that the API server rejected as invalid
	// (HTTP 422); the message names each field and why.
	CodeRejected = "rejected"
	// CodeForbidden marks a request that RBAC denied (HTTP 403).
	CodeForbidden = "forbidden"
	// CodeNotInstalled marks a cluster without Chaos Mesh's CRDs.
	CodeNotInstalled = "chaos_mesh_not_installed"
	// CodeNotFound marks an experiment that does not exist or that
	// mockforged did not create for the calling tenant.
	CodeNotFound = "not_found"
	// CodeAlreadyExists marks a name already taken in the namespace.
	CodeAlreadyExists = "already_exists"
	// CodeLimitExceeded marks a duration longer than the tenant plan allows.
	CodeLimitExceeded = "limit_exceeded"
	// CodeUnavailable marks a cluster that could not be reached or that
	// failed the request for a reason that may pass; it is retryable.
	CodeUnavailable = "unavailable"
	// CodeNotConfigured marks a plugin without a usable Kubernetes
	// connection config: no kubeconfig and no service account, or a
	// kubeconfig or context that does not load. It is not retryable,
	// because the config has to change first.
	CodeNotConfigured = "not_configured"
	// CodeTimeout marks a wait that ended before the experiment got there.
	CodeTimeout = "timeout"
)

func callError(code, format string, args ...any) error {
	return &sdk.ErrorDetail{Code: code, Message: fmt.Sprintf(format, args...)}
}

// retryableError is callError for failures that may pass when tried again.
func retryableError(code, format string, args ...any) error {
	return &sdk.ErrorDetail{Code: code, Message: fmt.Sprintf(format, args...), Retryable: true}
}

// apiError turns an error of the API server into a call error that names
// the field, the missing permission or the missing CRD. verb is the
// Kubernetes verb of the request (get, list, create, patch, delete), and
// request describes it, such as "create PodChaos default/web-kill".
func apiError(err error, verb, request string, k kindInfo) error {
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		return retryableError(CodeUnavailable, "%s: %v", request, err)
	}
	st := status.Status()
	switch {
	case apierrors.IsInvalid(err) || apierrors.IsBadRequest(err):
		return callError(CodeRejected, "%s: the API server rejected the object: %s", request, describeCauses(st))
	case apierrors.IsForbidden(err):
		return callError(CodeForbidden, "%s: forbidden by RBAC: the plugin's user or service account lacks the permission to %s resource %q in API group %q (%s); grant it with the ClusterRole mockforged-chaos-mesh from the chaos-mesh plugin's README and a binding", request, verb, k.resource, Group, st.Message)
	case apierrors.IsNotFound(err) && isMissingResource(st):
		return callError(CodeNotInstalled, "%s: Chaos Mesh is not installed or its CRD %s.%s is missing: the API server serves no resource %q in %s; install Chaos Mesh with its CRDs", request, k.resource, Group, k.resource, APIVersion)
	case apierrors.IsNotFound(err):
		return callError(CodeNotFound, "%s: not found", request)
	case apierrors.IsAlreadyExists(err):
		return callError(CodeAlreadyExists, "%s: an object with this name already exists: choose another name or delete it first", request)
	case apierrors.IsUnauthorized(err):
		return callError(CodeForbidden, "%s: the API server did not accept the credentials: %s; check the kubeconfig's user or the service account token", request, st.Message)
	}
	return retryableError(CodeUnavailable, "%s: %v", request, err)
}

func causes(st metav1.Status) []metav1.StatusCause {
	if st.Details == nil {
		return nil
	}
	return st.Details.Causes
}

// describeCauses lists the field causes of a rejection, or the message
// when there are none.
func describeCauses(st metav1.Status) string {
	list := causes(st)
	if len(list) == 0 {
		return st.Message
	}
	parts := make([]string, 0, len(list))
	for _, c := range list {
		msg := strings.TrimSpace(c.Message)
		if c.Field != "" && !strings.HasPrefix(msg, c.Field) {
			msg = c.Field + ": " + msg
		}
		parts = append(parts, msg)
	}
	return strings.Join(parts, "; ")
}

// isMissingResource distinguishes a 404 for the resource type (no CRD)
// from a 404 for one object. For a missing object the API server returns a Status
// that names it. For a path it does not serve it returns a plain 404 page,
// which client-go marks with a cause of type UnexpectedServerResponse.
func isMissingResource(st metav1.Status) bool {
	if st.Details == nil || st.Details.Name == "" {
		return true
	}
	for _, c := range st.Details.Causes {
		if c.Type == metav1.CauseTypeUnexpectedServerResponse {
			return true
		}
	}
	return false
}
