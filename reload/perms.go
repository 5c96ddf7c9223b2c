package reload

import (
	"io/fs"
	"os"
)

// permProblems says what is wrong with the permissions of a file with
// mode m, holding a secret (hmac.key) or not (config.data, which holds
// secrets too but must be readable by the confd group): empty if nothing.
// Ganeti's ensure-dirs sets config.data 0640 gnt-masterd:gnt-confd and
// hmac.key 0440 gnt-confd:gnt-masterd (docs/security.md).
func permProblems(m fs.FileMode, key bool) string {
	switch {
	case m&0o002 != 0:
		return "writable by every user: anyone on this host can change what confd answers"
	case key && m&0o004 != 0:
		return "readable by every user: anyone on this host can sign requests and read every answer"
	case m&0o004 != 0:
		return "readable by every user: it holds the cluster's secrets (DRBD secrets, private OS parameters)"
	case key && m&0o020 != 0:
		return "writable by its group: the group can change the key and lock confd's clients out"
	}
	return ""
}

// checkPerms logs, once at start-up, a warning for each of the two files
// whose permissions are looser than Ganeti sets them. It never stops the
// daemon (Ganeti's own does not check).
func (w *Watcher) checkPerms() {
	for _, f := range []struct {
		path string
		key  bool
	}{{w.cfg.Path, false}, {w.keyPath, true}} {
		if f.path == "" {
			continue
		}
		fi, err := os.Stat(f.path)
		if err != nil {
			continue // reported by the load
		}
		if p := permProblems(fi.Mode().Perm(), f.key); p != "" {
			w.log.Warn("file permissions looser than Ganeti's: "+p, "path", f.path, "mode", fi.Mode().Perm().String())
		}
	}
}
