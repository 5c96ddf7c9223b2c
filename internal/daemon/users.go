package daemon

import (
	"errors"
	"fmt"
	"os/user"
	"strconv"

	"github.com/goconfd/goconfd/internal/hs"
)

// ErrNoEntry is what an Accounts returns, possibly wrapped, for a user or
// group that does not exist.
var ErrNoEntry = errors.New("no such entry")

// Accounts looks users and groups up by name: the system's database in
// production (SystemAccounts), a map in tests.
type Accounts interface {
	// LookupUser returns the user's numeric ID.
	LookupUser(name string) (uid int, err error)
	// LookupGroup returns the group's numeric ID.
	LookupGroup(name string) (gid int, err error)
}

// SystemAccounts looks users and groups up with os/user (NSS through the
// C library when cgo is on, else /etc/passwd and /etc/group).
type SystemAccounts struct{}

// LookupUser implements Accounts.
func (SystemAccounts) LookupUser(name string) (int, error) {
	u, err := user.Lookup(name)
	if err != nil {
		var unknown user.UnknownUserError
		if errors.As(err, &unknown) {
			return 0, fmt.Errorf("user %s: %w", name, ErrNoEntry)
		}
		return 0, err
	}
	return strconv.Atoi(u.Uid)
}

// LookupGroup implements Accounts.
func (SystemAccounts) LookupGroup(name string) (int, error) {
	g, err := user.LookupGroup(name)
	if err != nil {
		var unknown user.UnknownGroupError
		if errors.As(err, &unknown) {
			return 0, fmt.Errorf("group %s: %w", name, ErrNoEntry)
		}
		return 0, err
	}
	return strconv.Atoi(g.Gid)
}

// The users of Ganeti's daemons, in Ganeti's order of its GanetiDaemon
// type (masterd, metad, noded, rapi, confd, wconfd, kvmd, luxid, mond),
// and its groups: one per daemon in the same order, then the daemons and
// admin groups. The names are those of Debian's build of Ganeti 3.0
// (MASTERD_USER and the others in its _constants.py), which baked them
// in at build time as every Ganeti build does.
var (
	ganetiUsers = []string{
		"gnt-masterd", "gnt-metad", "root", "gnt-rapi", ConfdUser,
		"gnt-masterd", "root", "gnt-masterd", "root",
	}
	ganetiGroups = []string{
		"gnt-masterd", "gnt-metad", "root", "gnt-rapi", "gnt-confd",
		"gnt-masterd", "root", "gnt-luxid", "root",
		"gnt-daemons", "gnt-admin",
	}
)

// ConfdUser is the user ganeti-confd must run as.
const ConfdUser = "gnt-confd"

// UserCheckError is a failed user check, in Ganeti's words; the daemon
// prints it and exits 1.
type UserCheckError struct{ msg string }

func (e *UserCheckError) Error() string { return e.msg }

// CheckUser does Ganeti's user checks (getEnts and verifyDaemonUser in
// src/Ganeti/Runtime.hs): every Ganeti user, then every Ganeti group,
// must exist, and the effective user ID euid must be ConfdUser's. The
// first failure is returned as a *UserCheckError worded as Ganeti's:
//
//	Error: Can't find required user/groups: getUserEntryForName: does not exist (no such user)
//	ganeti-confd started using wrong user ID (0), expected 1004
//
// Like Ganeti's, the message does not say which user is missing.
func CheckUser(acc Accounts, euid int) error {
	confdUID := -1
	for _, name := range ganetiUsers {
		uid, err := acc.LookupUser(name)
		if err != nil {
			return entsError("getUserEntryForName", "no such user", err)
		}
		if name == ConfdUser {
			confdUID = uid
		}
	}
	for _, name := range ganetiGroups {
		if _, err := acc.LookupGroup(name); err != nil {
			return entsError("getGroupEntryForName", "no such group", err)
		}
	}
	if euid != confdUID {
		return &UserCheckError{fmt.Sprintf("%s started using wrong user ID (%d), expected %d", Program, euid, confdUID)}
	}
	return nil
}

// entsError words a failed lookup as Ganeti's exitIfBad does with the
// IOError of System.Posix.User.
func entsError(loc, missing string, err error) error {
	desc := hs.KindNoSuchThing + " (" + missing + ")"
	if !errors.Is(err, ErrNoEntry) {
		desc = hs.DescribeIOError(err)
	}
	return &UserCheckError{"Error: Can't find required user/groups: " + loc + ": " + desc}
}
