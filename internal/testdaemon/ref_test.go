package testdaemon

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestModuleRoot(t *testing.T) {
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil || !strings.HasPrefix(string(mod), "module github.com/goconfd/goconfd\n") {
		t.Fatalf("%s/go.mod: %.40q, %v", root, mod, err)
	}
	if wd, _ := os.Getwd(); wd != filepath.Join(root, "internal", "testdaemon") {
		t.Errorf("module root %s is not two levels above %s", root, wd)
	}
}

func TestRefDir(t *testing.T) {
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	other := t.TempDir()
	tests := []struct {
		name, env, want string
	}{
		{"default", "", filepath.Join(root, "conformance", "reference")},
		{"from the environment", other, other},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EnvRefDir, tt.env)
			if got := RefDir(); got != tt.want {
				t.Errorf("RefDir() = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestRefCache(t *testing.T) {
	tests := []struct {
		env, want string
	}{
		{"", defaultRefCache},
		{"/somewhere/else", "/somewhere/else"},
	}
	for _, tt := range tests {
		t.Setenv(EnvRefCache, tt.env)
		if got := RefCache(); got != tt.want {
			t.Errorf("with %s=%q: RefCache() = %s, want %s", EnvRefCache, tt.env, got, tt.want)
		}
		if got := RefConfd(); got != filepath.Join(tt.want, refConfdRel) {
			t.Errorf("with %s=%q: RefConfd() = %s", EnvRefCache, tt.env, got)
		}
	}
}

func TestCheckReference(t *testing.T) {
	cache, scripts := t.TempDir(), t.TempDir()
	bin := filepath.Join(cache, refConfdRel)
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(scripts, "pyquery.py"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(EnvRefCache, cache)
	t.Setenv(EnvRefDir, scripts)
	tests := []struct {
		name    string
		binMode os.FileMode // 0: no binary
		scripts []string
		want    string // "" for nil, else a part of the error
	}{
		{"no binary", 0, nil, "no executable " + bin},
		{"not executable", 0o644, nil, "no executable"},
		{"installed", 0o755, nil, ""},
		{"with a present script", 0o755, []string{"pyquery.py"}, ""},
		{"with a missing script", 0o755, []string{"pyquery.py", "start-ref.sh"}, "start-ref.sh missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_ = os.Remove(bin)
			if tt.binMode != 0 {
				if err := os.WriteFile(bin, nil, tt.binMode); err != nil {
					t.Fatal(err)
				}
			}
			err := CheckReference(tt.scripts...)
			if tt.want == "" {
				if err != nil {
					t.Errorf("CheckReference: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrNoReference) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("CheckReference: %v, want ErrNoReference with %q", err, tt.want)
			}
		})
	}
}

func TestRequired(t *testing.T) {
	for env, want := range map[string]bool{"": false, "0": false, "1": true} {
		t.Setenv(EnvRequired, env)
		if got := Required(); got != want {
			t.Errorf("with %s=%q: Required() = %v", EnvRequired, env, got)
		}
	}
}
