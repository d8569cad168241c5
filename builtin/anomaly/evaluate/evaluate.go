package evaluate

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/mockforge/mockforged/builtin/anomaly/csvio"
	"github.com/mockforge/mockforged/builtin/anomaly/detect"
)

// windowLayout is the timestamp layout of windows.json.
const windowLayout = "2006-01-02 15:04:05.999999"

// Labels maps a series' path relative to the data directory, with forward
// slashes (for example "realKnownCause/nyc_taxi.csv"), to its windows.
type Labels map[string][]Window

// LoadWindows reads a NAB windows file: a JSON object mapping each series to
// a list of [start, end] timestamp pairs.
func LoadWindows(path string) (Labels, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read windows: %w", err)
	}
	var raw map[string][][]string
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("parse windows %s: %w: expected an object of series to [[start, end], ...]", path, err)
	}
	labels := make(Labels, len(raw))
	for name, pairs := range raw {
		windows := make([]Window, 0, len(pairs))
		for i, pair := range pairs {
			w, err := parseWindow(pair)
			if err != nil {
				return nil, fmt.Errorf("windows %s: series %q window %d: %w", path, name, i, err)
			}
			windows = append(windows, w)
		}
		labels[name] = windows
	}
	return labels, nil
}

func parseWindow(pair []string) (Window, error) {
	if len(pair) != 2 {
		return Window{}, fmt.Errorf("expected [start, end], found %d timestamps", len(pair))
	}
	var ends [2]time.Time
	for i, s := range pair {
		t, err := time.ParseInLocation(windowLayout, s, time.UTC)
		if err != nil {
			if t, err = csvio.ParseTimestamp(s); err != nil {
				return Window{}, fmt.Errorf("invalid timestamp %q: %w", s, err)
			}
		}
		ends[i] = t
	}
	if ends[1].Before(ends[0]) {
		return Window{}, fmt.Errorf("window ends (%s) before it starts (%s)", pair[1], pair[0])
	}
	return Window{Start: ends[0], End: ends[1]}, nil
}

// Options configures Evaluate.
type Options struct {
	// Detector is the detector's config; each series gets a new model.
	Detector detect.Config
	// Workers is the number of series scored at once; 0 means GOMAXPROCS.
	Workers int
}

// Evaluate runs the detector over every series listed in the windows file,
// each from a fresh model, and scores its decisions (is_anomaly) with the
// NAB rules. The series are read from dataDir by their listed paths.
func Evaluate(dataDir, windowsPath string, opts Options) (Report, error) {
	labels, err := LoadWindows(windowsPath)
	if err != nil {
		return Report{}, err
	}
	if len(labels) == 0 {
		return Report{}, fmt.Errorf("windows %s lists no series", windowsPath)
	}
	names := make([]string, 0, len(labels))
	for name := range labels {
		names = append(names, name)
	}
	sort.Strings(names)

	files := make([]FileReport, len(names))
	errs := make([]error, len(names))
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var wg sync.WaitGroup
	jobs := make(chan int)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				files[i], errs[i] = evaluateFile(dataDir, names[i], labels[names[i]], opts.Detector)
			}
		}()
	}
	for i := range names {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return Report{}, err
	}
	return newReport(files), nil
}

// evaluateFile scores one series.
func evaluateFile(dataDir, name string, windows []Window, cfg detect.Config) (FileReport, error) {
	f, err := os.Open(filepath.Join(dataDir, filepath.FromSlash(name)))
	if err != nil {
		return FileReport{}, fmt.Errorf("series %s: %w", name, err)
	}
	defer f.Close()
	series, err := DetectSeries(f, name, cfg)
	if err != nil {
		return FileReport{}, fmt.Errorf("series %s: %w", name, err)
	}
	return FileReport{
		Name:        name,
		Dropped:     series.Dropped,
		SeriesScore: ScoreSeries(series.Timestamps, series.Detected, windows),
	}, nil
}

// Series is a series' timestamps and the detector's decisions.
type Series struct {
	Timestamps []time.Time
	Detected   []bool
	// Dropped counts rows skipped because their timestamp went backwards.
	Dropped int
}

// DetectSeries streams a `timestamp,value` CSV through a new model and
// returns each row's timestamp and decision. Rows whose timestamp is earlier
// than the previous row's are dropped and counted, as some NAB series have
// a few.
func DetectSeries(r io.Reader, metric string, cfg detect.Config) (Series, error) {
	model, err := detect.NewModel(metric, cfg)
	if err != nil {
		return Series{}, err
	}
	reader := csvio.NewReader(r, csvio.DropOutOfOrder)
	var s Series
	for {
		row, err := reader.Next()
		if errors.Is(err, io.EOF) {
			s.Dropped = reader.Dropped()
			return s, nil
		}
		if err != nil {
			return Series{}, err
		}
		res := model.Observe(row.Timestamp, row.Value, nil)
		s.Timestamps = append(s.Timestamps, row.Timestamp)
		s.Detected = append(s.Detected, res.IsAnomaly)
	}
}

// DefaultDetector returns the detector config used for the NAB figures in
// docs/benchmarks.md: the defaults with seasonality detected automatically
// and without the spike rule. NAB labels few of the spikes that its CPU and
// network series repeat, so there the score, which learns recurring
// spikes, decides on them.
func DefaultDetector() detect.Config {
	return detect.Config{
		EnableSeasonal: true,
		SeasonalPeriod: detect.SeasonalPeriod{Auto: true},
		SpikeThreshold: -1,
	}
}
