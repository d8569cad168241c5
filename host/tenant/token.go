package tenant

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"go.etcd.io/bbolt"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mockforge/mockforged/host/clock"
)

// TokenPrefix starts every token, so that a leaked token is easy to
// recognise in logs and by secret scanners.
const TokenPrefix = "mft_"

// maxDescriptionBytes bounds a token's description.
const maxDescriptionBytes = 256

// TokenInfo describes a token. It never contains the token itself, which
// only CreateToken returns, once.
type TokenInfo struct {
	// ID identifies the token for listing and revoking; it is not secret.
	ID string `json:"id"`
	// Tenant is the tenant the token acts as.
	Tenant string `json:"tenant"`
	// Description is free text set at creation, such as who holds it.
	Description string `json:"description,omitempty"`
	// CreatedAt is in UTC.
	CreatedAt time.Time `json:"created_at"`
	// Sequence numbers the tokens in creation order, which CreatedAt
	// loses when the wall clock steps back. Tokens stored before it was
	// recorded have zero.
	Sequence uint64 `json:"sequence,omitempty"`
}

// tokenHash is the SHA-256 of a token. Tokens carry 256 random bits, so a
// fast hash is enough to make the stored form useless to a reader of the
// store: there is no password to guess.
type tokenHash [sha256.Size]byte

func hashToken(token string) tokenHash {
	return sha256.Sum256([]byte(token))
}

// tokenIndex keeps every token's info in memory, by hash and by tenant.
type tokenIndex struct {
	mu       sync.RWMutex
	byHash   map[tokenHash]TokenInfo
	byTenant map[string]map[string]tokenHash
}

func newTokenIndex() tokenIndex {
	return tokenIndex{byHash: map[tokenHash]TokenInfo{}, byTenant: map[string]map[string]tokenHash{}}
}

func (x *tokenIndex) add(h tokenHash, info TokenInfo) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.byHash[h] = info
	if x.byTenant[info.Tenant] == nil {
		x.byTenant[info.Tenant] = map[string]tokenHash{}
	}
	x.byTenant[info.Tenant][info.ID] = h
}

func (x *tokenIndex) remove(tenant, id string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	h, ok := x.byTenant[tenant][id]
	if !ok {
		return
	}
	delete(x.byHash, h)
	delete(x.byTenant[tenant], id)
}

func (x *tokenIndex) lookup(h tokenHash) (TokenInfo, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	info, ok := x.byHash[h]
	return info, ok
}

func (x *tokenIndex) find(tenant, id string) (tokenHash, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	h, ok := x.byTenant[tenant][id]
	return h, ok
}

func (x *tokenIndex) count(tenant string) int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.byTenant[tenant])
}

func (x *tokenIndex) list(tenant string) []TokenInfo {
	x.mu.RLock()
	defer x.mu.RUnlock()
	out := make([]TokenInfo, 0, len(x.byTenant[tenant]))
	for _, h := range x.byTenant[tenant] {
		out = append(out, x.byHash[h])
	}
	slices.SortFunc(out, func(a, b TokenInfo) int {
		if c := cmp.Compare(a.Sequence, b.Sequence); c != 0 {
			return c
		}
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// CreateToken creates a token that acts as the named tenant and returns it
// with its info. The token is returned only here: the store keeps its
// SHA-256. A tenant may hold as many tokens as its users quota allows.
// Disabled tenants can get tokens too; with one they can read their own
// record until they are enabled.
func (m *Manager) CreateToken(ctx context.Context, name, description string) (token string, info TokenInfo, err error) {
	if len(description) > maxDescriptionBytes || !utf8.ValidString(description) {
		return "", TokenInfo{}, errInvalid(fmt.Errorf("invalid token description: use at most %d bytes of UTF-8 text", maxDescriptionBytes))
	}
	token = newToken()
	h := hashToken(token)
	err = m.write(ctx, func(tx *bbolt.Tx) (func(), error) {
		st, err := m.state(name)
		if err != nil {
			return nil, err
		}
		t := st.record.Load()
		limit := t.Quotas().Users
		if held := int64(m.tokens.count(name)); !limit.Allows(held + 1) {
			return nil, errQuotaExceeded(*t, QuotaUsers,
				fmt.Sprintf("holds %d of %s tokens allowed", held, limit),
				fmt.Sprintf("revoke one with `mockforged tenants token revoke %s ID`, or raise the limit with `mockforged tenants set-quota %s --max-users N`", name, name))
		}
		id := newTokenID()
		for _, taken := m.tokens.find(name, id); taken; _, taken = m.tokens.find(name, id) {
			id = newTokenID()
		}
		seq, err := tx.Bucket(bucketTokens).NextSequence()
		if err != nil {
			return nil, err
		}
		info = TokenInfo{ID: id, Tenant: name, Description: description, CreatedAt: clock.Now().UTC(), Sequence: seq}
		data, err := json.Marshal(info)
		if err != nil {
			return nil, err
		}
		if err := tx.Bucket(bucketTokens).Put(h[:], data); err != nil {
			return nil, err
		}
		return func() { m.tokens.add(h, info) }, nil
	})
	if err != nil {
		return "", TokenInfo{}, err
	}
	m.log.Info("token created", "tenant", name, "token_id", info.ID)
	return token, info, nil
}

// ListTokens returns the info of the named tenant's tokens in creation
// order.
func (m *Manager) ListTokens(name string) ([]TokenInfo, error) {
	if _, err := m.state(name); err != nil {
		return nil, err
	}
	return m.tokens.list(name), nil
}

// RevokeToken deletes the token with the given ID from the named tenant.
// The token stops working at once.
func (m *Manager) RevokeToken(ctx context.Context, name, id string) error {
	err := m.write(ctx, func(tx *bbolt.Tx) (func(), error) {
		if _, err := m.state(name); err != nil {
			return nil, err
		}
		h, ok := m.tokens.find(name, id)
		if !ok {
			return nil, status.Errorf(codes.NotFound,
				"tenant %q has no token with ID %q; list its tokens with `mockforged tenants token list %s`", name, id, name)
		}
		if err := tx.Bucket(bucketTokens).Delete(h[:]); err != nil {
			return nil, err
		}
		return func() { m.tokens.remove(name, id) }, nil
	})
	if err != nil {
		return err
	}
	m.log.Info("token revoked", "tenant", name, "token_id", id)
	return nil
}

// VerifyToken returns the tenant and token ID that token acts as. An unknown
// or revoked token fails with Unauthenticated. It reads memory only.
func (m *Manager) VerifyToken(token string) (tenantID, tokenID string, err error) {
	info, ok := m.tokens.lookup(hashToken(token))
	if !ok {
		return "", "", status.Error(codes.Unauthenticated,
			"invalid or revoked token; ask an administrator for a new one (`mockforged tenants token create TENANT`)")
	}
	return info.Tenant, info.ID, nil
}

// newToken returns TokenPrefix followed by 256 random bits in base64url.
// crypto/rand.Read never returns an error since Go 1.24.
func newToken() string {
	var secret [32]byte
	_, _ = rand.Read(secret[:])
	return TokenPrefix + base64.RawURLEncoding.EncodeToString(secret[:])
}

// newTokenID returns 12 random hexadecimal digits.
func newTokenID() string {
	var id [6]byte
	_, _ = rand.Read(id[:])
	return hex.EncodeToString(id[:])
}
