// Package paths resolves the daemon's default socket, data and plugins
// locations from flags, environment variables and XDG conventions, and
// checks that a socket path fits the operating system's limit.
package paths

import (
	"fmt"
	"os"
	"path/filepath"
)

// Environment variables that override the defaults. Flags override them.
const (
	EnvSocket     = "MOCKFORGE_SOCKET"
	EnvDataDir    = "MOCKFORGE_DATA_DIR"
	EnvPluginsDir = "MOCKFORGE_PLUGINS_DIR"
)

// MaxSocketPathBytes is the longest unix socket path Linux accepts: the
// sun_path field of struct sockaddr_un holds 108 bytes including the
// terminating NUL.
const MaxSocketPathBytes = 107

// DefaultSocket returns $MOCKFORGE_SOCKET, else
// $XDG_RUNTIME_DIR/mockforged/mockforged.sock, else
// /tmp/mockforged-$UID/mockforged.sock.
func DefaultSocket() string {
	if s := os.Getenv(EnvSocket); s != "" {
		return s
	}
	if dir := os.Getenv("XDG_RUNTIME_DIR"); dir != "" {
		return filepath.Join(dir, "mockforged", "mockforged.sock")
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("mockforged-%d", os.Getuid()), "mockforged.sock")
}

// DefaultDataDir returns $MOCKFORGE_DATA_DIR, else
// $XDG_STATE_HOME/mockforged, else ~/.local/state/mockforged.
func DefaultDataDir() string {
	if s := os.Getenv(EnvDataDir); s != "" {
		return s
	}
	if dir := os.Getenv("XDG_STATE_HOME"); dir != "" {
		return filepath.Join(dir, "mockforged")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), fmt.Sprintf("mockforged-%d", os.Getuid()), "state")
	}
	return filepath.Join(home, ".local", "state", "mockforged")
}

// DefaultPluginsDir returns $MOCKFORGE_PLUGINS_DIR, else ./plugins.d.
func DefaultPluginsDir() string {
	if s := os.Getenv(EnvPluginsDir); s != "" {
		return s
	}
	return "plugins.d"
}

// CheckSocketPath returns an error naming the limit when path is too long to
// bind or dial as a unix socket.
func CheckSocketPath(path string) error {
	if len(path) > MaxSocketPathBytes {
		return fmt.Errorf("socket path %q is %d bytes long, over the operating system's limit of %d bytes; choose a shorter path with --socket or %s",
			path, len(path), MaxSocketPathBytes, EnvSocket)
	}
	return nil
}
