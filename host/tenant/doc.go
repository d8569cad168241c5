// Package tenant keeps the daemon's tenants: their plans, quotas,
// permissions, tokens, usage and plugin storage, and decides whether a call
// may run on a tenant's behalf.
//
// # Plans and overrides
//
// Plans returns the plan table as data. Every quota is a Limit or a
// DurationLimit, which is either a maximum or explicitly unlimited, and is
// written "unlimited" in JSON and YAML. An operator can override any quota
// and grant extra permissions per tenant, and both survive plan changes. A
// change that leaves usage above a limit reports it (Exceeded) and deletes
// nothing.
//
// # Admission
//
// Admit runs on every call, before hooks and the plugin: tenant exists,
// enabled, permission, rate limit, max duration, then an atomic
// check-and-increment of the concurrent executions. The release function it
// returns undoes the increment exactly once. Errors are gRPC status errors
// (see errors.go for the codes and details).
//
// # Storage
//
// The store is a single go.etcd.io/bbolt file (StoreFileName) in the data
// dir. bbolt was chosen over SQLite because it is pure Go (no cgo, so the
// daemon stays one static binary), it is crash-safe by design (copy-on-write
// B+tree pages and an fsync before each commit returns, so a committed
// transaction survives SIGKILL and power loss, and a torn write leaves the
// previous commit readable), and it locks the file against a second writer
// process. The data are small key-value records: tenants, token hashes,
// usage counters and plugin storage entries, which need no SQL. Open checks
// the whole file and refuses a damaged or locked one with a clear error
// instead of starting empty.
//
// Every change to a tenant, including a plugin storage write and its byte
// accounting, is one bbolt transaction, so a crash leaves either all of it
// or none of it. Concurrent-execution counters and rate-limit windows live
// only in memory and start at zero, because no call survives a restart.
package tenant
