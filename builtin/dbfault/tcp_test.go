package dbfault

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// echoRoundTrip writes payload through conn and reads the same number of
// bytes back, with a deadline.
func echoRoundTrip(t *testing.T, conn net.Conn, payload []byte) []byte {
	t.Helper()
	if err := conn.SetDeadline(time.Now().Add(20 * time.Second)); err != nil {
		t.Fatalf("set deadline: %v", err)
	}
	writeErr := make(chan error, 1)
	go func() {
		_, err := conn.Write(payload)
		writeErr <- err
	}()
	got := make([]byte, len(payload))
	if _, err := io.ReadFull(conn, got); err != nil {
		t.Fatalf("read echo: %v", err)
	}
	if err := <-writeErr; err != nil {
		t.Fatalf("write: %v", err)
	}
	return got
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("random bytes: %v", err)
	}
	return b
}

func TestTCPTransparent(t *testing.T) {
	_, addr := tcpProxy(t)
	conn := dial(t, addr)
	payload := randomBytes(t, 4<<20)
	if got := echoRoundTrip(t, conn, payload); !bytes.Equal(got, payload) {
		t.Fatal("bytes echoed through the proxy differ from the bytes sent")
	}

	// A half-close by the client reaches the server, whose half-close
	// reaches the client as end of stream.
	if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatalf("close write: %v", err)
	}
	if n, err := conn.Read(make([]byte, 1)); n != 0 || !errors.Is(err, io.EOF) {
		t.Errorf("read after half-close: %d bytes, error %v, expected EOF", n, err)
	}
}

func TestTCPBandwidth(t *testing.T) {
	const (
		rate = 64 << 10
		size = 32 << 10
	)
	p, addr := tcpProxy(t)
	addFault(t, p, map[string]any{"proxy": "echo", "type": "bandwidth", "bytes_per_second": rate, "duration": "1m"})
	conn := dial(t, addr)
	payload := randomBytes(t, size)

	start := time.Now()
	got := echoRoundTrip(t, conn, payload)
	elapsed := time.Since(start)
	if !bytes.Equal(got, payload) {
		t.Fatal("bytes echoed through the bandwidth limit differ from the bytes sent")
	}
	// The first pace interval is sent at once, so the minimum time is the
	// rest of the payload at the limited rate.
	minimum := time.Duration(size-rate/20) * time.Second / rate
	if elapsed < minimum {
		t.Errorf("%d bytes at %d bytes/s took %s, expected at least %s", size, rate, elapsed, minimum)
	}
}

func TestTCPSlicer(t *testing.T) {
	const delay = 100 * time.Millisecond
	p, addr := tcpProxy(t)
	addFault(t, p, map[string]any{
		"proxy": "echo", "type": "slicer", "average_size": 100, "size_variation": 20,
		"delay": delay.String(), "duration": "1m",
	})
	conn := dial(t, addr)
	payload := randomBytes(t, 600)
	if _, err := conn.Write(payload); err != nil {
		t.Fatalf("write: %v", err)
	}
	if err := conn.SetReadDeadline(time.Now().Add(20 * time.Second)); err != nil {
		t.Fatalf("set deadline: %v", err)
	}

	start := time.Now()
	var got []byte
	buf := make([]byte, 4096)
	for len(got) < len(payload) {
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		// The next slice comes 100 ms after the first, so the first read
		// returns one slice unless the reader stalled that long.
		if len(got) == 0 && n > 120 {
			t.Errorf("first read returned %d bytes, expected one slice of 80 to 120", n)
		}
		got = append(got, buf[:n]...)
	}
	if !bytes.Equal(got, payload) {
		t.Fatal("sliced bytes differ from the bytes sent")
	}
	// 600 bytes make at least 5 slices of at most 120 bytes, with a pause
	// between each two.
	if elapsed := time.Since(start); elapsed < 4*delay {
		t.Errorf("slices arrived within %s, expected at least 4 pauses of %s", elapsed, delay)
	}
}

func TestTCPConnectionResetAfterBytes(t *testing.T) {
	const limit = 1000
	p, addr := tcpProxy(t)
	addFault(t, p, map[string]any{
		"proxy": "echo", "type": "connection_reset", "connections": "new",
		"after_bytes": limit, "direction": "downstream", "duration": "1m",
	})
	conn := dial(t, addr)
	if _, err := conn.Write(randomBytes(t, 3*limit)); err != nil {
		t.Fatalf("write: %v", err)
	}
	if err := conn.SetReadDeadline(time.Now().Add(20 * time.Second)); err != nil {
		t.Fatalf("set deadline: %v", err)
	}
	received, err := io.Copy(io.Discard, conn)
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("read ended with %v, expected a connection reset", err)
	}
	// Linux drops data still unread when the RST arrives, so fewer bytes
	// than the limit may be seen, but never more.
	if received > limit {
		t.Errorf("received %d bytes, expected at most %d before the reset", received, limit)
	}
}

func TestTCPConnectionTimeout(t *testing.T) {
	p, addr := tcpProxy(t)
	id := addFault(t, p, map[string]any{"proxy": "echo", "type": "connection_timeout", "duration": "1m"})
	conn := dial(t, addr)
	if _, err := conn.Write([]byte("ping")); err != nil {
		t.Fatalf("write: %v", err)
	}
	if err := conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond)); err != nil {
		t.Fatalf("set deadline: %v", err)
	}
	if _, err := conn.Read(make([]byte, 4)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read during connection_timeout: %v, expected no answer", err)
	}

	// Removing the fault releases the held connection, and what the
	// client sent meanwhile reaches the server.
	call(t, p, "", map[string]any{"operation": OpRemoveFault, "id": id})
	if err := conn.SetReadDeadline(time.Now().Add(20 * time.Second)); err != nil {
		t.Fatalf("set deadline: %v", err)
	}
	got := make([]byte, 4)
	if _, err := io.ReadFull(conn, got); err != nil || string(got) != "ping" {
		t.Fatalf("read after the fault ended: %q, %v; expected the echo of ping", got, err)
	}
}

func TestTCPProbabilityZero(t *testing.T) {
	p, addr := tcpProxy(t)
	addFault(t, p, map[string]any{"proxy": "echo", "type": "connection_reset", "probability": 0, "duration": "1m"})
	for range 20 {
		conn := dial(t, addr)
		if got := echoRoundTrip(t, conn, []byte("hello")); string(got) != "hello" {
			t.Fatalf("echo %q, expected hello", got)
		}
	}
}

func TestTCPConnectionResetAll(t *testing.T) {
	p, addr := tcpProxy(t)
	existing := dial(t, addr)
	echoRoundTrip(t, existing, []byte("before"))
	addFault(t, p, map[string]any{"proxy": "echo", "type": "connection_reset", "duration": "1m"})

	expectReset := func(t *testing.T, conn net.Conn) {
		t.Helper()
		if err := conn.SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
			t.Fatalf("set deadline: %v", err)
		}
		// Only the first call after the RST reports it, so the test reads
		// without writing first.
		if _, err := conn.Read(make([]byte, 4)); !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("read returned %v, expected a connection reset", err)
		}
	}
	t.Run("existing", func(t *testing.T) { expectReset(t, existing) })
	t.Run("new", func(t *testing.T) {
		// The RST can arrive before connect returns, which fails the dial.
		conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			if !errors.Is(err, syscall.ECONNRESET) {
				t.Fatalf("dial: %v, expected success or a connection reset", err)
			}
			return
		}
		defer conn.Close()
		expectReset(t, conn)
	})
}
