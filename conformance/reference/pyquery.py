#!/usr/bin/python3
"""Send ONE confd request with the REAL Ganeti 3.0 Python client library.

Uses ganeti.confd.client (ConfdClient, ConfdClientRequest and, with
--filter, ConfdFilterCallback) from the Debian ganeti-3.0 package unpacked by
setup.sh.  Run it with Debian's /usr/bin/python3 (the module needs
python3-simplejson, -openssl, -bitarray, -pyparsing from Debian).

Usage:
  pyquery.py -k HMAC_KEY_FILE -s 127.0.0.1:PORT [-s HOST:PORT ...]
             [options] TYPE [QUERY_JSON]

  TYPE        request type: 0..11 or a name (ping, node_role_byname,
              node_pip_by_instance_ip, cluster_master, node_pip_list,
              mc_pip_list, instances_ips_list, node_drbd, node_instances,
              instance_disks, config_query, data_collectors)
  QUERY_JSON  the "query" field as JSON: '"node1.example.com"',
              '{"3": [0, 1, 2]}', 'null' ... Omitted: no "query" key is sent.

Output: one JSON line per server, in the order given:
  {"server": "127.0.0.1:1814", "replied": true, "status": 0, "answer": ...,
   "serial": 3189, "protocol": 1}
  {"server": "127.0.0.1:1815", "replied": false}
With --raw, the exact bytes sent and received are added ("raw_request",
"raw_reply", latin-1 decoded).  Exit status: 0 if every server replied,
3 if some did not, 2 on usage errors.

The HMAC key is the key file's content taken verbatim (a trailing newline is
part of the key), exactly as ganeti-confd and the Python library read it.

Test knobs (for probing the server; they bypass client-side checks):
  --hmac-key STR       use this key string instead of a key file
  --ts-offset SEC      sign with timestamp now+SEC (e.g. -600)
  --salt STR           use this exact string as the signing salt/timestamp
  --magic STR          replace the 4-byte "plj0" magic
  --pad-to N           make "query" a string of x's so that the datagram is
                       exactly N bytes (use with ping, which ignores its
                       query; unknown keys are rejected by the server)
  --override JSON      merge this object into the request dict before signing
                       (e.g. '{"type": 8}' - the library refuses type 8, see
                       README.md - or '{"protocol": 2}')
  --upper-hmac         send the hex HMAC digest in upper case
  --rsalt STR          use this rsalt instead of a fresh UUID
  --filter             pass replies through ConfdFilterCallback (library
                       de-duplication); also prints {"consistent": ...}
"""

import copy
import json
import optparse
import os
import sys
import time

CACHE = os.environ.get("GANETI_REF_CACHE", "/tmp/ganeti-ref")
PYLIB = os.environ.get("GANETI_REF_PYLIB",
                       os.path.join(CACHE, "root/usr/share/ganeti/3.0"))
sys.path.insert(0, PYLIB)

from ganeti import constants  # noqa: E402
from ganeti import serializer  # noqa: E402
from ganeti import confd  # noqa: E402
from ganeti.confd import client as confd_client  # noqa: E402

TYPE_NAMES = {
  "ping": constants.CONFD_REQ_PING,
  "node_role_byname": constants.CONFD_REQ_NODE_ROLE_BYNAME,
  "node_pip_by_instance_ip": constants.CONFD_REQ_NODE_PIP_BY_INSTANCE_IP,
  "cluster_master": constants.CONFD_REQ_CLUSTER_MASTER,
  "node_pip_list": constants.CONFD_REQ_NODE_PIP_LIST,
  "mc_pip_list": constants.CONFD_REQ_MC_PIP_LIST,
  "instances_ips_list": constants.CONFD_REQ_INSTANCES_IPS_LIST,
  "node_drbd": constants.CONFD_REQ_NODE_DRBD,
  "node_instances": constants.CONFD_REQ_NODE_INSTANCES,
  "instance_disks": constants.CONFD_REQ_INSTANCE_DISKS,
  "config_query": constants.CONFD_REQ_CONFIG_QUERY,
  "data_collectors": constants.CONFD_REQ_DATA_COLLECTORS,
}

_NO_QUERY = object()


class ProbeClient(confd_client.ConfdClient):
  """ConfdClient that records the wire bytes and applies the test knobs."""

  def __init__(self, opts, *args, **kwargs):
    self._opts = opts
    self.sent_payload = None
    self.received = []          # (ip, port, raw bytes, error or None)
    confd_client.ConfdClient.__init__(self, *args, **kwargs)

  def _PackRequest(self, request, now=None):
    opts = self._opts
    if now is None:
      now = time.time()
    now += opts.ts_offset
    salt = opts.salt if opts.salt is not None else "%d" % now
    data = request.ToDict()
    if opts.override:
      data.update(opts.override)

    def pack(d):
      signed = serializer.DumpSignedJson(d, self._hmac_key, salt)
      if opts.upper_hmac:
        outer = serializer.LoadJson(signed)
        outer["hmac"] = outer["hmac"].upper()
        signed = serializer.DumpJson(outer)
      p = confd.PackMagic(signed)
      if opts.magic is not None:
        p = opts.magic.encode("latin-1") + p[len(constants.CONFD_MAGIC_FOURCC_BYTES):]
      return p

    payload = pack(data)
    if opts.pad_to is not None:
      # the server rejects unknown keys, so the padding goes into the
      # (string) query; use it with ping, which ignores its query
      data["query"] = ""
      base = len(pack(data))
      if opts.pad_to < base:
        raise SystemExit("--pad-to %d is below the minimum size %d" %
                         (opts.pad_to, base))
      data["query"] = "x" * (opts.pad_to - base)
      payload = pack(data)
      assert len(payload) == opts.pad_to, (len(payload), opts.pad_to)
    self.sent_payload = payload
    return payload

  def HandleResponse(self, payload, ip, port):
    err = None
    try:
      self._UnpackReply(payload)
    except Exception as e:  # pylint: disable=W0703
      err = "%s: %s" % (e.__class__.__name__, e)
    self.received.append((ip, port, payload, err))
    confd_client.ConfdClient.HandleResponse(self, payload, ip, port)


def parse_server(s):
  host, sep, port = s.rpartition(":")
  if not sep or not host:
    raise SystemExit("server must be HOST:PORT, got %r" % s)
  return host.strip("[]"), int(port)


class QueryOptions(object):
  """Knobs for run_query (same meaning as the command-line options)."""
  def __init__(self, timeout=2.0, raw=False, filter=False, ts_offset=0.0,
               salt=None, magic=None, pad_to=None, override=None,
               rsalt=None, upper_hmac=False):
    self.upper_hmac = upper_hmac
    self.timeout = timeout
    self.raw = raw
    self.filter = filter
    self.ts_offset = ts_offset
    self.salt = salt
    self.magic = magic
    self.pad_to = pad_to
    self.override = override
    self.rsalt = rsalt


def run_query(servers, hmac_key, rtype, query=_NO_QUERY, opts=None):
  """Send one request to all servers [(ip, port)], return (lines, rc).

  lines: one dict per server (see module doc), plus {"consistent": ...}
  at the end when opts.filter is set.
  """
  opts = opts or QueryOptions()
  if isinstance(rtype, str):
    rtype = TYPE_NAMES[rtype] if rtype in TYPE_NAMES else int(rtype)
  kwargs = {"type": rtype}
  if query is not _NO_QUERY:
    kwargs["query"] = query
  if opts.rsalt:
    kwargs["rsalt"] = opts.rsalt
  override = dict(opts.override) if opts.override else None
  if rtype not in constants.CONFD_REQS:
    # The library itself refuses such types (notably 8, which is missing
    # from CONFD_REQS in 3.0); build a valid object and override "type"
    # in the signed dict instead.
    kwargs["type"] = constants.CONFD_REQ_PING
    override = dict(override or {}, type=rtype)
  request = confd_client.ConfdClientRequest(**kwargs)
  popts = copy.copy(opts)
  popts.override = override

  replies = {}                  # (ip, port) -> ConfdUpcallPayload

  def collect(up):
    if up.type == confd_client.UPCALL_REPLY:
      replies.setdefault((up.server_ip, up.server_port), up)

  filt = confd_client.ConfdFilterCallback(collect) if opts.filter else None
  callback = filt if filt else collect

  # ConfdClient has one port per instance: one client per distinct port,
  # each with all the IPs using that port; every client sends the same
  # request (same rsalt).
  by_port = {}
  for host, port in servers:
    by_port.setdefault(port, [])
    if host not in by_port[port]:
      by_port[port].append(host)
  clients = [ProbeClient(popts, hmac_key, hosts, callback, port=port)
             for port, hosts in by_port.items()]
  try:
    for c in clients:
      c.SendRequest(request, coverage=-1, async_=False)

    wanted = set(servers)
    received_from = set()
    deadline = time.time() + opts.timeout
    while time.time() < deadline:
      for c in clients:
        c.ReceiveReply(timeout=0.01 if len(clients) > 1 else
                       max(0.0, min(0.2, deadline - time.time())))
        for ip, port, _, _ in c.received:
          received_from.add((ip, port))
      if wanted <= received_from:
        break

    raw_by_server = {}
    for c in clients:
      for ip, port, payload, err in c.received:
        raw_by_server.setdefault((ip, port), []).append((payload, err))
  finally:
    for c in clients:
      c._socket.close()   # pylint: disable=W0212

  rc = 0
  lines = []
  for host, port in servers:
    key = (host, port)
    line = {"server": "%s:%d" % key}
    got = raw_by_server.get(key, [])
    good = [(p, e) for p, e in got if e is None]
    if good:
      reply, _ = clients[0]._UnpackReply(good[0][0])  # pylint: disable=W0212
      line.update(replied=True, status=reply.status, answer=reply.answer,
                  serial=reply.serial, protocol=reply.protocol)
      if filt is not None:
        line["filtered"] = key not in replies
    else:
      line["replied"] = False
      rc = 3
      if got:
        line["error"] = got[0][1]
    if opts.raw:
      line["raw_request"] = clients[0].sent_payload.decode("latin-1")
      if got:
        line["raw_reply"] = got[0][0].decode("latin-1")
    lines.append(line)
  if filt is not None:
    lines.append({"consistent": filt.consistent.get(request.rsalt)})
  return lines, rc


def read_key(path):
  with open(path, "r", encoding="utf-8") as f:
    return f.read()             # verbatim, like utils.ReadFile


def main():
  parser = optparse.OptionParser(usage=__doc__)
  parser.add_option("-s", "--server", action="append", dest="servers",
                    default=[], help="HOST:PORT (repeatable)")
  parser.add_option("-k", "--hmac-file", dest="hmac_file")
  parser.add_option("--hmac-key", dest="hmac_key")
  parser.add_option("-t", "--timeout", type="float", default=2.0)
  parser.add_option("--raw", action="store_true", default=False)
  parser.add_option("--filter", action="store_true", default=False)
  parser.add_option("--ts-offset", type="float", default=0.0)
  parser.add_option("--salt")
  parser.add_option("--magic")
  parser.add_option("--pad-to", type="int")
  parser.add_option("--override")
  parser.add_option("--rsalt", help="use this rsalt instead of a new UUID")
  parser.add_option("--upper-hmac", action="store_true", default=False)
  opts, args = parser.parse_args()

  if not opts.servers or len(args) not in (1, 2):
    parser.print_usage(sys.stderr)
    return 2
  if opts.hmac_key is not None:
    hmac_key = opts.hmac_key
  elif opts.hmac_file:
    hmac_key = read_key(opts.hmac_file)
  else:
    sys.stderr.write("need -k HMAC_KEY_FILE or --hmac-key\n")
    return 2
  qopts = QueryOptions(timeout=opts.timeout, raw=opts.raw,
                       filter=opts.filter, ts_offset=opts.ts_offset,
                       salt=opts.salt, magic=opts.magic, pad_to=opts.pad_to,
                       override=(json.loads(opts.override)
                                 if opts.override else None),
                       rsalt=opts.rsalt, upper_hmac=opts.upper_hmac)
  query = json.loads(args[1]) if len(args) == 2 else _NO_QUERY
  servers = [parse_server(s) for s in opts.servers]
  lines, rc = run_query(servers, hmac_key, args[0], query, qopts)
  for line in lines:
    print(json.dumps(line, sort_keys=True))
  return rc


if __name__ == "__main__":
  sys.exit(main())
