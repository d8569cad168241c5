package pluginfile

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Store keeps copies of plugin binaries named by their SHA-256, so that a
// binary replaced or removed in the plugins directory never changes a
// running plugin, and the checksum handed to go-plugin is that of the file
// executed.
type Store struct {
	dir string
}

// OpenStore creates dir with mode 0700 when missing and returns a store in
// it.
func OpenStore(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create plugin binary store %s: %w", dir, err)
	}
	return &Store{dir: dir}, nil
}

// Blob is a stored binary.
type Blob struct {
	// Path is the stored copy to execute.
	Path string
	// SHA256 is the digest of its contents.
	SHA256 []byte
	// Size is its length in bytes.
	Size int64
}

// Hex returns the digest as lowercase hex.
func (b Blob) Hex() string {
	return hex.EncodeToString(b.SHA256)
}

// Add copies the file at src into the store and returns the stored copy. The
// source is opened once, and its checks (CheckSafe) run on that open file,
// so a swap of the path between check and copy cannot go unnoticed.
func (s *Store) Add(src string) (Blob, error) {
	linkInfo, err := os.Lstat(src)
	if err != nil {
		return Blob{}, fmt.Errorf("stat plugin %s: %w", src, err)
	}
	if linkInfo.Mode()&os.ModeSymlink != 0 {
		return Blob{}, fmt.Errorf("%w: %s is a symbolic link, not a regular file; copy the plugin binary itself into the directory", ErrUnsafe, src)
	}
	f, err := os.Open(src)
	if err != nil {
		return Blob{}, fmt.Errorf("open plugin %s: %w", src, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return Blob{}, fmt.Errorf("stat plugin %s: %w", src, err)
	}
	if err := CheckSafe(src, info); err != nil {
		return Blob{}, err
	}
	return s.copyFrom(f, info.Size())
}

// AddExecutable copies a binary that the daemon trusts, such as its own
// executable, without the ownership checks of Add.
func (s *Store) AddExecutable(src string) (Blob, error) {
	f, err := os.Open(src)
	if err != nil {
		return Blob{}, fmt.Errorf("open %s: %w", src, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return Blob{}, fmt.Errorf("stat %s: %w", src, err)
	}
	return s.copyFrom(f, info.Size())
}

func (s *Store) copyFrom(r io.Reader, size int64) (Blob, error) {
	tmp, err := os.CreateTemp(s.dir, ".incoming-*")
	if err != nil {
		return Blob{}, fmt.Errorf("create file in plugin binary store: %w", err)
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), r)
	if err == nil && n != size {
		err = fmt.Errorf("file changed size while being copied (%d bytes, then %d)", size, n)
	}
	if err == nil {
		err = tmp.Chmod(0o500)
	}
	if closeErr := tmp.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return Blob{}, fmt.Errorf("copy plugin into store: %w", err)
	}
	sum := h.Sum(nil)
	dst := filepath.Join(s.dir, hex.EncodeToString(sum))
	if _, err := os.Stat(dst); err == nil {
		return Blob{Path: dst, SHA256: sum, Size: n}, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return Blob{}, fmt.Errorf("stat stored plugin: %w", err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return Blob{}, fmt.Errorf("store plugin binary: %w", err)
	}
	return Blob{Path: dst, SHA256: sum, Size: n}, nil
}

// Prune removes stored binaries whose digests are not in keep.
func (s *Store) Prune(keep map[string]bool) error {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("read plugin binary store: %w", err)
	}
	var errs []error
	for _, e := range entries {
		if keep[e.Name()] {
			continue
		}
		if err := os.Remove(filepath.Join(s.dir, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
