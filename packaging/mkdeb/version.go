package main

import (
	"fmt"
	"regexp"
	"strings"
)

// describeRE matches `git describe --tags --long` output for a release
// tag: v1.2.3-N-gHASH.
var describeRE = regexp.MustCompile(`^v([0-9][0-9A-Za-z.+~]*)-([0-9]+)-g([0-9a-f]+)$`)

// debVersion turns what git says of HEAD into a Debian version that
// sorts the way the history does:
//
//	tag v1.2.3 on HEAD                  1.2.3
//	5 commits after v1.2.3              1.2.3+git5.gabc1234
//	no release tag (commit time, hash)  0.0~git20261202102532.abc1234
//
// and a tree with uncommitted changes gets "+dirty" (such a build is for
// testing; two of them share a version). describe is `git describe
// --tags --long --match v[0-9]*` ("" when there is no tag), commitTime
// the commit's UTC time as YYYYMMDDHHMMSS, hash its short hash.
func debVersion(describe, commitTime, hash string, dirty bool) (string, error) {
	var v string
	switch m := describeRE.FindStringSubmatch(describe); {
	case m != nil && m[2] == "0":
		v = m[1]
	case m != nil:
		v = fmt.Sprintf("%s+git%s.g%s", m[1], m[2], m[3])
	case describe != "":
		return "", fmt.Errorf("unexpected git describe output %q (want vX.Y.Z-N-gHASH)", describe)
	case commitTime == "" || hash == "":
		return "", fmt.Errorf("no release tag, and no commit time or hash to build a version from")
	default:
		v = fmt.Sprintf("0.0~git%s.%s", commitTime, hash)
	}
	if dirty {
		v += "+dirty"
	}
	if strings.ContainsAny(v, " _/") {
		return "", fmt.Errorf("version %q is not a Debian version", v)
	}
	return v, nil
}
