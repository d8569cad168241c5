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
func (c *call) model(name string) (m *detect.Model, found bool, err error) {
	if e := c.t.models[name]; e != nil {
		if e.gen != c.gen {
			if err := e.model.Reconfigure(c.cfg.Config); err != nil {
				return nil, false, err
			}
			e.gen = c.gen
		}
		return e.model, true, nil
	}
	data, ok, err := c.store.Get(c.ctx, modelKeyPrefix+name)
	if err != nil {
		return nil, false, c.storageErr(err, fmt.Sprintf("load metric %q", name))
	}
	if !ok {
		return nil, false, nil
	}
	m, err = detect.UnmarshalModel(data)
	if err != nil {
		c.p.log.Error("stored model is unreadable", "tenant", c.t.id, "metric", name, "error", err)
		return nil, false, &opError{code: codeStorage, msg: fmt.Sprintf(
			"stored model of metric %q is unreadable (%v): clear it with clear_metrics", name, err)}
	}
	if err := m.Reconfigure(c.cfg.Config); err != nil {
		return nil, false, err
	}
	c.t.models[name] = &entry{model: m, gen: c.gen}
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
// current models. When a store fails, the models already written are
// restored to their previous bytes where possible and nothing changes in
// memory.
func (c *call) save(models []*detect.Model) error {
	var written []*detect.Model
	for _, m := range models {
		data, err := m.MarshalBinary()
		if err != nil {
			return err
		}
		if err := c.store.Put(c.ctx, modelKeyPrefix+m.Name(), data); err != nil {
			if err := c.storageErr(err, fmt.Sprintf("store metric %q", m.Name())); err != nil {
				c.restore(written)
				return err
			}
			break // no storage: keep every model in memory only
		}
		written = append(written, m)
	}
	for _, m := range models {
		c.t.models[m.Name()] = &entry{model: m, gen: c.gen}
		if c.t.names != nil {
			c.t.names[m.Name()] = true
		}
	}
	return nil
}

// restore writes back the previous stored bytes of models after a failed
// save, or deletes the ones that were new.
func (c *call) restore(written []*detect.Model) {
	for _, m := range written {
		key := modelKeyPrefix + m.Name()
		var err error
		if e := c.t.models[m.Name()]; e != nil {
			var data []byte
			if data, err = e.model.MarshalBinary(); err == nil {
				err = c.store.Put(c.ctx, key, data)
			}
		} else {
			err = c.store.Delete(c.ctx, key)
		}
		if err != nil {
			c.p.log.Error("restoring a stored model after a failed save failed", "tenant", c.t.id, "metric", m.Name(), "error", err)
		}
	}
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
