package anomaly

import (
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"

	"github.com/mockforge/mockforged/builtin/anomaly/detect"
)

// Scan session limits.
const (
	// maxSessions bounds the open scan sessions of the plugin.
	maxSessions = 64
	// sessionIdleTimeout is how long an unused scan session is kept.
	sessionIdleTimeout = 10 * time.Minute
)

// session is an open scan: a private model that batches of points go
// through until the scan commits or aborts.
type session struct {
	id     string
	tenant string
	metric string
	model  *detect.Model
	// storedNewest is the newest point of the stored metric when the scan
	// started; zero when the metric had none. Under the drop policy, points
	// at or before it are dropped as already stored.
	storedNewest time.Time
	lastUsed     time.Time
}

// sessionTable holds the open scan sessions.
type sessionTable struct {
	mu       sync.Mutex
	sessions map[string]*session
	now      func() time.Time
}

func newSessionTable() *sessionTable {
	return &sessionTable{sessions: map[string]*session{}, now: time.Now}
}

// add stores a new session after expiring idle ones; it returns false when
// the table is full.
func (t *sessionTable) add(s *session) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.expireLocked()
	if len(t.sessions) >= maxSessions {
		return false
	}
	s.id = newSessionID()
	s.lastUsed = t.now()
	t.sessions[s.id] = s
	return true
}

// get returns the tenant's session with id, or nil.
func (t *sessionTable) get(id, tenant string) *session {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.expireLocked()
	s := t.sessions[id]
	if s == nil || s.tenant != tenant {
		return nil
	}
	s.lastUsed = t.now()
	return s
}

func (t *sessionTable) remove(id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.sessions, id)
}

func (t *sessionTable) clear() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sessions = map[string]*session{}
}

func (t *sessionTable) expireLocked() {
	cutoff := t.now().Add(-sessionIdleTimeout)
	for id, s := range t.sessions {
		if s.lastUsed.Before(cutoff) {
			delete(t.sessions, id)
		}
	}
}

func newSessionID() string {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("anomaly: crypto/rand failed: " + err.Error())
	}
	return "scan-" + hex.EncodeToString(b[:])
}
