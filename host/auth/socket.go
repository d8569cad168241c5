package auth

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/user"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// maxSocketPathBytes is the longest unix socket path Linux accepts: the
// sun_path field of struct sockaddr_un holds 108 bytes including the NUL.
const maxSocketPathBytes = 107

// staleDialTimeout bounds the probe of an existing socket file.
const staleDialTimeout = time.Second

// SocketOptions configure Listen.
type SocketOptions struct {
	// Group, when set, is the name or numeric ID of a group whose members
	// may connect: the socket gets mode 0660 and that group. Empty means mode
	// 0600, so that only the daemon's user and root may connect.
	Group string
}

// Listen creates a unix socket at path with the mode and group of opts and
// listens on it. The mode is set on the socket before it is bound, so no
// other user can connect during start-up. A socket file left by a process
// that is gone is replaced. A socket that still accepts connections, or a
// file that is not a socket, is an error. Closing the listener removes the
// socket file unless another process has replaced it.
func Listen(path string, opts SocketOptions) (net.Listener, error) {
	if len(path) > maxSocketPathBytes {
		return nil, fmt.Errorf("listen on socket %s: the path has %d bytes, and Linux allows %d; use a shorter path",
			path, len(path), maxSocketPathBytes)
	}
	gid := -1
	if opts.Group != "" {
		g, err := lookupGroup(opts.Group)
		if err != nil {
			return nil, err
		}
		gid = g
	}
	if err := removeStaleSocket(path); err != nil {
		return nil, err
	}
	lis, err := bindSocket(path, gid)
	if err != nil {
		return nil, fmt.Errorf("listen on socket %s: %w", path, err)
	}
	return lis, nil
}

func lookupGroup(name string) (int, error) {
	g, err := user.LookupGroup(name)
	if err != nil {
		var unknown user.UnknownGroupError
		if _, numErr := strconv.Atoi(name); numErr != nil || !errors.As(err, &unknown) {
			return 0, fmt.Errorf("socket group %q: %w; create the group or name an existing one", name, err)
		}
		if g, err = user.LookupGroupId(name); err != nil {
			return 0, fmt.Errorf("socket group %q: %w; create the group or name an existing one", name, err)
		}
	}
	gid, err := strconv.Atoi(g.Gid)
	if err != nil {
		return 0, fmt.Errorf("socket group %q has a non-numeric ID %q", name, g.Gid)
	}
	return gid, nil
}

// removeStaleSocket removes a socket file at path that no process listens
// on any more.
func removeStaleSocket(path string) error {
	info, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("listen on socket %s: %w", path, err)
	}
	if info.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("listen on socket %s: the path exists and is not a socket; remove it or choose another path", path)
	}
	conn, err := net.DialTimeout("unix", path, staleDialTimeout)
	if err == nil {
		_ = conn.Close()
		return fmt.Errorf("listen on socket %s: another process is listening on it; stop that daemon or choose another socket path", path)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("listen on socket %s: probe the existing socket: %w", path, err)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("listen on socket %s: remove the stale socket: %w", path, err)
	}
	return nil
}

// bindSocket binds a new socket at path with mode 0600, or 0660 and group
// gid when gid is not -1, and listens on it.
func bindSocket(path string, gid int) (net.Listener, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socket: %w", err)
	}
	file := os.NewFile(uintptr(fd), path)
	defer file.Close() // net.FileListener keeps its own copy of fd.

	// Linux gives the socket file the mode of the socket's inode, less the
	// umask, so setting it before bind leaves no moment with a wider mode.
	if err := unix.Fchmod(fd, 0o600); err != nil {
		return nil, fmt.Errorf("set socket mode: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		return nil, fmt.Errorf("bind: %w", err)
	}
	fail := func(err error) (net.Listener, error) {
		_ = os.Remove(path)
		return nil, err
	}
	if gid != -1 {
		if err := os.Lchown(path, -1, gid); err != nil {
			return fail(fmt.Errorf("set socket group: %w", err))
		}
		if err := os.Chmod(path, 0o660); err != nil {
			return fail(fmt.Errorf("set socket mode: %w", err))
		}
	}
	if err := unix.Listen(fd, unix.SOMAXCONN); err != nil {
		return fail(fmt.Errorf("listen: %w", err))
	}
	info, err := os.Lstat(path)
	if err != nil {
		return fail(err)
	}
	lis, err := net.FileListener(file)
	if err != nil {
		return fail(err)
	}
	return &socketListener{Listener: lis, path: path, info: info}, nil
}

// socketListener removes its socket file when it is closed.
type socketListener struct {
	net.Listener
	path string
	// info identifies the file this listener bound, so that Close does not
	// remove a socket another process created at the same path since.
	info fs.FileInfo
	once sync.Once
}

func (l *socketListener) Close() error {
	err := l.Listener.Close()
	l.once.Do(func() {
		if now, statErr := os.Lstat(l.path); statErr == nil && os.SameFile(now, l.info) {
			_ = os.Remove(l.path)
		}
	})
	return err
}
