# Sourced by start-ref.sh and confd-client.sh: where setup.sh puts the
# unpacked Ganeti 3.0.2 (see README.md beside this file).
GANETI_REF_CACHE=${GANETI_REF_CACHE:-/tmp/ganeti-ref}
REF_ROOT="$GANETI_REF_CACHE/root"
REF_CONFD="$REF_ROOT/usr/lib/ganeti/3.0/usr/sbin/ganeti-confd"
REF_PYLIB="$REF_ROOT/usr/share/ganeti/3.0"
REF_TESTDATA="$REF_ROOT/usr/share/ganeti/testsuite/test/data"
REF_PY=/usr/bin/python3
REF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export GANETI_REF_CACHE
