// Package auth identifies who calls the daemon over its unix socket and
// what they may act as.
//
// The server reads each client's uid from the socket with SO_PEERCRED
// (TransportCredentials). The daemon's own uid and root are administrators.
// Every other caller must send a tenant token as "authorization: Bearer
// TOKEN" metadata (BearerToken on the client side) and may act only as that
// token's tenant. The interceptors of an Authenticator store the resolved
// Caller in each request's context; handlers read it with CallerFrom and
// check it with ResolveTenant and RequireAdmin.
//
// Listen creates the socket with mode 0600, or 0660 and a named group, so
// that the file mode decides who can connect at all.
package auth
