package dbfault

import (
	"bufio"
	"errors"
	"io"
	"net"
	"sync"
)

// maxInspectBytes bounds the messages that a protocol relay reads whole to
// find SQL text. Larger messages are forwarded as a stream, and faults with
// a match pattern do not apply to them.
const maxInspectBytes = 8 << 20

// relayBufferSize is the size of each of the four read and write buffers of
// a postgres or mysql connection, so one connection holds 64 KiB of them.
const relayBufferSize = 16 << 10

// lockedWriter is a buffered writer toward the client that both directions
// of a relay use. The downstream direction writes the server's messages,
// and the upstream direction writes replies that the proxy builds itself.
type lockedWriter struct {
	mu sync.Mutex
	w  *bufio.Writer
}

func newLockedWriter(dst io.Writer) *lockedWriter {
	return &lockedWriter{w: bufio.NewWriterSize(dst, relayBufferSize)}
}

func (lw *lockedWriter) Write(p []byte) (int, error) {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	return lw.w.Write(p)
}

// Flush sends the buffered bytes.
func (lw *lockedWriter) Flush() error {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	return lw.w.Flush()
}

// writeNow writes p and flushes.
func (lw *lockedWriter) writeNow(p []byte) error {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	if _, err := lw.w.Write(p); err != nil {
		return err
	}
	return lw.w.Flush()
}

// flusher is a writer that buffers.
type flusher interface {
	io.Writer
	Flush() error
}

// copyN copies n bytes from src to dst through src's buffer, without the
// allocation io.CopyN makes per call.
func copyN(dst io.Writer, src *bufio.Reader, n int) error {
	for n > 0 {
		if src.Buffered() == 0 {
			if _, err := src.Peek(1); err != nil {
				return unexpectedEOF(err)
			}
		}
		chunk := min(n, src.Buffered())
		b, _ := src.Peek(chunk)
		if _, err := dst.Write(b); err != nil {
			return err
		}
		_, _ = src.Discard(chunk)
		n -= chunk
	}
	return nil
}

// readMessage reads the next n bytes of src into scratch, reusing its
// memory, and returns them.
func readMessage(src *bufio.Reader, n int, scratch *[]byte) ([]byte, error) {
	if cap(*scratch) < n {
		*scratch = make([]byte, n)
	}
	buf := (*scratch)[:n]
	if _, err := io.ReadFull(src, buf); err != nil {
		return nil, unexpectedEOF(err)
	}
	return buf, nil
}

func unexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// passRaw forwards the rest of a stream without reading it: first what src
// has buffered, through buffered, then everything that conn delivers,
// straight to dst. buffered and dst lead to the same peer.
func passRaw(buffered flusher, dst io.Writer, src *bufio.Reader, conn net.Conn) error {
	if n := src.Buffered(); n > 0 {
		if err := copyN(buffered, src, n); err != nil {
			return err
		}
	}
	if err := buffered.Flush(); err != nil {
		return err
	}
	return copyRaw(dst, conn)
}

// cString returns the NUL-terminated string at the start of b and the
// bytes after the NUL; ok is false when b has no NUL.
func cString(b []byte) (s string, rest []byte, ok bool) {
	for i, c := range b {
		if c == 0 {
			return string(b[:i]), b[i+1:], true
		}
	}
	return "", nil, false
}
