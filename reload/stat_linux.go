package reload

import (
	"os"
	"syscall"
)

// fileID identifies one version of a file without reading it: a poll
// reads the file only when this changes (or when the safety timer says
// so, since two writes within one clock tick can leave it unchanged).
type fileID struct {
	ino, dev     uint64
	size         int64
	mtime, ctime int64
}

func identify(fi os.FileInfo) fileID {
	id := fileID{size: fi.Size(), mtime: fi.ModTime().UnixNano()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		id.ino, id.dev = st.Ino, uint64(st.Dev)
		id.ctime = st.Ctim.Nano()
	}
	return id
}
