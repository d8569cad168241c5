package tenant

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
)

func TestTokenLifecycle(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), StoreFileName)
	m := openManagerAt(t, path, nil)
	mustCreate(t, m, "acme", PlanStarter)
	mustCreate(t, m, "beta", PlanStarter)

	tokA1, infoA1, err := m.CreateToken(ctx, "acme", "ci pipeline")
	if err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	tokA2, infoA2, err := m.CreateToken(ctx, "acme", "")
	if err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	tokB, _, err := m.CreateToken(ctx, "beta", "")
	if err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	if !strings.HasPrefix(tokA1, TokenPrefix) || len(tokA1) != len(TokenPrefix)+43 {
		t.Errorf("token %q lacks the prefix %q or 256 bits of base64url", tokA1, TokenPrefix)
	}
	if tokA1 == tokA2 || infoA1.ID == infoA2.ID {
		t.Error("two tokens are equal")
	}

	for tok, want := range map[string]string{tokA1: "acme", tokA2: "acme", tokB: "beta"} {
		tenant, id, err := m.VerifyToken(tok)
		if err != nil || tenant != want || id == "" {
			t.Errorf("VerifyToken = %q, %q, %v; want tenant %q", tenant, id, err, want)
		}
	}
	_, _, err = m.VerifyToken(TokenPrefix + "forged")
	wantCode(t, err, codes.Unauthenticated)

	list, err := m.ListTokens("acme")
	if err != nil || len(list) != 2 || list[0].Description != "ci pipeline" {
		t.Errorf("ListTokens = %+v, %v", list, err)
	}

	// The file contains token hashes only.
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{tokA1, tokA2, tokB} {
		if bytes.Contains(raw, []byte(tok)) || bytes.Contains(raw, []byte(tok[len(TokenPrefix):])) {
			t.Errorf("the store file contains a token in clear")
		}
	}

	m = openManagerAt(t, path, nil)
	if tenant, _, err := m.VerifyToken(tokA1); err != nil || tenant != "acme" {
		t.Errorf("VerifyToken after reopening = %q, %v", tenant, err)
	}
	if err := m.RevokeToken(ctx, "acme", infoA1.ID); err != nil {
		t.Fatalf("RevokeToken: %v", err)
	}
	_, _, err = m.VerifyToken(tokA1)
	wantCode(t, err, codes.Unauthenticated)
	if _, _, err := m.VerifyToken(tokA2); err != nil {
		t.Errorf("the other token stopped working: %v", err)
	}
	wantCode(t, m.RevokeToken(ctx, "acme", infoA1.ID), codes.NotFound)
	wantCode(t, m.RevokeToken(ctx, "beta", infoA2.ID), codes.NotFound)
	wantCode(t, m.RevokeToken(ctx, "ghost", infoA2.ID), codes.NotFound)

	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	m = openManagerAt(t, path, nil)
	_, _, err = m.VerifyToken(tokA1)
	wantCode(t, err, codes.Unauthenticated)
}

func TestTokenUsersQuota(t *testing.T) {
	ctx := context.Background()
	m := openTestManager(t, nil)
	for _, spec := range Plans() {
		t.Run(string(spec.Name), func(t *testing.T) {
			name := "u-" + string(spec.Name)
			mustCreate(t, m, name, spec.Name)
			n := spec.Quotas.Users.Max()
			if spec.Quotas.Users.IsUnlimited() {
				n = 40 // more than any limited plan allows
			}
			for i := range n {
				if _, _, err := m.CreateToken(ctx, name, ""); err != nil {
					t.Fatalf("token %d of %s: %v", i+1, spec.Quotas.Users, err)
				}
			}
			if spec.Quotas.Users.IsUnlimited() {
				return
			}
			_, _, err := m.CreateToken(ctx, name, "")
			s := wantCode(t, err, codes.ResourceExhausted)
			if !strings.Contains(s.Message(), "token revoke "+name) {
				t.Errorf("message %q does not say how to revoke a token", s.Message())
			}
		})
	}
}

func TestTokenInvalidDescription(t *testing.T) {
	m := openTestManager(t, nil)
	mustCreate(t, m, "acme", PlanFree)
	_, _, err := m.CreateToken(context.Background(), "acme", strings.Repeat("d", 257))
	wantCode(t, err, codes.InvalidArgument)
	_, _, err = m.CreateToken(context.Background(), "ghost", "")
	wantCode(t, err, codes.NotFound)
}

// TestTokenListCreationOrder lists tokens whose creation times run against
// their creation order, as after the wall clock stepped back.
func TestTokenListCreationOrder(t *testing.T) {
	x := newTokenIndex()
	now := time.Now().UTC()
	tokens := []TokenInfo{
		{ID: "legacy", Tenant: "acme", CreatedAt: now.Add(-48 * time.Hour)},
		{ID: "ahead", Tenant: "acme", CreatedAt: now.Add(25 * time.Hour), Sequence: 1},
		{ID: "behind", Tenant: "acme", CreatedAt: now.Add(-2 * time.Hour), Sequence: 2},
	}
	for i, info := range []TokenInfo{tokens[2], tokens[0], tokens[1]} {
		x.add(hashToken(fmt.Sprint("token-", i)), info)
	}
	var got []string
	for _, info := range x.list("acme") {
		got = append(got, info.ID)
	}
	if want := []string{"legacy", "ahead", "behind"}; !slices.Equal(got, want) {
		t.Errorf("tokens listed as %v, want %v", got, want)
	}
}

func TestCreateTokenNumbersTokens(t *testing.T) {
	m := openTestManager(t, nil)
	ctx := context.Background()
	if _, err := m.Create(ctx, "acme", PlanEnterprise); err != nil {
		t.Fatal(err)
	}
	var last uint64
	for i := range 3 {
		_, info, err := m.CreateToken(ctx, "acme", "")
		if err != nil {
			t.Fatal(err)
		}
		if info.Sequence <= last {
			t.Errorf("token %d has sequence %d, want more than %d", i, info.Sequence, last)
		}
		last = info.Sequence
	}
}
