// Command mkdeb builds goconfd's Debian package from the repository:
// the three binaries (static, with the package's version linked in), the
// man pages (docs/man/*.md through go-md2man), the maintainer scripts
// (packaging/scripts) and nfpm's description (packaging/nfpm.yaml).
//
//	make deb                                   # the same as:
//	cd packaging && go run ./mkdeb -o ../dist  # dist/goconfd_<version>_amd64.deb
//
// The version comes from git (see debVersion) unless -version gives one.
package main

import (
	"bytes"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/cpuguy83/go-md2man/v2/md2man"
	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/deb" // registers the deb packager
)

// modulePath is the main module's path, how mkdeb knows it found the root.
const modulePath = "github.com/goconfd/goconfd"

// binaries are the commands the package installs.
var binaries = []string{"ganeti-confd", "confd-client", "confd-load"}

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "mkdeb:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("mkdeb", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "dist", "output `directory`")
	version := fs.String("version", "", "package `version` (default: from git, see packaging/README.md)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	root, err := findRoot()
	if err != nil {
		return err
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return errors.New("the go command is not on PATH: install Go (https://go.dev/dl/) or add /usr/local/go/bin to PATH")
	}
	if *version == "" {
		if *version, err = gitVersion(root); err != nil {
			return err
		}
	}
	stage, err := os.MkdirTemp("", "goconfd-deb-")
	if err != nil {
		return fmt.Errorf("staging directory: %w", err)
	}
	defer os.RemoveAll(stage)

	step := func(name string, f func() error) error {
		start := time.Now()
		if err := f(); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		fmt.Fprintf(stdout, "mkdeb: %s (%.1fs)\n", name, time.Since(start).Seconds())
		return nil
	}
	if err := step("build binaries", func() error { return buildBinaries(goBin, root, stage, *version) }); err != nil {
		return err
	}
	if err := step("man pages", func() error { return buildManPages(root, filepath.Join(stage, "man")) }); err != nil {
		return err
	}
	if err := step("maintainer scripts", func() error { return buildScripts(root, filepath.Join(stage, "scripts")) }); err != nil {
		return err
	}
	var target string
	if err := step("package", func() (err error) {
		target, err = pack(root, stage, *version, *out)
		return err
	}); err != nil {
		return err
	}
	fmt.Fprintln(stdout, target)
	return nil
}

// findRoot walks up from the working directory to the main module's root.
func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(data, []byte("module "+modulePath+"\n")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("not inside goconfd's repository (no go.mod of %s above the working directory)", modulePath)
		}
		dir = parent
	}
}

// gitVersion asks git about HEAD and makes a Debian version of it.
func gitVersion(root string) (string, error) {
	git, err := exec.LookPath("git")
	if err != nil {
		return "", errors.New("git is not on PATH: install it (apt-get install git) or give the version with -version")
	}
	out := func(args ...string) (string, error) {
		cmd := exec.Command(git, args...)
		cmd.Dir = root
		b, err := cmd.Output()
		return strings.TrimSpace(string(b)), err
	}
	hash, err := out("rev-parse", "--short=12", "HEAD")
	if err != nil {
		return "", fmt.Errorf("git rev-parse HEAD (not a git checkout? give the version with -version): %w", err)
	}
	describe, _ := out("describe", "--tags", "--long", "--match", "v[0-9]*") // no tag: ""
	commitTime, err := out("-c", "log.showSignature=false", "log", "-1", "--date=format-local:%Y%m%d%H%M%S", "--format=%cd")
	if err != nil {
		return "", fmt.Errorf("git log: %w", err)
	}
	status, err := out("status", "--porcelain", "--untracked-files=no")
	if err != nil {
		return "", fmt.Errorf("git status: %w", err)
	}
	return debVersion(describe, commitTime, hash, status != "")
}

// buildBinaries builds static binaries with the version linked in, so
// that `dpkg -l`, `-V` and the startup log line agree.
func buildBinaries(goBin, root, stage, version string) error {
	ldflags := "-s -w -X " + modulePath + "/internal/version.linked=" + version
	for _, name := range binaries {
		cmd := exec.Command(goBin, "build", "-trimpath", "-ldflags", ldflags,
			"-o", filepath.Join(stage, name), "./cmd/"+name)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build ./cmd/%s: %w\n%s", name, err, out)
		}
	}
	return nil
}

// buildManPages renders docs/man/NAME.SECTION.md to NAME.SECTION.gz.
func buildManPages(root, dir string) error {
	pages, err := filepath.Glob(filepath.Join(root, "docs", "man", "*.[0-9].md"))
	if err != nil || len(pages) == 0 {
		return fmt.Errorf("no man page sources in docs/man (%v)", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, src := range pages {
		md, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		var gz bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression) // no name, no time: reproducible
		zw.Write(md2man.Render(md))
		if err := zw.Close(); err != nil {
			return err
		}
		name := strings.TrimSuffix(filepath.Base(src), ".md") + ".gz"
		if err := os.WriteFile(filepath.Join(dir, name), gz.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// buildScripts puts packaging/scripts/lib.sh at the top of each
// maintainer script: postrm runs after the package's files are removed,
// so the scripts cannot source a file of the package.
func buildScripts(root, dir string) error {
	src := filepath.Join(root, "packaging", "scripts")
	lib, err := os.ReadFile(filepath.Join(src, "lib.sh"))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, name := range []string{"preinst", "postinst", "prerm", "postrm"} {
		body, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			return err
		}
		script := "#!/bin/sh\n# goconfd " + name + ", made by packaging/mkdeb from packaging/scripts.\n" +
			string(lib) + "\n" + string(body)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
			return err
		}
	}
	return nil
}

// pack runs nfpm on packaging/nfpm.yaml and writes the .deb into out.
func pack(root, stage, version, out string) (string, error) {
	// The variables are expanded in the whole file before nfpm reads it:
	// nfpm itself expands them only in some fields.
	yml, err := os.ReadFile(filepath.Join(root, "packaging", "nfpm.yaml"))
	if err != nil {
		return "", err
	}
	vars := map[string]string{"VERSION": version, "STAGE": stage, "ROOT": root}
	var unknown []string
	expanded := os.Expand(string(yml), func(k string) string {
		v, ok := vars[k]
		if !ok {
			unknown = append(unknown, k)
		}
		return v
	})
	if len(unknown) > 0 {
		return "", fmt.Errorf("packaging/nfpm.yaml: unknown variables %q", unknown)
	}
	cfg, err := nfpm.Parse(strings.NewReader(expanded))
	if err != nil {
		return "", fmt.Errorf("packaging/nfpm.yaml: %w", err)
	}
	info, err := cfg.Get("deb")
	if err != nil {
		return "", err
	}
	info = nfpm.WithDefaults(info)
	pkgr, err := nfpm.Get("deb")
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", err
	}
	target := filepath.Join(out, pkgr.ConventionalFileName(info))
	f, err := os.Create(target)
	if err != nil {
		return "", err
	}
	info.Target = target
	if err := pkgr.Package(info, f); err != nil {
		f.Close()
		os.Remove(target)
		return "", fmt.Errorf("nfpm: %w", err)
	}
	return target, f.Close()
}
