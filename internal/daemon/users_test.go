package daemon

import (
	"errors"
	"fmt"
	"testing"
)

// fakeAccounts is a user database in a map; absent names are ErrNoEntry,
// names in broken fail otherwise.
type fakeAccounts struct {
	users, groups map[string]int
	broken        map[string]error
}

func (f fakeAccounts) LookupUser(name string) (int, error) {
	if err := f.broken[name]; err != nil {
		return 0, err
	}
	if id, ok := f.users[name]; ok {
		return id, nil
	}
	return 0, fmt.Errorf("user %s: %w", name, ErrNoEntry)
}

func (f fakeAccounts) LookupGroup(name string) (int, error) {
	if id, ok := f.groups[name]; ok {
		return id, nil
	}
	return 0, fmt.Errorf("group %s: %w", name, ErrNoEntry)
}

// debianAccounts has every user and group of Debian's Ganeti, with
// gnt-confd as uid.
func debianAccounts(confdUID int) fakeAccounts {
	return fakeAccounts{
		users: map[string]int{"root": 0, "gnt-masterd": 1001, "gnt-metad": 1002, "gnt-rapi": 1003, "gnt-confd": confdUID},
		groups: map[string]int{"root": 0, "gnt-masterd": 1001, "gnt-metad": 1002, "gnt-rapi": 1003, "gnt-confd": 1004,
			"gnt-luxid": 1005, "gnt-daemons": 1006, "gnt-admin": 1007},
	}
}

func TestCheckUser(t *testing.T) {
	without := func(m map[string]int, name string) map[string]int {
		c := map[string]int{}
		for k, v := range m {
			if k != name {
				c[k] = v
			}
		}
		return c
	}
	full := debianAccounts(1004)
	tests := []struct {
		name    string
		acc     fakeAccounts
		euid    int
		wantErr string
	}{
		{"confd user", full, 1004, ""},
		{"root", full, 0, "ganeti-confd started using wrong user ID (0), expected 1004"},
		{"confd user is root", debianAccounts(0), 0, ""},
		{"no users at all", fakeAccounts{}, 0, "Error: Can't find required user/groups: getUserEntryForName: does not exist (no such user)"},
		{"no confd user", fakeAccounts{users: without(full.users, "gnt-confd"), groups: full.groups}, 1004,
			"Error: Can't find required user/groups: getUserEntryForName: does not exist (no such user)"},
		{"users before groups", fakeAccounts{users: without(full.users, "gnt-rapi")}, 1004,
			"Error: Can't find required user/groups: getUserEntryForName: does not exist (no such user)"},
		{"no admin group", fakeAccounts{users: full.users, groups: without(full.groups, "gnt-admin")}, 1004,
			"Error: Can't find required user/groups: getGroupEntryForName: does not exist (no such group)"},
		{"no daemons group, wrong user", fakeAccounts{users: full.users, groups: without(full.groups, "gnt-daemons")}, 0,
			"Error: Can't find required user/groups: getGroupEntryForName: does not exist (no such group)"},
		{"lookup failure", fakeAccounts{users: full.users, groups: full.groups, broken: map[string]error{"root": errors.New("nss down")}}, 1004,
			"Error: Can't find required user/groups: getUserEntryForName: failed (nss down)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckUser(tt.acc, tt.euid)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("CheckUser: %v", err)
				}
				return
			}
			var ue *UserCheckError
			if !errors.As(err, &ue) || err.Error() != tt.wantErr {
				t.Errorf("CheckUser = %v\nwant %s", err, tt.wantErr)
			}
		})
	}
}

// TestSystemAccounts asks the real database for root, which every
// system has, and for a name no system has.
func TestSystemAccounts(t *testing.T) {
	var acc SystemAccounts
	if uid, err := acc.LookupUser("root"); err != nil || uid != 0 {
		t.Errorf("LookupUser(root) = %d, %v", uid, err)
	}
	if gid, err := acc.LookupGroup("root"); err != nil || gid != 0 {
		t.Errorf("LookupGroup(root) = %d, %v", gid, err)
	}
	if _, err := acc.LookupUser("gnt-no-such-user-x"); !errors.Is(err, ErrNoEntry) {
		t.Errorf("LookupUser(missing) = %v, want ErrNoEntry", err)
	}
	if _, err := acc.LookupGroup("gnt-no-such-group-x"); !errors.Is(err, ErrNoEntry) {
		t.Errorf("LookupGroup(missing) = %v, want ErrNoEntry", err)
	}
}
