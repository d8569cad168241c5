package load

import (
	"os"
	"time"
)

// profile sizes the load tests. The short profile runs in `go test` and
// checks the same invariants as the full one.
type profile struct {
	// Name is "short" or "full".
	Name string
	// Clients is the number of concurrent callers in the tenant load test.
	Clients int
	// Duration is how long the tenant load test calls.
	Duration time.Duration
	// ReloadDuration is how long the reload test calls while it replaces
	// one plugin every second.
	ReloadDuration time.Duration
	// ReloadPlugins is the number of plugins loaded in the reload test.
	ReloadPlugins int
	// Soak is how long the soak test calls.
	Soak time.Duration
	// RSSGrowthBytes bounds the daemon's RSS growth in the soak test,
	// from the end of the warm-up to the end of the run.
	RSSGrowthBytes int64
}

var (
	shortProfile = profile{
		Name: "short", Clients: 20, Duration: 5 * time.Second,
		ReloadDuration: 6 * time.Second, ReloadPlugins: 20,
		Soak: 20 * time.Second, RSSGrowthBytes: 16 << 20,
	}
	fullProfile = profile{
		Name: "full", Clients: 200, Duration: 60 * time.Second,
		ReloadDuration: 60 * time.Second, ReloadPlugins: 50,
		Soak: 10 * time.Minute, RSSGrowthBytes: 16 << 20,
	}
)

// currentProfile returns the full profile when MOCKFORGE_LOAD is "full",
// else the short one.
func currentProfile() profile {
	if os.Getenv("MOCKFORGE_LOAD") == "full" {
		return fullProfile
	}
	return shortProfile
}
