#!/bin/bash
# confd-client.sh HOST PORT HMAC_KEY_FILE [confd-client options, e.g. -r 1000]
#
# Runs the package's own tools/confd-client (Ganeti 3.0.2, from the
# ganeti-3.0 deb) against HOST:PORT.  The tool has no port option (it uses
# getservbyname("ganeti-confd") or 1814), so the port is patched in via
# netutils.GetDaemonPort; HOST must be an IP address (the library rejects
# host names such as the tool's default "localhost").  The key file is
# passed verbatim (trailing newline included) as --hmac.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
[ $# -ge 3 ] || { echo "usage: $0 HOST PORT HMAC_KEY_FILE [options]" >&2; exit 2; }
HOST=$1 PORT=$2 KEY=$3; shift 3
# the tool runs from /, so that no module of the current directory shadows
# the package's: make the key file's path absolute first
KEY=$(cd "$(dirname "$KEY")" && pwd)/$(basename "$KEY")
cd /
exec "$REF_PY" - "$REF_PYLIB" "$HOST" "$PORT" "$KEY" "$@" <<'PY'
import runpy, sys
pylib, host, port, keyfile = sys.argv[1:5]
sys.path.insert(0, pylib)
from ganeti import netutils
netutils.GetDaemonPort = lambda name: int(port)
with open(keyfile, encoding="utf-8") as f:
  key = f.read()
sys.argv = ["confd-client", "--address", host, "--hmac", key] + sys.argv[5:]
runpy.run_path(pylib + "/confd-client", run_name="__main__")
PY
