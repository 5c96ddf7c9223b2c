#!/bin/bash
# Fetch and unpack the REAL Ganeti 3.0.2 (Debian bookworm) conf daemon and
# Python library: the reference goconfd's conformance suite compares with
# (see README.md beside this file).
#
# Idempotent; quiet on success.  Needs root and apt access to Debian's
# bookworm archive.  Nothing is installed from the ganeti* packages: they are
# only downloaded (apt-get download) and unpacked (dpkg -x) into
# $GANETI_REF_CACHE (default /tmp/ganeti-ref).  Only the small runtime
# libraries the binary links against and the python3-* modules the Python
# client/cfgupgrade import are apt-get installed.
#
# Layout afterwards:
#   $GANETI_REF_CACHE/debs/*.deb
#   $GANETI_REF_CACHE/root/usr/lib/ganeti/3.0/usr/sbin/ganeti-confd   (binary)
#   $GANETI_REF_CACHE/root/usr/share/ganeti/3.0/ganeti                (python pkg)
#   $GANETI_REF_CACHE/root/usr/share/ganeti/3.0/{confd-client,cfgupgrade}
#   $GANETI_REF_CACHE/root/usr/share/ganeti/testsuite/test/data/      (test data)
set -euo pipefail

CACHE=${GANETI_REF_CACHE:-/tmp/ganeti-ref}
VERSION=${GANETI_REF_VERSION:-3.0.2-3}
PKGS=(ganeti-haskell-3.0 ganeti-3.0 ganeti-testsuite)
# runtime libs of ganeti-confd (see `dpkg-deb -f ganeti-haskell-3.0*.deb Depends`)
LIBS=(libpcre3 libcurl3-gnutls libffi8 libgmp10 zlib1g)
# python modules imported by ganeti.confd.client, confd-client and cfgupgrade
PYDEPS=(python3 python3-simplejson python3-pyparsing python3-openssl
        python3-bitarray python3-pycurl python3-psutil)

LOG="$CACHE/setup.log"
mkdir -p "$CACHE/debs"
: > "$LOG"

die() { echo "setup.sh: $*" >&2; [ -s "$LOG" ] && tail -n 30 "$LOG" >&2; exit 1; }
APT=(apt-get -q -y -o DPkg::Lock::Timeout=600 -o APT::Get::Show-Versions=false)
export DEBIAN_FRONTEND=noninteractive

apt_updated=0
apt_update() {
  [ "$apt_updated" = 1 ] && return 0
  "${APT[@]}" update >>"$LOG" 2>&1 || die "apt-get update failed"
  apt_updated=1
}

# 1. system packages (only the ones that are missing)
missing=()
for p in "${LIBS[@]}" "${PYDEPS[@]}"; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' \
    || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if ! "${APT[@]}" install --no-install-recommends "${missing[@]}" >>"$LOG" 2>&1; then
    apt_update
    "${APT[@]}" install --no-install-recommends "${missing[@]}" >>"$LOG" 2>&1 \
      || die "apt-get install ${missing[*]} failed"
  fi
fi

# 2. download the ganeti .debs (pinned version)
for p in "${PKGS[@]}"; do
  arch=all; [ "$p" = ganeti-haskell-3.0 ] && arch=amd64
  f="$CACHE/debs/${p}_${VERSION}_${arch}.deb"
  [ -s "$f" ] && continue
  ( cd "$CACHE/debs" && "${APT[@]}" download "$p=$VERSION" ) >>"$LOG" 2>&1 || {
    apt_update
    ( cd "$CACHE/debs" && "${APT[@]}" download "$p=$VERSION" ) >>"$LOG" 2>&1 \
      || die "apt-get download $p=$VERSION failed"
  }
  [ -s "$f" ] || die "expected $f after download"
done

# 3. unpack (re-done only when the debs changed)
stamp="$CACHE/root/.unpacked"
want=$(cd "$CACHE/debs" && sha256sum ./*.deb | sha256sum | cut -c1-64)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  rm -rf "$CACHE/root"
  mkdir -p "$CACHE/root"
  for f in "$CACHE"/debs/*.deb; do
    dpkg -x "$f" "$CACHE/root" >>"$LOG" 2>&1 || die "dpkg -x $f failed"
  done
  echo "$want" > "$stamp"
fi

# 4. verify
CONFD="$CACHE/root/usr/lib/ganeti/3.0/usr/sbin/ganeti-confd"
PYLIB="$CACHE/root/usr/share/ganeti/3.0"
[ -x "$CONFD" ] || die "missing $CONFD"
if ldd "$CONFD" | grep -q 'not found'; then
  ldd "$CONFD" | grep 'not found' >&2; die "unresolved shared libraries"
fi
"$CONFD" --version 2>&1 | grep -q '3\.0\.2' || die "ganeti-confd --version failed"
( cd / && PYTHONPATH="$PYLIB" /usr/bin/python3 -c \
    'import ganeti.confd.client, ganeti.tools.cfgupgrade' ) >>"$LOG" 2>&1 \
  || die "python: cannot import ganeti.confd.client"
exit 0
