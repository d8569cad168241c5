package anomaly

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"unicode"

	"github.com/mockforge/mockforged/builtin/anomaly/detect"
	"github.com/mockforge/mockforged/sdk"
)

// modelKeyPrefix prefixes the storage key of each metric's model.
const modelKeyPrefix = "model/"

// maxMetricNameBytes bounds metric names, which keeps storage keys short.
const maxMetricNameBytes = 200

// tenant is one tenant's metrics. Its mutex serialises the tenant's calls,
// so that a model is never used by two calls at once.
type tenant struct {
	id string

	mu     sync.Mutex
	models map[string]*entry
	// names holds every metric known in memory or in storage; nil until
	// the stored names have been listed.
	names map[string]bool
	// storageWarned is set once a result message has reported that storage
	// is unavailable.
	storageWarned bool
}

// entry is a model in memory and the config generation it was built for.
type entry struct {
	model *detect.Model
	gen   uint64
	// fromStore is set when the model is its stored bytes with the config
	// of gen applied. On a config change such a model is reloaded from
	// storage rather than reconfigured in memory, because a rebuild for a
	// smaller retention loses points that the stored bytes still have.
	fromStore bool
}

func newTenant(id string) *tenant {
	return &tenant{id: id, models: map[string]*entry{}}
}

// call is the state of one Execute call of a tenant. Its methods run with
// the tenant's mutex held.
type call struct {
	ctx   context.Context
	p     *Plugin
	t     *tenant
	cfg   Config
	gen   uint64
	store sdk.Store
	// noStorage is set when the host offered no storage during the call.
	noStorage bool
}

// storageNote returns the note that a result message carries the first
// time a tenant's call finds storage unavailable, and "" otherwise.
func (c *call) storageNote() string {
	if !c.noStorage || c.t.storageWarned {
		return ""
	}
	c.t.storageWarned = true
	c.p.log.Warn("host storage unavailable; keeping models in memory only", "tenant", c.t.id)
	return " (host storage is unavailable: models are kept in memory only and are lost when the plugin stops)"
}

// storageErr classifies a storage error: nil for "unavailable", which is
// recorded, and a wrapped error otherwise.
func (c *call) storageErr(err error, action string) error {
	if errors.Is(err, sdk.ErrStorageUnavailable) {
		c.noStorage = true
		return nil
	}
	c.p.log.Error("storage failed", "tenant", c.t.id, "action", action, "error", err)
	return &opError{code: codeStorage, msg: fmt.Sprintf("%s: %v", action, err), retryable: true}
}

// knownNames returns every metric of the tenant, listing stored ones once.
func (c *call) knownNames() (map[string]bool, error) {
	if c.t.names != nil {
		return c.t.names, nil
	}
	names := map[string]bool{}
	for name := range c.t.models {
		names[name] = true
	}
	keys, err := c.store.List(c.ctx, modelKeyPrefix)
	if err != nil {
		if err := c.storageErr(err, "list stored metrics"); err != nil {
			return nil, err
		}
	}
	for _, k := range keys {
		names[strings.TrimPrefix(k, modelKeyPrefix)] = true
	}
	c.t.names = names
	return names, nil
}

// sortedNames returns knownNames in order.
func (c *call) sortedNames() ([]string, error) {
	names, err := c.knownNames()
	if err != nil {
		return nil, err
	}
	return slices.Sorted(maps.Keys(names)), nil
}

// model returns the metric's model, loading it from storage on first use
// and applying the current config. found is false when the metric is
// neither in memory nor stored.
//
// The stored bytes are the source of truth: after a config change a model
// is rebuilt from them, as a restarted plugin would do, and only a model
// that storage does not hold is reconfigured in memory. A config change
// alone writes nothing.
func (c *call) model(name string) (m *detect.Model, found bool, err error) {
	if e := c.t.models[name]; e != nil {
		if e.gen == c.gen {
			return e.model, true, nil
		}
		if !e.fromStore {
			return c.reconfigureInMemory(name, e)
		}
		// Reloaded below; the entry is dropped first, so that a failed load
		// leaves no model of an older config behind.
		delete(c.t.models, name)
		m, found, err := c.load(name)
		if err == nil && !found && c.noStorage {
			return c.reconfigureInMemory(name, e)
		}
		return m, found, err
	}
	return c.load(name)
}

// reconfigureInMemory applies the current config to a model that exists
// only in memory.
func (c *call) reconfigureInMemory(name string, e *entry) (*detect.Model, bool, error) {
	if err := e.model.Reconfigure(c.cfg.Config); err != nil {
		return nil, false, err
	}
	e.gen, e.fromStore = c.gen, false
	c.t.models[name] = e
	return e.model, true, nil
}

// load reads the metric's model from storage and applies the current
// config.
func (c *call) load(name string) (*detect.Model, bool, error) {
	data, ok, err := c.store.Get(c.ctx, modelKeyPrefix+name)
	if err != nil {
		return nil, false, c.storageErr(err, fmt.Sprintf("load metric %q", name))
	}
	if !ok {
		return nil, false, nil
	}
	m, err := detect.UnmarshalModel(data)
	if err != nil {
		c.p.log.Error("stored model is unreadable", "tenant", c.t.id, "metric", name, "error", err)
		return nil, false, &opError{code: codeStorage, msg: fmt.Sprintf(
			"stored model of metric %q is unreadable (%v): clear it with clear_metrics", name, err)}
	}
	if err := m.Reconfigure(c.cfg.Config); err != nil {
		return nil, false, err
	}
	c.t.models[name] = &entry{model: m, gen: c.gen, fromStore: true}
	c.p.log.Debug("loaded model", "tenant", c.t.id, "metric", name, "samples", m.Samples())
	return m, true, nil
}

// existing returns the metric's model or a not_found error.
func (c *call) existing(name string) (*detect.Model, error) {
	if err := validMetricName(name); err != nil {
		return nil, err
	}
	m, found, err := c.model(name)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, &opError{code: codeNotFound, msg: fmt.Sprintf("metric %q not found: ingest points for it first", name)}
	}
	return m, nil
}

// newModel returns an empty model for a new metric, checking max_metrics.
func (c *call) newModel(name string, adding int) (*detect.Model, error) {
	names, err := c.knownNames()
	if err != nil {
		return nil, err
	}
	if !names[name] && len(names)+adding >= c.cfg.MaxMetrics {
		return nil, &opError{code: codeLimit, msg: fmt.Sprintf(
			"metric %q would exceed max_metrics (%d): clear unused metrics or raise max_metrics", name, c.cfg.MaxMetrics)}
	}
	return detect.NewModel(name, c.cfg.Config)
}

// save stores models and, once all are stored, makes them the tenant's
// current models. When a store fails, the models already written get
// their previous stored bytes back, or are deleted when they were new, and
// nothing changes in memory.
func (c *call) save(models []*detect.Model) error {
	var written []*detect.Model
	// previous holds the stored bytes that a failed save of several models
	// puts back. A single model needs none: its one Put either failed or
	// succeeded.
	previous := map[string][]byte{}
	for _, m := range models {
		data, err := m.MarshalBinary()
		if err != nil {
			c.restore(written, previous)
			return err
		}
		key := modelKeyPrefix + m.Name()
		if len(models) > 1 {
			old, found, err := c.store.Get(c.ctx, key)
			if err == nil && found {
				previous[m.Name()] = old
			}
			if err != nil {
				if err := c.storageErr(err, fmt.Sprintf("read metric %q before storing it", m.Name())); err != nil {
					c.restore(written, previous)
					return err
				}
				break // no storage: keep every model in memory only
			}
		}
		if err := c.store.Put(c.ctx, key, data); err != nil {
			if err := c.storageErr(err, fmt.Sprintf("store metric %q", m.Name())); err != nil {
				c.restore(written, previous)
				return err
			}
			break // no storage: keep every model in memory only
		}
		written = append(written, m)
	}
	for _, m := range models {
		c.t.models[m.Name()] = &entry{model: m, gen: c.gen, fromStore: !c.noStorage}
		if c.t.names != nil {
			c.t.names[m.Name()] = true
		}
	}
	return nil
}

// restore writes back the previous stored bytes of models after a failed
// save, or deletes the ones that were new.
func (c *call) restore(written []*detect.Model, previous map[string][]byte) {
	for _, m := range written {
		key := modelKeyPrefix + m.Name()
		var err error
		if data, ok := previous[m.Name()]; ok {
			err = c.store.Put(c.ctx, key, data)
		} else {
			err = c.store.Delete(c.ctx, key)
		}
		if err != nil {
			c.p.log.Error("restoring a stored model after a failed save failed", "tenant", c.t.id, "metric", m.Name(), "error", err)
		}
	}
}

// ValidateMetricName returns an error that explains why name cannot name
// a metric: it is empty, longer than 200 bytes, or contains a space or an
// unprintable character. Clients use it to reject a name before they send
// any points.
func ValidateMetricName(name string) error {
	return validMetricName(name)
}

// validMetricName rejects empty, overlong and unprintable metric names.
func validMetricName(name string) error {
	switch {
	case name == "":
		return &opError{code: codeInvalid, msg: "missing metric name"}
	case len(name) > maxMetricNameBytes:
		return &opError{code: codeInvalid, msg: fmt.Sprintf("metric name %.40q... is %d bytes, at most %d are allowed", name, len(name), maxMetricNameBytes)}
	case strings.IndexFunc(name, func(r rune) bool { return !unicode.IsPrint(r) || unicode.IsSpace(r) }) >= 0:
		return &opError{code: codeInvalid, msg: fmt.Sprintf("invalid metric name %q: use printable characters without spaces", name)}
	}
	return nil
}
