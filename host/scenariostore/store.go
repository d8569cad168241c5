// Package scenariostore keeps scenario definitions and execution journals
// in the tenant store's per-tenant storage, under the namespace Namespace.
// Every byte counts against the tenant's storage quota, and every write is
// one fsynced transaction, so a journal survives a crash up to its last
// event.
package scenariostore

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mockforge/mockforged/host/tenant"
)

// Namespace is the storage namespace of scenarios. The slash keeps it apart
// from every plugin's storage, because plugin ids cannot contain one.
const Namespace = "mockforged/scenarios"

// Key prefixes within Namespace.
const (
	prefixScenario  = "scenario/"
	prefixExecution = "execution/"
	prefixEvent     = "event/"
)

// Definition is a stored scenario.
type Definition struct {
	Name string `json:"name"`
	// Source is the file as the user wrote it, YAML or JSON.
	Source    []byte    `json:"source"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// storage is the tenant store's per-tenant storage: *tenant.Manager, which
// rejects disabled tenants, or tenant.DaemonStorage, which does not.
type storage interface {
	StoragePut(ctx context.Context, tenantID, pluginID, key string, value []byte) error
	StorageGet(tenantID, pluginID, key string) (value []byte, found bool, err error)
	StorageDelete(ctx context.Context, tenantID, pluginID, key string) (deleted bool, err error)
	StorageList(tenantID, pluginID, prefix string) ([]string, error)
}

var (
	_ storage = (*tenant.Manager)(nil)
	_ storage = tenant.DaemonStorage{}
)

// Store reads and writes scenarios and journals.
type Store struct {
	tenants *tenant.Manager
	storage storage
	// mu serialises creates and deletes, so that the existence check and
	// the scenario count change together. ForDaemon's view shares it.
	mu *sync.Mutex
}

// New returns a Store on the tenant manager's storage. It rejects the
// requests of disabled tenants.
func New(tenants *tenant.Manager) *Store {
	return &Store{tenants: tenants, storage: tenants, mu: &sync.Mutex{}}
}

// ForDaemon returns a view of s that also reads and writes the storage of
// disabled tenants, through tenant.DaemonStorage. The orchestrator uses it
// for journals, so that an execution admitted before its tenant was
// disabled still records its rollbacks and verdict, and so that a start
// recovers the executions of disabled tenants. Quotas still apply.
func (s *Store) ForDaemon() *Store {
	return &Store{tenants: s.tenants, storage: s.tenants.DaemonStorage(), mu: s.mu}
}

// Tenants returns the names of every tenant.
func (s *Store) Tenants() []string {
	list := s.tenants.List()
	names := make([]string, len(list))
	for i, t := range list {
		names[i] = t.Name
	}
	return names
}

// CreateDefinition stores a new scenario and counts it against the
// tenant's scenarios quota. It fails with AlreadyExists when the name is
// taken and stores nothing when either quota is exceeded.
func (s *Store) CreateDefinition(ctx context.Context, tenantID string, def Definition) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, found, err := s.GetDefinition(tenantID, def.Name); err != nil {
		return err
	} else if found {
		return status.Errorf(codes.AlreadyExists,
			"scenario %q already exists for tenant %q; change it with `mockforged scenarios update` or pick another name", def.Name, tenantID)
	}
	if _, err := s.tenants.AddScenario(ctx, tenantID); err != nil {
		return err
	}
	if err := s.putJSON(ctx, tenantID, prefixScenario+def.Name, def); err != nil {
		if _, undoErr := s.tenants.RemoveScenario(context.WithoutCancel(ctx), tenantID); undoErr != nil {
			return fmt.Errorf("%w (and the scenario count could not be restored: %v)", err, undoErr)
		}
		return err
	}
	return nil
}

// UpdateDefinition replaces a stored scenario, keeping its creation time.
func (s *Store) UpdateDefinition(ctx context.Context, tenantID string, def Definition) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, found, err := s.GetDefinition(tenantID, def.Name)
	if err != nil {
		return err
	}
	if !found {
		return errScenarioNotFound(tenantID, def.Name)
	}
	def.CreatedAt = old.CreatedAt
	return s.putJSON(ctx, tenantID, prefixScenario+def.Name, def)
}

// GetDefinition returns a stored scenario; found is false when there is
// none.
func (s *Store) GetDefinition(tenantID, name string) (Definition, bool, error) {
	var def Definition
	found, err := s.getJSON(tenantID, prefixScenario+name, &def)
	return def, found, err
}

// ListDefinitions returns the tenant's scenarios sorted by name.
func (s *Store) ListDefinitions(tenantID string) ([]Definition, error) {
	keys, err := s.storage.StorageList(tenantID, Namespace, prefixScenario)
	if err != nil {
		return nil, err
	}
	out := make([]Definition, 0, len(keys))
	for _, key := range keys {
		var def Definition
		found, err := s.getJSON(tenantID, key, &def)
		if err != nil {
			return nil, err
		}
		if found {
			out = append(out, def)
		}
	}
	return out, nil
}

// DeleteDefinition removes a scenario and the journals of its executions
// that ended, and releases its place in the scenarios quota.
func (s *Store) DeleteDefinition(ctx context.Context, tenantID, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	execs, err := s.ListExecutions(tenantID)
	if err != nil {
		return err
	}
	for _, e := range execs {
		if e.Scenario == name && e.Ended() {
			if err := s.DeleteExecution(ctx, tenantID, e.ID); err != nil {
				return err
			}
		}
	}
	deleted, err := s.storage.StorageDelete(ctx, tenantID, Namespace, prefixScenario+name)
	if err != nil {
		return err
	}
	if !deleted {
		return errScenarioNotFound(tenantID, name)
	}
	_, err = s.tenants.RemoveScenario(ctx, tenantID)
	return err
}

func errScenarioNotFound(tenantID, name string) error {
	return status.Errorf(codes.NotFound,
		"scenario %q not found for tenant %q; list scenarios with `mockforged scenarios list`", name, tenantID)
}

func (s *Store) putJSON(ctx context.Context, tenantID, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	return s.storage.StoragePut(ctx, tenantID, Namespace, key, data)
}

func (s *Store) getJSON(tenantID, key string, v any) (bool, error) {
	data, found, err := s.storage.StorageGet(tenantID, Namespace, key)
	if err != nil || !found {
		return false, err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return false, status.Errorf(codes.Internal, "stored record %s of tenant %q is damaged: %v", key, tenantID, err)
	}
	return true, nil
}

// sortedByID sorts executions by id, which sorts them by start time.
func sortedByID(execs []Execution) {
	sort.Slice(execs, func(i, j int) bool { return strings.Compare(execs[i].ID, execs[j].ID) < 0 })
}
