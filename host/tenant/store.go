package tenant

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"time"

	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// StoreFileName is the name of the store file in the daemon's data dir.
const StoreFileName = "tenants.db"

// storeVersion is the layout version written in the meta bucket. Open
// rejects a store with a higher version.
const storeVersion = 1

// The store's top-level buckets:
//
//	meta      "version" -> storeVersion in decimal
//	tenants   tenant name -> Tenant as JSON
//	tokens    SHA-256 of the token -> TokenInfo as JSON
//	storage   tenant name -> plugin ID -> key -> value (nested buckets)
var (
	bucketMeta    = []byte("meta")
	bucketTenants = []byte("tenants")
	bucketTokens  = []byte("tokens")
	bucketStorage = []byte("storage")
	keyVersion    = []byte("version")
)

// Errors that Open wraps, so that callers can tell the cases apart with
// errors.Is.
var (
	// ErrStoreLocked means another process has the store file open.
	ErrStoreLocked = errors.New("tenant store is locked by another process")
	// ErrStoreCorrupt means the store file is damaged or is not a tenant
	// store. Open never replaces such a file with an empty store.
	ErrStoreCorrupt = errors.New("tenant store is corrupt")
)

// maxCheckErrors bounds how many consistency errors Open reports.
const maxCheckErrors = 3

// openDB opens or creates the bbolt file at path and checks that it is a
// consistent tenant store of a supported version.
func openDB(path string, lockTimeout time.Duration) (db *bbolt.DB, err error) {
	existed, err := checkStoreFile(path)
	if err != nil {
		return nil, err
	}
	// bbolt panics on some damaged pages instead of returning an error.
	// NOTE: after a panic inside bbolt.Open itself, its file stays open and
	// locked until the process exits, because no *bbolt.DB exists to close.
	defer func() {
		if r := recover(); r != nil {
			if db != nil {
				_ = db.Close()
			}
			db, err = nil, corruptError(path, fmt.Errorf("%v", r))
		}
	}()
	db, err = bbolt.Open(path, 0o600, &bbolt.Options{Timeout: lockTimeout})
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return nil, fmt.Errorf("open tenant store %s: %w (waited %s); another mockforged is probably running with the same data dir: stop it or use another data dir",
			path, ErrStoreLocked, lockTimeout)
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrChecksum), errors.Is(err, berrors.ErrVersionMismatch):
		return nil, corruptError(path, err)
	case err != nil:
		return nil, fmt.Errorf("open tenant store %s: %w", path, err)
	}
	if err := prepareDB(db, path, existed); err != nil {
		_ = db.Close()
		return nil, err
	}
	if err := checkDB(db, path); err != nil {
		_ = db.Close()
		return nil, err
	}
	return db, nil
}

func corruptError(path string, cause error) error {
	return fmt.Errorf("open tenant store %s: %w: %v; restore the file from a backup, or move it away to start with no tenants",
		path, ErrStoreCorrupt, cause)
}

// checkStoreFile reports whether a store file exists at path. An empty file
// is rejected: bbolt would silently initialise it as a new, empty store.
func checkStoreFile(path string) (existed bool, err error) {
	info, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("open tenant store %s: %w", path, err)
	}
	if !info.Mode().IsRegular() {
		return false, fmt.Errorf("open tenant store %s: not a regular file; remove it or use another data dir", path)
	}
	if info.Size() == 0 {
		return false, corruptError(path, errors.New("the file is empty"))
	}
	return true, nil
}

// prepareDB creates the buckets of a new store, or checks the version of an
// existing one without writing to it. A bbolt file without buckets counts as
// new, because a crash during the very first start can leave one behind.
func prepareDB(db *bbolt.DB, path string, existed bool) error {
	var isNew bool
	err := db.View(func(tx *bbolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			if existed && hasBuckets(tx) {
				return corruptError(path, errors.New("the file is a bbolt database but not a tenant store (it has no meta bucket)"))
			}
			isNew = true
			return nil
		}
		return checkLayout(tx, path)
	})
	if err != nil || !isNew {
		return err
	}
	if err := db.Update(initBuckets); err != nil {
		return fmt.Errorf("create tenant store %s: %w", path, err)
	}
	return nil
}

// checkLayout checks the version and the buckets of an existing store.
func checkLayout(tx *bbolt.Tx, path string) error {
	raw := tx.Bucket(bucketMeta).Get(keyVersion)
	version, err := strconv.Atoi(string(raw))
	if err != nil {
		return corruptError(path, fmt.Errorf("invalid store version %q", raw))
	}
	if version > storeVersion {
		return fmt.Errorf("open tenant store %s: store version %d is newer than version %d that this mockforged supports; upgrade mockforged",
			path, version, storeVersion)
	}
	for _, name := range [][]byte{bucketTenants, bucketTokens, bucketStorage} {
		if tx.Bucket(name) == nil {
			return corruptError(path, fmt.Errorf("bucket %q is missing", name))
		}
	}
	return nil
}

func hasBuckets(tx *bbolt.Tx) bool {
	found := false
	_ = tx.ForEach(func([]byte, *bbolt.Bucket) error {
		found = true
		return nil
	})
	return found
}

func initBuckets(tx *bbolt.Tx) error {
	for _, name := range [][]byte{bucketMeta, bucketTenants, bucketTokens, bucketStorage} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %q: %w", name, err)
		}
	}
	return tx.Bucket(bucketMeta).Put(keyVersion, []byte(strconv.Itoa(storeVersion)))
}

// checkDB runs bbolt's page consistency check over the whole file.
func checkDB(db *bbolt.DB, path string) error {
	var problems []error
	err := db.View(func(tx *bbolt.Tx) error {
		for err := range tx.Check() {
			if len(problems) < maxCheckErrors {
				problems = append(problems, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("open tenant store %s: check: %w", path, err)
	}
	if len(problems) > 0 {
		return corruptError(path, errors.Join(problems...))
	}
	return nil
}

// storedData is everything Open loads into memory.
type storedData struct {
	tenants []Tenant
	tokens  []storedToken
	// storageBytes is the measured size of each tenant's plugin storage.
	storageBytes map[string]int64
}

// storedToken is one token as loaded from the tokens bucket.
type storedToken struct {
	hash tokenHash
	info TokenInfo
}

func loadData(db *bbolt.DB, path string) (data storedData, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = corruptError(path, fmt.Errorf("%v", r))
		}
	}()
	data.storageBytes = map[string]int64{}
	err = db.View(func(tx *bbolt.Tx) error {
		if err := loadTenants(tx, &data); err != nil {
			return err
		}
		if err := loadTokens(tx, &data); err != nil {
			return err
		}
		return measureStorage(tx, &data)
	})
	if err != nil {
		return storedData{}, corruptError(path, err)
	}
	return data, nil
}

func loadTenants(tx *bbolt.Tx, data *storedData) error {
	return tx.Bucket(bucketTenants).ForEach(func(k, v []byte) error {
		var t Tenant
		if err := json.Unmarshal(v, &t); err != nil {
			return fmt.Errorf("tenant record %q: %w", k, err)
		}
		if t.Name != string(k) {
			return fmt.Errorf("tenant record %q contains the name %q", k, t.Name)
		}
		if _, err := ParsePlan(string(t.Plan)); err != nil {
			return fmt.Errorf("tenant record %q: %w", k, err)
		}
		data.tenants = append(data.tenants, t)
		return nil
	})
}

func loadTokens(tx *bbolt.Tx, data *storedData) error {
	known := make(map[string]bool, len(data.tenants))
	for _, t := range data.tenants {
		known[t.Name] = true
	}
	return tx.Bucket(bucketTokens).ForEach(func(k, v []byte) error {
		var tok storedToken
		if len(k) != len(tok.hash) {
			return fmt.Errorf("token key %x has %d bytes, expected %d", k, len(k), len(tok.hash))
		}
		copy(tok.hash[:], k)
		if err := json.Unmarshal(v, &tok.info); err != nil {
			return fmt.Errorf("token record %x...: %w", k[:4], err)
		}
		if !known[tok.info.Tenant] {
			return fmt.Errorf("token %s belongs to tenant %q, which does not exist", tok.info.ID, tok.info.Tenant)
		}
		data.tokens = append(data.tokens, tok)
		return nil
	})
}

// measureStorage adds up the size of every tenant's plugin storage.
func measureStorage(tx *bbolt.Tx, data *storedData) error {
	known := make(map[string]bool, len(data.tenants))
	for _, t := range data.tenants {
		known[t.Name] = true
	}
	return tx.Bucket(bucketStorage).ForEachBucket(func(tenantKey []byte) error {
		if !known[string(tenantKey)] {
			return fmt.Errorf("plugin storage of tenant %q, which does not exist", tenantKey)
		}
		tenantBucket := tx.Bucket(bucketStorage).Bucket(tenantKey)
		var total int64
		err := tenantBucket.ForEachBucket(func(pluginKey []byte) error {
			return tenantBucket.Bucket(pluginKey).ForEach(func(k, v []byte) error {
				total += entrySize(k, v)
				return nil
			})
		})
		data.storageBytes[string(tenantKey)] = total
		return err
	})
}

func putTenant(tx *bbolt.Tx, t Tenant) error {
	data, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("encode tenant %q: %w", t.Name, err)
	}
	return tx.Bucket(bucketTenants).Put([]byte(t.Name), data)
}
