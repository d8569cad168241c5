package auth

import (
	"context"
	"os"
	"slices"
	"strings"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// MetadataKey is the gRPC metadata key that carries "Bearer TOKEN".
const MetadataKey = "authorization"

// EnvToken is the environment variable from which clients read a token.
const EnvToken = "MOCKFORGE_TOKEN"

// bearerScheme is the scheme in the authorization value, matched without
// regard to case.
const bearerScheme = "bearer "

// TokenVerifier resolves a token to the tenant it acts as. tenant.Manager
// implements it. An unknown or revoked token returns an error.
type TokenVerifier interface {
	VerifyToken(token string) (tenantID, tokenID string, err error)
}

// Config configures an Authenticator.
type Config struct {
	// AdminUIDs are the uids whose callers are administrators. The daemon
	// passes DefaultAdminUIDs(); tests pass others to exercise the token
	// path without a second user.
	AdminUIDs []uint32
	// Tokens verifies tokens. It is required.
	Tokens TokenVerifier
	// Logger receives refusals; nil discards them.
	Logger hclog.Logger
	// PublicMethods are full gRPC method names, such as
	// "/grpc.health.v1.Health/Check", that anonymous callers may call.
	PublicMethods []string
	// DefaultTenant is the tenant ResolveTenant picks for an administrator
	// who names none; empty means administrators must name one.
	DefaultTenant string
}

// DefaultAdminUIDs returns the daemon's own uid and root's.
func DefaultAdminUIDs() []uint32 {
	uid := uint32(os.Getuid())
	if uid == 0 {
		return []uint32{0}
	}
	return []uint32{uid, 0}
}

// Authenticator resolves the caller of every request from the peer's uid
// and an optional tenant token.
type Authenticator struct {
	cfg     Config
	log     hclog.Logger
	refusal *logLimiter
}

// New returns an Authenticator for cfg. It panics when cfg.Tokens is nil,
// which is a programming error.
func New(cfg Config) *Authenticator {
	if cfg.Tokens == nil {
		panic("auth: Config.Tokens is nil")
	}
	log := cfg.Logger
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &Authenticator{cfg: cfg, log: log, refusal: newLogLimiter()}
}

// UnaryInterceptor returns a server interceptor that stores the Caller in
// the request's context, read it with CallerFrom, or rejects the request
// with Unauthenticated.
func (a *Authenticator) UnaryInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		caller, err := a.Authenticate(ctx, info.FullMethod)
		if err != nil {
			return nil, err
		}
		return handler(NewContext(ctx, caller), req)
	}
}

// StreamInterceptor is the streaming counterpart of UnaryInterceptor.
func (a *Authenticator) StreamInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		caller, err := a.Authenticate(ss.Context(), info.FullMethod)
		if err != nil {
			return err
		}
		return handler(srv, &callerStream{ServerStream: ss, ctx: NewContext(ss.Context(), caller)})
	}
}

type callerStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *callerStream) Context() context.Context { return s.ctx }

// Authenticate resolves the caller of a request to method. The peer's uid
// comes from TransportCredentials; a token, when present, must be valid even
// for an administrator. Anonymous callers may call only PublicMethods.
func (a *Authenticator) Authenticate(ctx context.Context, method string) (Caller, error) {
	peerInfo, ok := PeerFrom(ctx)
	if !ok {
		a.log.Error("request without peer credentials; serve the API with auth.TransportCredentials on a unix socket", "method", method)
		return Caller{}, status.Error(codes.Unauthenticated,
			"the daemon cannot identify the caller: the connection carries no peer credentials")
	}
	caller := Caller{
		UID:   peerInfo.UID,
		GID:   peerInfo.GID,
		PID:   peerInfo.PID,
		Admin: slices.Contains(a.cfg.AdminUIDs, peerInfo.UID),
	}

	token, present, err := tokenFromMetadata(ctx)
	if err != nil {
		a.refusal.warn(a.log, "request rejected: malformed authorization metadata", "uid", caller.UID, "pid", caller.PID, "method", method)
		return Caller{}, err
	}
	if present {
		tenantID, tokenID, err := a.cfg.Tokens.VerifyToken(token)
		if err != nil {
			a.refusal.warn(a.log, "request rejected: invalid or revoked token", "uid", caller.UID, "pid", caller.PID, "method", method)
			return Caller{}, status.Error(codes.Unauthenticated,
				"invalid or revoked token; ask an administrator for a new one (`mockforged tenants token create TENANT`)")
		}
		caller.Tenant, caller.TokenID = tenantID, tokenID
	}

	if caller.Anonymous() && !slices.Contains(a.cfg.PublicMethods, method) {
		a.refusal.warn(a.log, "request rejected: caller is not an administrator and sent no token", "uid", caller.UID, "pid", caller.PID, "method", method)
		return Caller{}, status.Errorf(codes.Unauthenticated,
			"uid %d is not an administrator of this daemon; pass a tenant token with --token or the %s environment variable",
			caller.UID, EnvToken)
	}
	return caller, nil
}

// tokenFromMetadata returns the token of the "authorization: Bearer TOKEN"
// metadata; present is false when the key is absent.
func tokenFromMetadata(ctx context.Context) (token string, present bool, err error) {
	md, _ := metadata.FromIncomingContext(ctx)
	values := md.Get(MetadataKey)
	switch {
	case len(values) == 0:
		return "", false, nil
	case len(values) > 1:
		return "", false, status.Errorf(codes.Unauthenticated,
			"the request has %d %q metadata values; send exactly one, \"Bearer TOKEN\"", len(values), MetadataKey)
	}
	v := values[0]
	if len(v) <= len(bearerScheme) || !strings.EqualFold(v[:len(bearerScheme)], bearerScheme) {
		return "", false, status.Errorf(codes.Unauthenticated,
			"malformed %q metadata: use \"Bearer TOKEN\"", MetadataKey)
	}
	return strings.TrimSpace(v[len(bearerScheme):]), true, nil
}
