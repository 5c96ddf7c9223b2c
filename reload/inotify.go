package reload

import (
	"fmt"

	"github.com/fsnotify/fsnotify"
)

// eventSource is the source of directory events: fsnotify, or a fake in
// tests.
type eventSource interface {
	Events() <-chan fsnotify.Event
	Errors() <-chan error
	Close() error
}

// fsWatcher is an fsnotify.Watcher as an eventSource.
type fsWatcher struct{ w *fsnotify.Watcher }

func (f fsWatcher) Events() <-chan fsnotify.Event { return f.w.Events }
func (f fsWatcher) Errors() <-chan error          { return f.w.Errors }
func (f fsWatcher) Close() error                  { return f.w.Close() }

// newFSWatcher watches dirs with inotify. It fails when the process may
// not create another inotify instance (fs.inotify.max_user_instances) or
// watch (fs.inotify.max_user_watches), or a directory is missing.
//
// Directories rather than the files: Ganeti replaces config.data by
// renaming a new file over it, and a watch on the file would stay on the
// old inode (docs/protocol.md §6.2).
func newFSWatcher(dirs []string) (eventSource, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("starting inotify: %w", err)
	}
	for _, d := range dirs {
		if err := w.Add(d); err != nil {
			w.Close()
			return nil, fmt.Errorf("watching %s: %w", d, err)
		}
	}
	return fsWatcher{w}, nil
}
