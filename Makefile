# Conveniences over the go tool; CI runs .ci/run.
#
#   make deb        the Debian package, in dist/ (packaging/README.md)
#   make deb-test   the package installed, used and removed in a throwaway
#                   Debian root (root, apt access; packaging/test/deb-test.sh)
#   make test       go test ./... for the daemon and the packaging tool

GO ?= go

.PHONY: deb deb-test test
deb:
	cd packaging && $(GO) run ./mkdeb -o ../dist

deb-test:
	packaging/test/deb-test.sh

test:
	$(GO) test ./...
	cd packaging && $(GO) test ./...
