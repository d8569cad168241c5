package pluginconfig

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
)

// Stored is a config accepted for a plugin.
type Stored struct {
	// Enabled is false when the operator disabled the plugin.
	Enabled bool `json:"enabled"`
	// Config is the plugin's config, without the "enabled" key.
	Config json.RawMessage `json:"config"`
}

// idPattern is the form of a plugin id. It keeps ids usable as file names.
var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,127}$`)

// ValidID reports whether id is a well-formed plugin id.
func ValidID(id string) bool {
	return idPattern.MatchString(id) && id != "." && id != ".."
}

// Store persists configs as one JSON file per plugin id.
type Store struct {
	dir string
}

// OpenStore creates dir with mode 0700 when missing.
func OpenStore(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create config directory %s: %w", dir, err)
	}
	return &Store{dir: dir}, nil
}

func (s *Store) path(id string) (string, error) {
	if !ValidID(id) {
		return "", fmt.Errorf("invalid plugin id %q: use lowercase letters, digits, '.', '_' and '-'", id)
	}
	return filepath.Join(s.dir, id+".json"), nil
}

// Load returns the stored config of a plugin; found is false when there is
// none.
func (s *Store) Load(id string) (cfg Stored, found bool, err error) {
	p, err := s.path(id)
	if err != nil {
		return Stored{}, false, err
	}
	data, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return Stored{}, false, nil
	}
	if err != nil {
		return Stored{}, false, fmt.Errorf("read config of plugin %s: %w", id, err)
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		return Stored{}, false, fmt.Errorf("stored config of plugin %s in %s is corrupt: %w; fix or delete the file", id, p, err)
	}
	return cfg, true, nil
}

// Save writes a config durably: to a temporary file that is synced and then
// renamed over the old one, so a crash leaves the old or the new config.
func (s *Store) Save(id string, cfg Stored) error {
	p, err := s.path(id)
	if err != nil {
		return err
	}
	data, err := json.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("encode config of plugin %s: %w", id, err)
	}
	return writeFileAtomic(p, data)
}

func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if closeErr := tmp.Close(); err == nil {
		err = closeErr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	dir, err := os.Open(filepath.Dir(path))
	if err != nil {
		return fmt.Errorf("sync directory of %s: %w", path, err)
	}
	defer dir.Close()
	if err := dir.Sync(); err != nil {
		return fmt.Errorf("sync directory of %s: %w", path, err)
	}
	return nil
}
