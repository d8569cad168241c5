package main

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is the release of this binary. Builds set it with
// -ldflags "-X main.version=1.2.3".
var version = "dev"

// currentVersion returns version, or the module version that "go install"
// recorded in the binary when version was not set at build time.
func currentVersion() string {
	if version != "dev" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return version
}

func (a *app) newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of this binary",
		Args:  cobra.NoArgs,
		RunE: a.action(func(*cobra.Command, []string) error {
			_, err := fmt.Fprintf(a.out, "mockforged %s\n", currentVersion())
			return err
		}),
	}
}
