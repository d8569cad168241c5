// Package scenarioapi serves the Scenarios gRPC service (proto/api/v1)
// behind `mockforged scenarios`.
package scenarioapi

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/mockforge/mockforged/host/api"
	"github.com/mockforge/mockforged/host/clock"
	"github.com/mockforge/mockforged/host/scenario"
	"github.com/mockforge/mockforged/host/scenariorun"
	"github.com/mockforge/mockforged/host/scenariostore"
	"github.com/mockforge/mockforged/host/tenant"
	apiv1 "github.com/mockforge/mockforged/proto/api/v1"
)

// Server implements the Scenarios service.
type Server struct {
	apiv1.UnimplementedScenariosServer

	store      *scenariostore.Store
	runner     *scenariorun.Orchestrator
	tenants    *tenant.Manager
	auth       api.Authorizer
	probeAllow []string
}

var _ apiv1.ScenariosServer = (*Server)(nil)

// New returns the Scenarios service. probeAllow lists the URL prefixes
// HTTP probes may reach besides loopback addresses, as
// scenariorun.Options.ProbeAllow does.
func New(store *scenariostore.Store, runner *scenariorun.Orchestrator, tenants *tenant.Manager, auth api.Authorizer, probeAllow []string) *Server {
	return &Server{store: store, runner: runner, tenants: tenants, auth: auth, probeAllow: probeAllow}
}

// CreateScenario stores a new scenario.
func (s *Server) CreateScenario(ctx context.Context, req *apiv1.PutScenarioRequest) (*apiv1.PutScenarioResponse, error) {
	return s.put(ctx, req, true)
}

// UpdateScenario replaces a stored scenario.
func (s *Server) UpdateScenario(ctx context.Context, req *apiv1.PutScenarioRequest) (*apiv1.PutScenarioResponse, error) {
	return s.put(ctx, req, false)
}

func (s *Server) put(ctx context.Context, req *apiv1.PutScenarioRequest, create bool) (*apiv1.PutScenarioResponse, error) {
	tenantID, err := s.tenantFor(ctx, req.TenantId, tenant.PermissionCreateScenarios)
	if err != nil {
		return nil, err
	}
	source := req.SourceName
	if source == "" {
		source = "(request)"
	}
	// The tenant's max duration and the probe allow-list are checked with
	// the file's other rules, so that one request reports every error.
	maxDuration, err := s.runner.MaxDurationValidator(tenantID)
	if err != nil {
		return nil, err
	}
	parsed, err := scenario.Parse(req.Source, source, maxDuration, s.checkProbeURLs)
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	now := clock.Now().UTC()
	def := scenariostore.Definition{Name: parsed.Name, Source: req.Source, CreatedAt: now, UpdatedAt: now}
	if create {
		err = s.store.CreateDefinition(ctx, tenantID, def)
	} else {
		err = s.store.UpdateDefinition(ctx, tenantID, def)
	}
	if err != nil {
		return nil, err
	}
	stored, _, err := s.store.GetDefinition(tenantID, parsed.Name)
	if err != nil {
		return nil, err
	}
	return &apiv1.PutScenarioResponse{Scenario: scenarioInfo(stored)}, nil
}

// checkProbeURLs rejects HTTP probes that the orchestrator would refuse to
// GET, so that the mistake shows when the file is stored.
func (s *Server) checkProbeURLs(sc *scenario.Scenario) []scenario.FieldError {
	var fields []scenario.FieldError
	for i, p := range sc.Probes {
		if p.HTTP != nil && !scenariorun.ProbeURLAllowed(p.HTTP.URL, s.probeAllow) {
			fields = append(fields, scenario.FieldError{
				Path: "/probes/" + strconv.Itoa(i) + "/http/url",
				Message: fmt.Sprintf("URL %q is neither a loopback address nor under a URL prefix the daemon allows; probe a loopback address, or ask an administrator to start the daemon with `serve --probe-allow URL_PREFIX`",
					p.HTTP.URL),
			})
		}
	}
	return fields
}

// GetScenario returns one scenario.
func (s *Server) GetScenario(ctx context.Context, req *apiv1.GetScenarioRequest) (*apiv1.GetScenarioResponse, error) {
	tenantID, err := s.tenantFor(ctx, req.TenantId, "")
	if err != nil {
		return nil, err
	}
	if err := checkName(req.Name); err != nil {
		return nil, err
	}
	def, found, err := s.store.GetDefinition(tenantID, req.Name)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, status.Errorf(codes.NotFound, "scenario %q not found for tenant %q; list scenarios with `mockforged scenarios list`", req.Name, tenantID)
	}
	return &apiv1.GetScenarioResponse{Scenario: scenarioInfo(def)}, nil
}

// ListScenarios returns the tenant's scenarios.
func (s *Server) ListScenarios(ctx context.Context, req *apiv1.ListScenariosRequest) (*apiv1.ListScenariosResponse, error) {
	tenantID, err := s.tenantFor(ctx, req.TenantId, "")
	if err != nil {
		return nil, err
	}
	defs, err := s.store.ListDefinitions(tenantID)
	if err != nil {
		return nil, err
	}
	resp := &apiv1.ListScenariosResponse{}
	for _, d := range defs {
		resp.Scenarios = append(resp.Scenarios, scenarioInfo(d))
	}
	return resp, nil
}

// DeleteScenario removes a scenario and its ended journals.
func (s *Server) DeleteScenario(ctx context.Context, req *apiv1.DeleteScenarioRequest) (*apiv1.DeleteScenarioResponse, error) {
	tenantID, err := s.tenantFor(ctx, req.TenantId, tenant.PermissionCreateScenarios)
	if err != nil {
		return nil, err
	}
	if err := checkName(req.Name); err != nil {
		return nil, err
	}
	if s.runner.RunningOf(tenantID, req.Name) {
		return nil, status.Errorf(codes.FailedPrecondition,
			"scenario %q has a running execution; stop it with `mockforged scenarios stop ID` first", req.Name)
	}
	if err := s.store.DeleteDefinition(ctx, tenantID, req.Name); err != nil {
		return nil, err
	}
	return &apiv1.DeleteScenarioResponse{}, nil
}

// RunScenario starts an execution or, with dry_run, returns the plan.
func (s *Server) RunScenario(ctx context.Context, req *apiv1.RunScenarioRequest) (*apiv1.RunScenarioResponse, error) {
	tenantID, err := s.tenantFor(ctx, req.TenantId, "")
	if err != nil {
		return nil, err
	}
	if err := checkName(req.Name); err != nil {
		return nil, err
	}
	rec, plan, err := s.runner.Run(ctx, tenantID, req.Name, req.DryRun)
	if err != nil {
		return nil, err
	}
	if plan != nil {
		data, err := json.Marshal(plan)
		if err != nil {
			return nil, status.Errorf(codes.Internal, "encode plan: %v", err)
		}
		return &apiv1.RunScenarioResponse{PlanJson: data}, nil
	}
	return &apiv1.RunScenarioResponse{Execution: executionInfo(rec)}, nil
}

// WatchExecution streams an execution's journal.
func (s *Server) WatchExecution(req *apiv1.WatchExecutionRequest, stream apiv1.Scenarios_WatchExecutionServer) error {
	tenantID, err := s.tenantFor(stream.Context(), req.TenantId, "")
	if err != nil {
		return err
	}
	if err := checkExecutionID(req.Id); err != nil {
		return err
	}
	return s.runner.Watch(stream.Context(), tenantID, req.Id, func(ev scenariostore.Event) error {
		out, err := eventInfo(ev)
		if err != nil {
			return err
		}
		return stream.Send(out)
	})
}

// GetExecution returns an execution and, on request, its journal.
func (s *Server) GetExecution(ctx context.Context, req *apiv1.GetExecutionRequest) (*apiv1.GetExecutionResponse, error) {
	tenantID, err := s.tenantFor(ctx, req.TenantId, "")
	if err != nil {
		return nil, err
	}
	if err := checkExecutionID(req.Id); err != nil {
		return nil, err
	}
	rec, events, err := s.runner.Get(tenantID, req.Id, req.IncludeEvents)
	if err != nil {
		return nil, err
	}
	resp := &apiv1.GetExecutionResponse{Execution: executionInfo(rec)}
	for _, ev := range events {
		out, err := eventInfo(ev)
		if err != nil {
			return nil, err
		}
		resp.Events = append(resp.Events, out)
	}
	return resp, nil
}

// StopExecution stops a running execution.
func (s *Server) StopExecution(ctx context.Context, req *apiv1.StopExecutionRequest) (*apiv1.StopExecutionResponse, error) {
	tenantID, err := s.tenantFor(ctx, req.TenantId, tenant.PermissionExecuteScenarios)
	if err != nil {
		return nil, err
	}
	if err := checkExecutionID(req.Id); err != nil {
		return nil, err
	}
	rec, err := s.runner.StopExecution(tenantID, req.Id, "an operator")
	if err != nil {
		return nil, err
	}
	return &apiv1.StopExecutionResponse{Execution: executionInfo(rec)}, nil
}

// ListExecutions returns the tenant's executions.
func (s *Server) ListExecutions(ctx context.Context, req *apiv1.ListExecutionsRequest) (*apiv1.ListExecutionsResponse, error) {
	tenantID, err := s.tenantFor(ctx, req.TenantId, "")
	if err != nil {
		return nil, err
	}
	if req.Scenario != "" {
		if err := checkName(req.Scenario); err != nil {
			return nil, err
		}
	}
	execs, err := s.store.ListExecutions(tenantID)
	if err != nil {
		return nil, err
	}
	resp := &apiv1.ListExecutionsResponse{}
	for _, e := range execs {
		if req.Scenario != "" && e.Scenario != req.Scenario {
			continue
		}
		if live, _, err := s.runner.Get(tenantID, e.ID, false); err == nil {
			e = live
		}
		resp.Executions = append(resp.Executions, executionInfo(e))
	}
	return resp, nil
}

// tenantFor resolves the tenant of a request and checks that it has perm,
// unless perm is empty.
func (s *Server) tenantFor(ctx context.Context, requested string, perm tenant.Permission) (string, error) {
	tenantID, err := s.auth.ResolveTenant(ctx, requested)
	if err != nil {
		return "", err
	}
	t, err := s.tenants.Get(tenantID)
	if err != nil {
		return "", err
	}
	if perm != "" && !t.HasPermission(perm) {
		return "", status.Errorf(codes.PermissionDenied,
			"tenant %q on plan %s lacks permission %s; grant it with `mockforged tenants grant %s %s`", tenantID, t.Plan, perm, tenantID, perm)
	}
	return tenantID, nil
}

// checkName rejects a scenario name that no scenario file could have.
// Names are keys in the tenant store, never file paths; the check keeps
// '/', "..", NUL and huge strings out of those keys and out of messages.
func checkName(name string) error {
	if err := scenario.CheckName(name); err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	return nil
}

// checkExecutionID rejects an id that the orchestrator could not have made.
func checkExecutionID(id string) error {
	if scenariostore.ValidExecutionID(id) {
		return nil
	}
	shown := id
	if len(shown) > 40 {
		shown = shown[:40] + "..."
	}
	return status.Errorf(codes.InvalidArgument,
		"invalid execution id %q: ids look like 20260105-100000.123-a1b2c3; list them with `mockforged scenarios history`", shown)
}

func scenarioInfo(d scenariostore.Definition) *apiv1.ScenarioInfo {
	info := &apiv1.ScenarioInfo{
		Name:      d.Name,
		Source:    d.Source,
		CreatedAt: timestamppb.New(d.CreatedAt),
		UpdatedAt: timestamppb.New(d.UpdatedAt),
	}
	// The stored source was valid when stored; a later schema change can
	// only hide the description and tags here.
	if parsed, err := scenario.Parse(d.Source, d.Name); err == nil {
		info.Description = parsed.Description
		info.Tags = parsed.Tags
	}
	return info
}

func executionInfo(e scenariostore.Execution) *apiv1.Execution {
	out := &apiv1.Execution{
		Id:        e.ID,
		TenantId:  e.Tenant,
		Scenario:  e.Scenario,
		State:     e.State,
		Reason:    e.Reason,
		StartedAt: timestamppb.New(e.StartedAt),
		Events:    e.Events,
	}
	if !e.EndedAt.IsZero() {
		out.EndedAt = timestamppb.New(e.EndedAt)
	}
	return out
}

func eventInfo(ev scenariostore.Event) (*apiv1.ExecutionEvent, error) {
	data, err := json.Marshal(ev)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "encode event %d: %v", ev.Seq, err)
	}
	return &apiv1.ExecutionEvent{Seq: ev.Seq, Time: timestamppb.New(ev.Time), Type: ev.Type, EventJson: data}, nil
}
