// Command dbfault-sim is an example mockforged plugin, written only against
// the public SDK the way a third party would write one. It simulates
// database faults: it sleeps for a latency or a timeout, or fails with a
// database-style error. The real database fault injector is the built-in
// db-fault-injector plugin.
//
// Build it under a hidden name in the daemon's plugins directory, which the
// daemon ignores, and rename it into place. The rename makes the whole file
// appear at once (plugins.d/README.md describes the drop protocol):
//
//	go build -o plugins.d/.db-fault-simulator.tmp ./examples/dbfault-sim
//	mv plugins.d/.db-fault-simulator.tmp plugins.d/db-fault-simulator
package main

import "github.com/mockforge/mockforged/sdk"

// version is the plugin's version; builds may set it with
// -ldflags "-X main.version=1.2.3".
var version = "1.0.0"

func main() {
	sdk.Serve(newSimulator(version))
}
