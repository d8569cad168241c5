package discovery

import (
	"os"
	"syscall"
)

func identityOf(info os.FileInfo) identity {
	id := identity{size: info.Size(), mtime: info.ModTime(), mode: info.Mode()}
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		id.ino = st.Ino
		id.ctime = st.Ctim.Nano()
	}
	return id
}
