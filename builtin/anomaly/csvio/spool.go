package csvio

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// spoolMemoryBytes is how much output a scan keeps in memory before it
// moves the output to a temporary file. The NYC taxi series of 10,320
// rows gives about 42 bytes per CSV row and 99 per JSON row, so scans of
// some 80,000 rows stay in memory (an estimate: anomalous rows and long
// timestamps are larger). Tests lower it to exercise the file.
var spoolMemoryBytes = 8 << 20

// spool holds a scan's output until the scan has succeeded, so that a
// failed scan writes nothing. It keeps up to limit bytes in memory and
// the whole output in a temporary file beyond that, so memory stays
// bounded for inputs of any length.
type spool struct {
	limit int
	mem   []byte
	file  *os.File
}

func newSpool() *spool {
	return &spool{limit: spoolMemoryBytes}
}

// Write appends p to the output.
func (s *spool) Write(p []byte) (int, error) {
	if s.file == nil && len(s.mem)+len(p) <= s.limit {
		s.mem = append(s.mem, p...)
		return len(p), nil
	}
	if s.file == nil {
		f, err := os.CreateTemp("", "mockforged-scan-*.out")
		if err != nil {
			return 0, fmt.Errorf("output is larger than %d bytes and cannot be staged in a temporary file: %w (set TMPDIR to a writable directory)", s.limit, err)
		}
		s.file = f
		if _, err := f.Write(s.mem); err != nil {
			return 0, fmt.Errorf("stage output in %s: %w", f.Name(), err)
		}
		s.mem = nil
	}
	n, err := s.file.Write(p)
	if err != nil {
		return n, fmt.Errorf("stage output in %s: %w", s.file.Name(), err)
	}
	return n, nil
}

// WriteTo copies the whole output to w.
func (s *spool) WriteTo(w io.Writer) (int64, error) {
	if s.file == nil {
		n, err := w.Write(s.mem)
		return int64(n), err
	}
	if _, err := s.file.Seek(0, io.SeekStart); err != nil {
		return 0, fmt.Errorf("read staged output from %s: %w", s.file.Name(), err)
	}
	return io.Copy(w, s.file)
}

// Discard drops the output and removes the temporary file, if any.
func (s *spool) Discard() error {
	s.mem = nil
	if s.file == nil {
		return nil
	}
	name := s.file.Name()
	err := errors.Join(s.file.Close(), os.Remove(name))
	s.file = nil
	if err != nil {
		return fmt.Errorf("remove staged output %s: %w", name, err)
	}
	return nil
}
