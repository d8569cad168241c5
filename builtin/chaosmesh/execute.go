package chaosmesh

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/mockforge/mockforged/sdk"
)

// Defaults and bounds of wait.
const (
	defaultWaitTimeout = time.Minute
	waitPollInterval   = 500 * time.Millisecond
)

// Execute runs the operation named by the "operation" parameter. Bad
// parameters fail the call with CodeInvalidArgument before anything is
// sent to the cluster.
func (p *Plugin) Execute(ctx context.Context, req *sdk.ExecuteRequest) (*sdk.ExecuteResult, error) {
	keys, err := presentKeys(req.Parameters)
	if err != nil {
		return nil, callError(CodeInvalidArgument, "%v", err)
	}
	var prm params
	if err := req.DecodeParameters(&prm); err != nil {
		return nil, callError(CodeInvalidArgument, "%v", err)
	}
	if _, ok := operationParams[prm.Operation]; !ok {
		if prm.Operation == "" {
			return nil, callError(CodeInvalidArgument, "missing operation: set operation to one of %s", operations())
		}
		return nil, callError(CodeInvalidArgument, "unknown operation %q: use one of %s", prm.Operation, operations())
	}
	if err := checkAllowed(keys, prm.Operation); err != nil {
		return nil, callError(CodeInvalidArgument, "%v", err)
	}
	prm.raw = req.Parameters
	if prm.Operation == OpCreate {
		return p.create(ctx, req, prm)
	}
	switch prm.Operation {
	case OpList:
		return p.list(ctx, req.TenantID, prm)
	case OpCleanup:
		return p.cleanup(ctx, req.TenantID, prm)
	}
	target, err := p.resolveTarget(prm)
	if err != nil {
		return nil, err
	}
	switch prm.Operation {
	case OpStatus:
		return p.status(ctx, req.TenantID, target)
	case OpPause:
		return p.setPaused(ctx, req.TenantID, target, true)
	case OpResume:
		return p.setPaused(ctx, req.TenantID, target, false)
	case OpDelete:
		return p.delete(ctx, req.TenantID, target)
	default:
		return p.wait(ctx, req.TenantID, target, prm)
	}
}

// maxDuration returns the tenant plan's maximum experiment duration, zero
// when the host passed none.
func maxDuration(req *sdk.ExecuteRequest) (time.Duration, error) {
	raw, ok := req.Metadata[MetadataMaxDuration]
	if !ok {
		return 0, nil
	}
	limit, err := time.ParseDuration(raw)
	if err != nil || limit <= 0 {
		return 0, callError(CodeInvalidArgument, "invalid request metadata %s=%q: the host must pass a positive Go duration", MetadataMaxDuration, raw)
	}
	return limit, nil
}

func (p *Plugin) create(ctx context.Context, req *sdk.ExecuteRequest, prm params) (*sdk.ExecuteResult, error) {
	limit, err := maxDuration(req)
	if err != nil {
		return nil, err
	}
	s, namespace := p.offlineSettings()
	exp, err := buildExperiment(s, namespace, req.TenantID, prm, limit)
	if err != nil {
		return nil, err
	}
	manifest, err := yaml.Marshal(exp.object.Object)
	if err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	if prm.DryRun {
		return sdk.OK(fmt.Sprintf("dry run: %s %s/%s was not sent", exp.kind.kind, exp.object.GetNamespace(), exp.object.GetName()),
			map[string]any{"dry_run": true, "manifest": string(manifest)}), nil
	}

	client, _, _, err := p.connection()
	if err != nil {
		return nil, err
	}
	request := fmt.Sprintf("create %s %s/%s", exp.kind.kind, exp.object.GetNamespace(), exp.object.GetName())
	created, err := client.Resource(exp.kind.gvr()).Namespace(exp.object.GetNamespace()).
		Create(ctx, exp.object, metav1.CreateOptions{FieldValidation: metav1.FieldValidationStrict})
	if err != nil {
		p.log.Error("create experiment failed", "kind", exp.kind.kind, "namespace", exp.object.GetNamespace(), "name", exp.object.GetName(), "tenant", req.TenantID, "error", err)
		return nil, apiError(err, "create", request, exp.kind)
	}
	info := describe(exp.kind, created, req.TenantID)
	p.log.Info("experiment created", "kind", info.Kind, "namespace", info.Namespace, "name", info.Name, "tenant", req.TenantID, "duration", exp.duration.String())
	return sdk.OK(fmt.Sprintf("created %s %s/%s for %s", info.Kind, info.Namespace, info.Name, exp.duration),
		map[string]any{"experiment": info, "manifest": string(manifest)}), nil
}

// offlineSettings returns the settings and default namespace without
// connecting, for building objects.
func (p *Plugin) offlineSettings() (settings, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fixed && p.settings.cfg.Namespace == "" {
		return p.settings, p.namespace
	}
	return p.settings, p.settings.defaultNamespace()
}

// target names one experiment.
type target struct {
	kind      kindInfo
	name      string
	namespace string
	client    dynamic.ResourceInterface
}

func (t target) String() string { return t.kind.kind + " " + t.namespace + "/" + t.name }

func (p *Plugin) resolveTarget(prm params) (target, error) {
	k, ok := findKind(prm.Kind)
	if !ok {
		return target{}, callError(CodeInvalidArgument, "invalid kind %q: use one of %s", prm.Kind, kindNames())
	}
	if prm.Name == "" {
		return target{}, callError(CodeInvalidArgument, "missing name: set name to the experiment's name, as list shows it")
	}
	client, namespace, _, err := p.connection()
	if err != nil {
		return target{}, err
	}
	if prm.Namespace != "" {
		namespace = prm.Namespace
	}
	return target{kind: k, name: prm.Name, namespace: namespace, client: client.Resource(k.gvr()).Namespace(namespace)}, nil
}

// getOwned reads the target and checks that mockforged created it for
// tenant; an object of anyone else is reported as not found.
func (p *Plugin) getOwned(ctx context.Context, tenant string, t target, verb string) (*unstructured.Unstructured, error) {
	u, err := t.client.Get(ctx, t.name, metav1.GetOptions{})
	if err != nil {
		return nil, apiError(err, "get", verb+" "+t.String(), t.kind)
	}
	if !isManaged(u, tenant) {
		return nil, callError(CodeNotFound, "%s %s: not found among the experiments mockforged created for tenant %q: the object exists but was created by someone else, so mockforged leaves it alone", verb, t, tenant)
	}
	return u, nil
}

func (p *Plugin) status(ctx context.Context, tenant string, t target) (*sdk.ExecuteResult, error) {
	u, err := p.getOwned(ctx, tenant, t, "status")
	if err != nil {
		return nil, err
	}
	info := describe(t.kind, u, tenant)
	return sdk.OK(fmt.Sprintf("%s is %s", t, info.Phase), map[string]any{"experiment": info}), nil
}

func (p *Plugin) setPaused(ctx context.Context, tenant string, t target, pause bool) (*sdk.ExecuteResult, error) {
	verb := "resume"
	var value any
	if pause {
		verb, value = "pause", "true"
	}
	u, err := p.getOwned(ctx, tenant, t, verb)
	if err != nil {
		return nil, err
	}
	// A merge patch with null removes the annotation. The resource version
	// makes the patch fail rather than act on an object replaced meanwhile.
	patch := map[string]any{"metadata": map[string]any{
		"resourceVersion": u.GetResourceVersion(),
		"annotations":     map[string]any{PauseAnnotation: value},
	}}
	data, err := jsonMarshal(patch)
	if err != nil {
		return nil, err
	}
	patched, err := t.client.Patch(ctx, t.name, types.MergePatchType, data, metav1.PatchOptions{FieldValidation: metav1.FieldValidationStrict})
	if err != nil {
		p.log.Error(verb+" experiment failed", "experiment", t.String(), "tenant", tenant, "error", err)
		return nil, apiError(err, "patch", verb+" "+t.String(), t.kind)
	}
	p.log.Info("experiment "+verb+"d", "experiment", t.String(), "tenant", tenant)
	info := describe(t.kind, patched, tenant)
	return sdk.OK(fmt.Sprintf("%sd %s", verb, t), map[string]any{"experiment": info}), nil
}

func (p *Plugin) delete(ctx context.Context, tenant string, t target) (*sdk.ExecuteResult, error) {
	u, err := p.getOwned(ctx, tenant, t, "delete")
	if err != nil {
		return nil, err
	}
	uid := u.GetUID()
	err = t.client.Delete(ctx, t.name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
	if err != nil {
		p.log.Error("delete experiment failed", "experiment", t.String(), "tenant", tenant, "error", err)
		return nil, apiError(err, "delete", "delete "+t.String(), t.kind)
	}
	p.log.Info("experiment deleted", "experiment", t.String(), "tenant", tenant)
	return sdk.OK("deleted "+t.String(), map[string]any{"experiment": describe(t.kind, u, tenant)}), nil
}

func (p *Plugin) wait(ctx context.Context, tenant string, t target, prm params) (*sdk.ExecuteResult, error) {
	want := map[string]string{"injected": "AllInjected", "recovered": "AllRecovered"}[prm.For]
	if want == "" {
		return nil, callError(CodeInvalidArgument, "invalid for %q: use injected or recovered", prm.For)
	}
	timeout := defaultWaitTimeout
	if prm.Timeout != "" {
		var err error
		if timeout, err = parsePositiveDuration("timeout", prm.Timeout); err != nil {
			return nil, callError(CodeInvalidArgument, "%v", err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ticker := time.NewTicker(waitPollInterval)
	defer ticker.Stop()
	for {
		u, err := p.getOwned(ctx, tenant, t, "wait for")
		if err != nil && ctx.Err() == nil {
			return nil, err
		}
		if err == nil {
			info := describe(t.kind, u, tenant)
			if conditionStates(info.Conditions)[want] == "True" {
				return sdk.OK(fmt.Sprintf("%s is %s", t, prm.For), map[string]any{"experiment": info}), nil
			}
		}
		select {
		case <-ctx.Done():
			return nil, retryableError(CodeTimeout, "wait for %s to be %s: timed out after %s; status shows its conditions, and a longer timeout or the call's --timeout may help", t, prm.For, timeout)
		case <-ticker.C:
		}
	}
}

// selectedKinds returns the kind named by prm, or every kind.
func selectedKinds(prm params) ([]kindInfo, error) {
	if prm.Kind == "" {
		return kinds, nil
	}
	k, ok := findKind(prm.Kind)
	if !ok {
		return nil, callError(CodeInvalidArgument, "invalid kind %q: use one of %s, or leave kind empty for all", prm.Kind, kindNames())
	}
	return []kindInfo{k}, nil
}

// tenantSelector selects the objects mockforged created for tenant.
func tenantSelector(tenant string) string {
	return labels.Set{LabelManagedBy: ManagedByValue, LabelTenant: tenant}.AsSelector().String()
}

func (p *Plugin) list(ctx context.Context, tenant string, prm params) (*sdk.ExecuteResult, error) {
	selected, err := selectedKinds(prm)
	if err != nil {
		return nil, err
	}
	client, namespace, _, err := p.connection()
	if err != nil {
		return nil, err
	}
	if prm.Namespace != "" {
		namespace = prm.Namespace
	}
	if prm.AllNamespaces {
		namespace = metav1.NamespaceAll
	}
	opts := metav1.ListOptions{}
	if !prm.IncludeForeign {
		opts.LabelSelector = tenantSelector(tenant)
	}
	infos := []ExperimentInfo{}
	var missing []string
	for _, k := range selected {
		items, err := client.Resource(k.gvr()).Namespace(namespace).List(ctx, opts)
		if apierrors.IsNotFound(err) && prm.Kind == "" {
			missing = append(missing, k.kind)
			continue
		}
		if err != nil {
			return nil, apiError(err, "list", "list "+k.kind, k)
		}
		for i := range items.Items {
			infos = append(infos, describe(k, &items.Items[i], tenant))
		}
	}
	data := map[string]any{"experiments": infos}
	if len(missing) > 0 {
		data["missing_kinds"] = missing
	}
	return sdk.OK(fmt.Sprintf("%d experiments", len(infos)), data), nil
}

func (p *Plugin) cleanup(ctx context.Context, tenant string, prm params) (*sdk.ExecuteResult, error) {
	selected, err := selectedKinds(prm)
	if err != nil {
		return nil, err
	}
	client, _, _, err := p.connection()
	if err != nil {
		return nil, err
	}
	// Cleanup looks in every namespace unless one is named, so that nothing
	// the tenant made is left behind.
	namespace := prm.Namespace
	opts := metav1.ListOptions{LabelSelector: tenantSelector(tenant)}
	deleted := []ExperimentInfo{}
	for _, k := range selected {
		items, err := client.Resource(k.gvr()).Namespace(namespace).List(ctx, opts)
		if apierrors.IsNotFound(err) && prm.Kind == "" {
			continue
		}
		if err != nil {
			return nil, apiError(err, "list", "cleanup: list "+k.kind, k)
		}
		for i := range items.Items {
			u := &items.Items[i]
			err := client.Resource(k.gvr()).Namespace(u.GetNamespace()).Delete(ctx, u.GetName(), metav1.DeleteOptions{})
			if err != nil && !apierrors.IsNotFound(err) {
				p.log.Error("cleanup: delete experiment failed", "kind", k.kind, "namespace", u.GetNamespace(), "name", u.GetName(), "tenant", tenant, "error", err)
				return nil, apiError(err, "delete", fmt.Sprintf("cleanup: delete %s %s/%s after deleting %d", k.kind, u.GetNamespace(), u.GetName(), len(deleted)), k)
			}
			deleted = append(deleted, describe(k, u, tenant))
		}
	}
	p.log.Info("experiments cleaned up", "tenant", tenant, "deleted", len(deleted))
	return sdk.OK(fmt.Sprintf("deleted %d experiments of tenant %q", len(deleted), tenant), map[string]any{"deleted": deleted}), nil
}
