package anomaly

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"

	"github.com/mockforge/mockforged/sdk"
)

// memStore is an in-memory sdk.Store for unit tests, shared by tenants
// through memStorage. failPut makes Put fail for keys with that prefix.
type memStore struct {
	mu      sync.Mutex
	data    map[string][]byte
	failPut string
	puts    int
}

var _ sdk.Store = (*memStore)(nil)

func (s *memStore) Put(_ context.Context, key string, value []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failPut != "" && strings.HasPrefix(key, s.failPut) {
		return errors.New("storage quota exceeded")
	}
	s.puts++
	s.data[key] = slices.Clone(value)
	return nil
}

func (s *memStore) Get(_ context.Context, key string) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.data[key]
	return slices.Clone(v), ok, nil
}

func (s *memStore) Delete(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.data, key)
	return nil
}

func (s *memStore) List(_ context.Context, prefix string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var keys []string
	for k := range s.data {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys, nil
}

// memStorage keeps one memStore per tenant.
type memStorage struct {
	mu      sync.Mutex
	tenants map[string]*memStore
}

func newMemStorage() *memStorage {
	return &memStorage{tenants: map[string]*memStore{}}
}

func (m *memStorage) For(_ context.Context, tenant string) sdk.Store {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.tenants[tenant]
	if s == nil {
		s = &memStore{data: map[string][]byte{}}
		m.tenants[tenant] = s
	}
	return s
}
