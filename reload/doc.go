// Package reload keeps what the daemon answers from current: it loads
// config.data and hmac.key, publishes a snapshot (or the reason there is
// none) and the key, and watches both files for changes.
//
// Ganeti 3.0 (docs/protocol.md §6) watches config.data's inode with inotify,
// falls back to polling, and compares (whole-second mtime, inode, size) to
// decide whether to reload; a bad file replaces the good config, and the
// key is read once. goconfd differs on purpose:
//
//   - It watches the directories that hold the files (fsnotify), so a
//     rename-over, an in-place rewrite, a copy, a delete and a re-creation
//     are all seen at once, and the new config is usually served a few
//     milliseconds after the write.
//   - It also stats both files every PollInterval and compares the
//     content of config.data with what it last loaded every
//     SafetyInterval, whatever inotify says: a write that no event reports
//     (through a hard link in another directory, over NFS, a lost event)
//     is picked up within about a second. The content check hashes the
//     file through a fixed buffer, off the query path: about 12 ms of one
//     core for 50 MB, no allocation. Without inotify (too few watches,
//     say) it polls only, and says so once in the log.
//   - Change is decided by content (a 64-bit hash), not by time stamps: a
//     rewrite with the same size in the same second is still a change, and
//     a touch or a copy of the same bytes is not.
//   - Loads are paced by their cost: after a load that cost c (its wall
//     time, or the process's CPU time meanwhile if larger), the next one
//     starts no sooner than c/LoadShare after its start and MinInterval
//     (5 ms) after its end. A small config is served within milliseconds
//     of every write even in a storm, while a write storm of a large one
//     costs at most LoadShare (half) of one CPU.
//   - A config that fails to read, parse or validate never replaces a good
//     snapshot; the failure is logged once and shown in Status. A deleted
//     config stops the answers, as in Ganeti.
//   - hmac.key is watched too; a new key takes effect without a restart. A
//     key that later becomes unreadable or empty keeps the last good one.
//   - A large config.data is mapped rather than copied into the heap, and
//     hashed again after the load: a content rewritten in place while it
//     was read (or truncated under the mapping) is not published but read
//     again. The parts of the config that did not change since the last
//     good load are reused, not read again (config.Loader).
//
// Everything heavy (reading, hashing, parsing) happens on the Watcher's own
// goroutine (parsing fans out to one worker per CPU when much is new);
// readers only ever see a finished snapshot, published by one pointer
// store. docs/snapshot.md has the measured costs.
package reload
