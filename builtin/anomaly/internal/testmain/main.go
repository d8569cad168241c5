// Command testmain serves the anomaly-detector plugin on its own, as the
// mockforged binary does, so that tests can run it as a real subprocess.
package main

import (
	"github.com/mockforge/mockforged/builtin/anomaly"
	"github.com/mockforge/mockforged/sdk"
)

func main() {
	sdk.Serve(anomaly.New())
}
