package tenant

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"go.etcd.io/bbolt"
)

// DefaultLockTimeout is how long Open waits for another process to release
// the store file when Options.LockTimeout is zero.
const DefaultLockTimeout = 2 * time.Second

// Options configure Open. The zero value is ready to use.
type Options struct {
	// Logger receives the manager's logs; nil discards them.
	Logger hclog.Logger
	// LockTimeout is how long Open waits for another process to release the
	// store file before it fails with ErrStoreLocked. Zero means
	// DefaultLockTimeout.
	LockTimeout time.Duration
	// Now returns the current time for the rate limit's window; nil means
	// time.Now. Tests set it to control the window. It must return times
	// that carry a monotonic clock reading, as time.Now does, or times built
	// by adding durations to one. Record timestamps, such as a tenant's
	// creation time, come from the wall clock in package clock instead.
	Now func() time.Time
}

// Manager keeps every tenant, token, usage counter and plugin storage entry.
// Records live in a bbolt file and a copy of every tenant record lives in
// memory, so that Admit reads no file. Concurrent-execution counters and
// rate-limit windows live in memory only: they start at zero on Open because
// no call survives a restart.
//
// All methods are safe for concurrent use.
type Manager struct {
	db   *bbolt.DB
	path string
	log  hclog.Logger
	now  func() time.Time
	// epoch is the time Open ran; rate-limit windows store offsets from it,
	// which follow the monotonic clock.
	epoch time.Time

	// writeMu serialises writes so that the in-memory records always match
	// the last committed transaction. bbolt serialises write transactions
	// anyway, so it costs no concurrency.
	writeMu sync.Mutex

	// mu guards the maps below. The tenantState values are never replaced,
	// so a pointer read under mu stays valid.
	mu      sync.RWMutex
	tenants map[string]*tenantState
	tokens  tokenIndex
}

// tenantState is the in-memory state of one tenant.
type tenantState struct {
	// record is the last committed record. It is replaced, never changed.
	record atomic.Pointer[Tenant]
	// running counts the calls admitted and not yet released.
	running atomic.Int64
	window  slidingWindow
}

// Open opens the tenant store at path, creating it when the file does not
// exist, and loads every tenant and token into memory. A damaged file fails
// with ErrStoreCorrupt and a file that another process holds open fails
// with ErrStoreLocked after opts.LockTimeout; neither is ever replaced by an
// empty store.
func Open(path string, opts Options) (*Manager, error) {
	log := opts.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	if opts.LockTimeout <= 0 {
		opts.LockTimeout = DefaultLockTimeout
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}

	started := time.Now()
	db, err := openDB(path, opts.LockTimeout)
	if err != nil {
		return nil, err
	}
	data, err := loadData(db, path)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	m := &Manager{
		db:      db,
		path:    path,
		log:     log,
		now:     now,
		epoch:   now(),
		tenants: make(map[string]*tenantState, len(data.tenants)),
		tokens:  newTokenIndex(),
	}
	if err := m.install(data); err != nil {
		_ = db.Close()
		return nil, err
	}
	log.Info("tenant store opened", "path", path, "tenants", len(data.tenants),
		"tokens", len(data.tokens), "duration", time.Since(started))
	return m, nil
}

// install puts loaded data into memory and corrects any tenant whose
// recorded storage size differs from what its entries take. Every write
// changes both in one transaction, so a difference means a bug, and the
// entries are the truth.
func (m *Manager) install(data storedData) error {
	var corrected []Tenant
	for _, t := range data.tenants {
		if measured := data.storageBytes[t.Name]; measured != t.StorageBytes {
			m.log.Warn("correcting recorded storage size of tenant", "tenant", t.Name,
				"recorded_bytes", t.StorageBytes, "measured_bytes", measured)
			t.StorageBytes = measured
			corrected = append(corrected, t)
		}
		st := &tenantState{}
		st.record.Store(&t)
		m.tenants[t.Name] = st
	}
	for _, tok := range data.tokens {
		m.tokens.add(tok.hash, tok.info)
	}
	if len(corrected) == 0 {
		return nil
	}
	return m.db.Update(func(tx *bbolt.Tx) error {
		for _, t := range corrected {
			if err := putTenant(tx, t); err != nil {
				return err
			}
		}
		return nil
	})
}

// Close closes the store file. Calls that are still admitted keep their
// release functions, which keep working.
func (m *Manager) Close() error {
	m.writeMu.Lock()
	defer m.writeMu.Unlock()
	if err := m.db.Close(); err != nil {
		return errStore(m.path, err)
	}
	m.log.Info("tenant store closed", "path", m.path)
	return nil
}

// Path returns the store file's path.
func (m *Manager) Path() string { return m.path }

// state returns the in-memory state of the named tenant.
func (m *Manager) state(name string) (*tenantState, error) {
	m.mu.RLock()
	st := m.tenants[name]
	m.mu.RUnlock()
	if st == nil {
		return nil, errTenantNotFound(name)
	}
	return st, nil
}

// Get returns the named tenant's record.
func (m *Manager) Get(name string) (Tenant, error) {
	st, err := m.state(name)
	if err != nil {
		return Tenant{}, err
	}
	return st.record.Load().clone(), nil
}

// List returns every tenant's record, sorted by name.
func (m *Manager) List() []Tenant {
	m.mu.RLock()
	out := make([]Tenant, 0, len(m.tenants))
	for _, st := range m.tenants {
		out = append(out, st.record.Load().clone())
	}
	m.mu.RUnlock()
	slices.SortFunc(out, func(a, b Tenant) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// errNoChange ends a write without committing anything; write returns nil.
var errNoChange = errors.New("no change")

// write runs fn in one write transaction. fn returns a function that
// updates memory; it runs only after the commit succeeded, so memory never
// shows a change that the file does not have.
func (m *Manager) write(ctx context.Context, fn func(tx *bbolt.Tx) (apply func(), err error)) error {
	if err := ctx.Err(); err != nil {
		return contextError(err)
	}
	m.writeMu.Lock()
	defer m.writeMu.Unlock()
	var apply func()
	err := m.db.Update(func(tx *bbolt.Tx) error {
		var err error
		apply, err = fn(tx)
		return err
	})
	if errors.Is(err, errNoChange) {
		return nil
	}
	if err != nil {
		err = errStore(m.path, err)
		m.logStoreError(err)
		return err
	}
	if apply != nil {
		apply()
	}
	return nil
}

// update changes the named tenant's record in one write transaction. fn
// changes a copy of the record and may write other keys in tx.
func (m *Manager) update(ctx context.Context, name string, fn func(tx *bbolt.Tx, t *Tenant) error) (Tenant, error) {
	var result Tenant
	err := m.write(ctx, func(tx *bbolt.Tx) (func(), error) {
		st, err := m.state(name)
		if err != nil {
			return nil, err
		}
		rec := st.record.Load().clone()
		if err := fn(tx, &rec); errors.Is(err, errNoChange) {
			result = *st.record.Load()
			return nil, err
		} else if err != nil {
			return nil, err
		}
		if err := putTenant(tx, rec); err != nil {
			return nil, err
		}
		result = rec
		return func() { st.record.Store(&rec) }, nil
	})
	if err != nil {
		return Tenant{}, err
	}
	return result.clone(), nil
}

// logStoreError logs errors of the store itself; errors about a request
// are the caller's to report.
func (m *Manager) logStoreError(err error) {
	if isInternal(err) {
		m.log.Error("tenant store write failed", "path", m.path, "error", err)
	}
}
