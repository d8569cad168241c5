package tenant

import (
	"fmt"
	"regexp"
	"slices"
)

// Permission names something a tenant may do.
type Permission string

// Permissions that come with the plans. An operator may grant any of them
// to a single tenant, and may grant an enterprise tenant custom permissions
// with other names.
const (
	PermissionCreateScenarios     Permission = "create_scenarios"
	PermissionExecuteScenarios    Permission = "execute_scenarios"
	PermissionViewObservability   Permission = "view_observability"
	PermissionManageResilience    Permission = "manage_resilience"
	PermissionManageUsers         Permission = "manage_users"
	PermissionUseAdvancedFeatures Permission = "use_advanced_features"
	PermissionIntegrateExternal   Permission = "integrate_external"
	PermissionUseMLFeatures       Permission = "use_ml_features"
)

// standardPermissions lists the permissions that plans grant, in the order
// plans add them.
var standardPermissions = []Permission{
	PermissionCreateScenarios,
	PermissionExecuteScenarios,
	PermissionViewObservability,
	PermissionManageResilience,
	PermissionManageUsers,
	PermissionUseAdvancedFeatures,
	PermissionIntegrateExternal,
	PermissionUseMLFeatures,
}

// StandardPermissions returns the permissions that plans grant.
func StandardPermissions() []Permission {
	return slices.Clone(standardPermissions)
}

// IsStandard reports whether p is one of the permissions that plans grant,
// as opposed to a custom one.
func (p Permission) IsStandard() bool {
	return slices.Contains(standardPermissions, p)
}

var permissionPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// ParsePermission checks that s is a valid permission name: a lowercase
// letter followed by up to 63 lowercase letters, digits and underscores.
func ParsePermission(s string) (Permission, error) {
	if !permissionPattern.MatchString(s) {
		return "", fmt.Errorf("invalid permission name %q: use a lowercase letter followed by up to 63 lowercase letters, digits and underscores, such as %q", s, PermissionViewObservability)
	}
	return Permission(s), nil
}

// capabilityPermissions maps the capabilities that plugins declare to the
// permission a tenant needs to call such a plugin. Capabilities missing here,
// such as "hook" and custom ones, need no permission.
var capabilityPermissions = map[string]Permission{
	"fault_injection":   PermissionExecuteScenarios,
	"traffic_shaping":   PermissionExecuteScenarios,
	"scenario":          PermissionExecuteScenarios,
	"metrics":           PermissionViewObservability,
	"observability":     PermissionViewObservability,
	"anomaly_detection": PermissionUseMLFeatures,
	"integration":       PermissionIntegrateExternal,
	"resilience":        PermissionManageResilience,
}

// PermissionForCapability returns the permission a tenant needs to call a
// plugin that declares capability. ok is false when the capability needs no
// permission.
func PermissionForCapability(capability string) (p Permission, ok bool) {
	p, ok = capabilityPermissions[capability]
	return p, ok
}

// CapabilityPermissions returns a copy of the map from capability to the
// permission it needs.
func CapabilityPermissions() map[string]Permission {
	out := make(map[string]Permission, len(capabilityPermissions))
	for c, p := range capabilityPermissions {
		out[c] = p
	}
	return out
}
