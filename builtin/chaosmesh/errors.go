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
	// CodeUnavailable marks a cluster that could not be reached or
	// configured.
	CodeUnavailable = "unavailable"
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
// the field, the missing permission or the missing CRD. what describes the
// request, such as "create PodChaos default/web-kill".
func apiError(err error, what string, k kindInfo) error {
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		return retryableError(CodeUnavailable, "%s: %v", what, err)
	}
	st := status.Status()
	switch {
	case apierrors.IsInvalid(err) || apierrors.IsBadRequest(err):
		return callError(CodeRejected, "%s: the API server rejected the object: %s", what, describeCauses(st))
	case apierrors.IsForbidden(err):
		return callError(CodeForbidden, "%s: forbidden by RBAC: %s; grant the plugin's service account or user the verbs on %s.%s from the ClusterRole in the plugin's README", what, st.Message, k.resource, Group)
	case apierrors.IsNotFound(err) && isMissingResource(st):
		return callError(CodeNotInstalled, "%s: the cluster serves no %s.%s resource: install Chaos Mesh (its CRDs) on the cluster", what, k.resource, Group)
	case apierrors.IsNotFound(err):
		return callError(CodeNotFound, "%s: not found", what)
	case apierrors.IsAlreadyExists(err):
		return callError(CodeAlreadyExists, "%s: an object with this name already exists: choose another name or delete it first", what)
	case apierrors.IsUnauthorized(err):
		return callError(CodeForbidden, "%s: the API server did not accept the credentials: %s; check the kubeconfig's user or the service account token", what, st.Message)
	}
	return retryableError(CodeUnavailable, "%s: %v", what, err)
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

// isMissingResource tells a 404 for the resource type (no CRD) from a 404
// for one object: the API server names no object in the first case.
func isMissingResource(st metav1.Status) bool {
	return st.Details == nil || st.Details.Name == ""
}
