// Command dbfault-sim is an example mockforged plugin, written only against
// the public SDK the way a third party would write one. It simulates
// database faults: it sleeps for a latency or a timeout, or fails with a
// database-style error. The real database fault injector is the built-in
// db-fault-injector plugin.
//
// Build it and drop the binary into the daemon's plugins directory:
//
//	go build -o /tmp/db-fault-simulator ./examples/dbfault-sim
//	mv /tmp/db-fault-simulator plugins.d/
package main

import "github.com/mockforge/mockforged/sdk"

// version is the plugin's version; builds may set it with
// -ldflags "-X main.version=1.2.3".
var version = "1.0.0"

func main() {
	sdk.Serve(newSimulator(version))
}
