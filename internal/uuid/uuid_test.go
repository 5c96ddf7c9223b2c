package uuid

import (
	"regexp"
	"testing"
)

func TestV4(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   [16]byte
		want string
	}{
		{"zeros", [16]byte{}, "00000000-0000-4000-8000-000000000000"},
		{"ones", [16]byte{0: 0xff, 1: 0xff, 2: 0xff, 3: 0xff, 4: 0xff, 5: 0xff, 6: 0xff, 7: 0xff, 8: 0xff, 9: 0xff, 10: 0xff, 11: 0xff, 12: 0xff, 13: 0xff, 14: 0xff, 15: 0xff},
			"ffffffff-ffff-4fff-bfff-ffffffffffff"},
		{"counting", [16]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, "00010203-0405-4607-8809-0a0b0c0d0e0f"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := V4(tc.in); got != tc.want {
				t.Errorf("V4(%x) = %s, want %s", tc.in, got, tc.want)
			}
		})
	}
}

func TestNew(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	a, b := New(), New()
	for _, u := range []string{a, b} {
		if !re.MatchString(u) {
			t.Errorf("New() = %q: not a version 4 UUID", u)
		}
	}
	if a == b {
		t.Errorf("New() returned %s twice", a)
	}
}
