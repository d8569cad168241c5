package auth

import (
	"context"

	"google.golang.org/grpc/credentials"
)

// bearerToken sends a tenant token with every request.
type bearerToken string

// BearerToken returns per-RPC credentials that send token in the
// "authorization" metadata as "Bearer TOKEN". They require a connection
// whose security level is at least PrivacyAndIntegrity, such as one made
// with TransportCredentials over a unix socket, so that gRPC refuses to
// send the token over plain TCP.
func BearerToken(token string) credentials.PerRPCCredentials {
	return bearerToken(token)
}

var _ credentials.PerRPCCredentials = bearerToken("")

func (b bearerToken) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{MetadataKey: "Bearer " + string(b)}, nil
}

func (bearerToken) RequireTransportSecurity() bool { return true }
