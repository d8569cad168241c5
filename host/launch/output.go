package launch

import (
	"bytes"
	"encoding/json"
	"sync"

	"github.com/hashicorp/go-hclog"
)

// maxLineBytes caps one logged line; longer output is logged in pieces.
const maxLineBytes = 64 << 10

// lineLogger logs each line written to it, so that nothing a plugin prints
// is dropped.
type lineLogger struct {
	mu     sync.Mutex
	buf    []byte
	log    hclog.Logger
	stream string
	// skipJSON drops lines that are hclog JSON, because go-plugin already
	// re-emits those at their own level.
	skipJSON bool
}

func newLineLogger(log hclog.Logger, stream string) *lineLogger {
	return &lineLogger{log: log, stream: stream}
}

// newStderrLogger receives the plugin's raw stderr. go-plugin re-emits JSON
// log lines itself and logs other lines only at debug level, so this
// writer logs the other lines at info level.
func newStderrLogger(log hclog.Logger) *lineLogger {
	return &lineLogger{log: log, stream: "stderr", skipJSON: true}
}

func (l *lineLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		l.emit(l.buf[:i])
		l.buf = l.buf[i+1:]
	}
	for len(l.buf) > maxLineBytes {
		l.emit(l.buf[:maxLineBytes])
		l.buf = l.buf[maxLineBytes:]
	}
	if len(l.buf) == 0 {
		l.buf = nil
	}
	return len(p), nil
}

func (l *lineLogger) emit(line []byte) {
	line = bytes.TrimRight(line, "\r")
	if len(line) == 0 {
		return
	}
	if l.skipJSON && line[0] == '{' && json.Valid(line) {
		return
	}
	l.log.Info("plugin output", "stream", l.stream, "line", string(line))
}
