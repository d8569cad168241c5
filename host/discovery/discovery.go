// Package discovery watches the plugins directory and reports files that are
// complete and ready to launch, files that changed, and files that were
// removed.
//
// A file renamed into the directory is complete the moment it appears, so it
// is reported after a short settle delay that only coalesces events. A file
// written in place is reported once its size, modification time and inode
// stayed the same for StableFor. The directory is also read again every
// RescanEvery, and at once when the kernel's event queue overflowed, so that
// a missed event delays a change rather than losing it.
package discovery

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/hashicorp/go-hclog"

	"github.com/mockforge/mockforged/host/pluginfile"
)

// Kind is the kind of change reported for a file.
type Kind int

// Kinds of events.
const (
	// Ready means the file is new or changed and complete.
	Ready Kind = iota + 1
	// Removed means the file is gone.
	Removed
)

func (k Kind) String() string {
	switch k {
	case Ready:
		return "ready"
	case Removed:
		return "removed"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Event reports one file.
type Event struct {
	Kind Kind
	// Path is the file's path in the watched directory.
	Path string
}

// Options configures a Watcher. Zero values take the defaults.
type Options struct {
	// Dir is the watched directory; it is created when missing.
	Dir string
	// Settle is how long a created file must see no write before it counts
	// as renamed into place. Default 50ms.
	Settle time.Duration
	// StableFor is how long a file written in place must stay unchanged.
	// Default 1s.
	StableFor time.Duration
	// RescanEvery is the period of full directory reads. Default 2s.
	RescanEvery time.Duration
	// Logger receives warnings about the directory. Default: a null logger.
	Logger hclog.Logger
}

func (o *Options) setDefaults() {
	if o.Settle <= 0 {
		o.Settle = 50 * time.Millisecond
	}
	if o.StableFor <= 0 {
		o.StableFor = time.Second
	}
	if o.RescanEvery <= 0 {
		o.RescanEvery = 2 * time.Second
	}
	if o.Logger == nil {
		o.Logger = hclog.NewNullLogger()
	}
}

// identity is the file metadata that distinguishes two versions of a file
// without reading it.
type identity struct {
	size  int64
	mtime time.Time
	ctime int64
	ino   uint64
	mode  os.FileMode
}

// entry is the watcher's knowledge of one file name.
type entry struct {
	// reported is the identity last sent as Ready; zero when never sent.
	reported identity
	wasSent  bool
	// observed is the identity seen last, since observedAt.
	observed   identity
	observedAt time.Time
	// createdAt is set by a create event and cleared once reported.
	createdAt time.Time
	// written is true when write events were seen since the last report.
	written bool
}

// Watcher reports plugin files in one directory.
type Watcher struct {
	opts    Options
	entries map[string]*entry
	now     func() time.Time
}

// New returns a watcher for opts.Dir.
func New(opts Options) *Watcher {
	opts.setDefaults()
	return &Watcher{opts: opts, entries: map[string]*entry{}, now: time.Now}
}

// tick is how often pending files are evaluated.
const tick = 25 * time.Millisecond

// Run watches until ctx is done, calling emit for every event from this
// goroutine only. It returns an error when the directory cannot be created
// or watched at start.
func (w *Watcher) Run(ctx context.Context, emit func(Event)) error {
	if err := os.MkdirAll(w.opts.Dir, 0o755); err != nil {
		return fmt.Errorf("create plugins directory %s: %w", w.opts.Dir, err)
	}
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("start file watcher: %w", err)
	}
	defer fw.Close()
	if err := fw.Add(w.opts.Dir); err != nil {
		return fmt.Errorf("watch plugins directory %s: %w", w.opts.Dir, err)
	}
	w.opts.Logger.Info("watching plugins directory", "dir", w.opts.Dir)
	defer w.opts.Logger.Info("stopped watching plugins directory", "dir", w.opts.Dir)

	w.adoptExisting()
	w.rescan(emit, true)
	ticker := time.NewTicker(tick)
	defer ticker.Stop()
	lastScan := w.now()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-fw.Events:
			if !ok {
				return nil
			}
			w.handleEvent(ev, emit)
		case err, ok := <-fw.Errors:
			if !ok {
				return nil
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				w.opts.Logger.Warn("file event queue overflowed; reading the plugins directory again", "dir", w.opts.Dir)
				w.rescan(emit, true)
				lastScan = w.now()
				continue
			}
			w.opts.Logger.Error("file watcher error", "dir", w.opts.Dir, "error", err)
		case <-ticker.C:
			full := w.now().Sub(lastScan) >= w.opts.RescanEvery
			if full {
				lastScan = w.now()
				if err := w.ensureWatched(fw); err != nil {
					w.opts.Logger.Error("cannot watch plugins directory; relying on periodic reads", "dir", w.opts.Dir, "error", err)
				}
			}
			w.rescan(emit, full)
		}
	}
}

// adoptExisting marks the files present at start as stable, so that plugins
// installed before the daemon started launch at once.
func (w *Watcher) adoptExisting() {
	names, err := w.list()
	if err != nil {
		return
	}
	settled := w.now().Add(-w.opts.StableFor)
	for _, name := range names {
		info, err := os.Lstat(filepath.Join(w.opts.Dir, name))
		if err != nil {
			continue
		}
		w.entries[name] = &entry{observed: identityOf(info), observedAt: settled}
	}
}

// ensureWatched adds the directory again when it was replaced.
func (w *Watcher) ensureWatched(fw *fsnotify.Watcher) error {
	for _, p := range fw.WatchList() {
		if p == w.opts.Dir {
			return nil
		}
	}
	return fw.Add(w.opts.Dir)
}

func (w *Watcher) handleEvent(ev fsnotify.Event, emit func(Event)) {
	if filepath.Dir(ev.Name) != filepath.Clean(w.opts.Dir) {
		return
	}
	name := filepath.Base(ev.Name)
	if pluginfile.Ignored(name) {
		return
	}
	e := w.entries[name]
	if e == nil {
		e = &entry{}
		w.entries[name] = e
	}
	now := w.now()
	switch {
	case ev.Has(fsnotify.Create):
		e.createdAt = now
		e.written = false
		e.observedAt = now
	case ev.Has(fsnotify.Write):
		e.written = true
		e.observedAt = now
	case ev.Has(fsnotify.Chmod):
		e.observedAt = now
	case ev.Has(fsnotify.Remove), ev.Has(fsnotify.Rename):
		w.evaluate(name, e, now, emit)
	}
}

// rescan evaluates known entries and, when full is set, every file in the
// directory.
func (w *Watcher) rescan(emit func(Event), full bool) {
	now := w.now()
	if full {
		names, err := w.list()
		if err != nil {
			w.opts.Logger.Error("read plugins directory", "dir", w.opts.Dir, "error", err)
			return
		}
		for _, name := range names {
			if w.entries[name] == nil {
				w.entries[name] = &entry{observedAt: now}
			}
		}
	}
	for name, e := range w.entries {
		w.evaluate(name, e, now, emit)
	}
}

func (w *Watcher) list() ([]string, error) {
	des, err := os.ReadDir(w.opts.Dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, de := range des {
		if !pluginfile.Ignored(de.Name()) {
			names = append(names, de.Name())
		}
	}
	return names, nil
}

// evaluate decides whether one file is ready, unchanged or gone.
func (w *Watcher) evaluate(name string, e *entry, now time.Time, emit func(Event)) {
	path := filepath.Join(w.opts.Dir, name)
	info, err := os.Lstat(path)
	if err != nil {
		if e.wasSent {
			emit(Event{Kind: Removed, Path: path})
		}
		delete(w.entries, name)
		return
	}
	id := identityOf(info)
	if id != e.observed {
		e.observed = id
		e.observedAt = now
	}
	if e.wasSent && id == e.reported {
		e.createdAt = time.Time{}
		e.written = false
		return
	}
	renamedIn := !e.createdAt.IsZero() && !e.written && now.Sub(e.createdAt) >= w.opts.Settle
	stable := now.Sub(e.observedAt) >= w.opts.StableFor
	if !renamedIn && !stable {
		return
	}
	if id.size == 0 && !stable {
		return
	}
	e.reported = id
	e.wasSent = true
	e.createdAt = time.Time{}
	e.written = false
	emit(Event{Kind: Ready, Path: path})
}
