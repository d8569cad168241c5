// Package dbfault is the db-fault-injector plugin. It runs fault proxies
// that an application connects to instead of its database, and injects
// real faults into the traffic: slow queries, protocol errors, connect
// timeouts, connection resets, bandwidth limits and sliced writes.
//
// Proxies read the PostgreSQL or MySQL wire protocol to find query text and
// message boundaries, or forward plain TCP. The plugin is driven through
// Execute with the operations list_proxies, add_fault, list_faults,
// remove_fault and reset; README.md describes the parameters.
//
// The plugin is served out of process:
//
//	sdk.Serve(dbfault.New())
package dbfault
