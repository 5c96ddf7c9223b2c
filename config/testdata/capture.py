#!/usr/bin/python3
"""Capture how the real Ganeti 3.0.2 ganeti-confd loads config.data variants.

This script writes the golden files used by the tests of package config
(normalize_test.go). It needs the reference daemon unpacked by
conformance/reference/setup.sh and runs it with that directory's
start-ref.sh/stop-ref.sh (see its README.md; REF_DIR names another
directory), on 127.0.0.1 only.
It signs its requests itself (HMAC-SHA1 with the key file's bytes) and does
not check the replies' HMAC, because the 3.0 server signs non-ASCII text it
then sends cut to 8 bits. It never edits cases.json, which is written by
hand; everything under golden/ is output of the real server and must not be
edited by hand.

Usage (from this directory):

    /usr/bin/python3 capture.py [--port 20110] [--only NAME ...] [--explore]

For each reference config (rich.json and the two upgraded test-suite
configs) it records the server's CONFIG_QUERY (type 10) answer for every
top-level member into golden/<config stem>.json. For each case of
cases.json it applies the case's edits to its base config, loads the result
into the same daemon and records into golden/cases/<name>.json whether the
config loaded (and the server's error text if not) and the answers for the
top-level members that differ from the base config's golden answers.

Answers are spliced in as the exact JSON text the server sent, so number
formatting and member order are kept (and, as on the wire, every non-ASCII
character is cut to its low 8 bits).

--explore prints the results instead of writing files.

Edits (cases.json "edits", applied in order; a path is a list of object
keys and array indexes; a value is JSON text, inserted as written):

    {"set": PATH, "value": TEXT}  replace the first member with that key
                                  (or the array element); append the member
                                  if the object has none
    {"add": PATH, "value": TEXT}  append a member even if one with that key
                                  exists (a duplicate key); insert into an
                                  array at that index
    {"del": PATH}                 remove the first member with that key, or
                                  the array element
"""

import argparse
import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
REF_DIR = os.environ.get(
    "REF_DIR", os.path.join(HERE, "..", "..", "conformance", "reference"))

MEMBERS = ["version", "cluster", "nodes", "nodegroups", "instances",
           "networks", "disks", "filters", "ctime", "mtime", "serial_no"]
BASES = ["rich.json", "cluster_config_2.14-upgraded.json",
         "cluster_config_2.16-upgraded.json"]


class Raw(str):
    """A number literal, kept as written."""


class Obj(list):
    """A JSON object as a list of (key, value) pairs, duplicates kept."""


def parse(text):
    return json.loads(text, object_pairs_hook=Obj, parse_int=Raw,
                      parse_float=Raw)


def dump(v):
    if isinstance(v, Obj):
        return "{" + ",".join(json.dumps(k) + ":" + dump(x)
                              for k, x in v) + "}"
    if isinstance(v, list):
        return "[" + ",".join(dump(x) for x in v) + "]"
    if isinstance(v, Raw):
        return str(v)
    return json.dumps(v)


def child(v, key):
    if isinstance(v, Obj):
        for k, x in v:
            if k == key:
                return x
        raise KeyError(key)
    return v[key]


def apply_edit(tree, edit):
    op = [k for k in ("set", "add", "del") if k in edit]
    if len(op) != 1:
        raise ValueError("bad edit %r" % (edit,))
    op = op[0]
    path = edit[op]
    parent = tree
    for key in path[:-1]:
        parent = child(parent, key)
    last = path[-1]
    if op == "del":
        if isinstance(parent, Obj):
            for i, (k, _) in enumerate(parent):
                if k == last:
                    del parent[i]
                    return
            raise KeyError(last)
        del parent[last]
        return
    value = parse(edit["value"])
    if isinstance(parent, Obj):
        if op == "set":
            for i, (k, _) in enumerate(parent):
                if k == last:
                    parent[i] = (k, value)
                    return
        parent.append((last, value))
        return
    if op == "set":
        if last == len(parent):
            parent.append(value)
        else:
            parent[last] = value
    else:
        parent.insert(last, value)


def variant_text(case):
    with open(os.path.join(HERE, case.get("base", "rich.json"))) as f:
        tree = parse(f.read())
    for edit in case.get("edits", []):
        apply_edit(tree, edit)
    return dump(tree) + "\n"


class Daemon(object):
    def __init__(self, port):
        self.port = port
        self.root = "/tmp/goconfd-capture-%d" % port
        self.keyfile = os.path.join(HERE, "..", "..", "conformance",
                                    "testdata", "hmac.key")
        with open(self.keyfile) as f:
            self.key = f.read()  # verbatim, trailing newline included
        self.cfg = os.path.join(self.root, "var/lib/ganeti/config.data")
        self.marker = 0

    def start(self):
        env = dict(os.environ, REF_ALLOW_BAD_CONFIG="1")
        subprocess.check_call(
            [os.path.join(REF_DIR, "start-ref.sh"), self.root, str(self.port),
             os.path.join(HERE, "rich.json"), self.keyfile],
            env=env, stdout=subprocess.DEVNULL)

    def stop(self):
        subprocess.call([os.path.join(REF_DIR, "stop-ref.sh"), self.root])

    def query(self, rtype, query=None):
        """Sends one signed request; returns the reply's inner JSON text.

        The reply's HMAC is not checked: the 3.0 server truncates non-ASCII
        characters on the wire but signs the proper UTF-8, so such replies
        never verify (docs/protocol.md 1.5), and we still want to read them.
        """
        req = {"protocol": 1, "type": rtype, "rsalt": str(uuid.uuid4())}
        if query is not None:
            req["query"] = query
        msg = json.dumps(req)
        for _ in range(5):
            salt = "%d" % time.time()
            mac = hmac.new(self.key.encode("utf-8"),
                           (salt + msg).encode("utf-8"),
                           hashlib.sha1).hexdigest()
            pkt = b"plj0" + json.dumps({"msg": msg, "salt": salt,
                                        "hmac": mac}).encode("ascii")
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(1.0)
            try:
                s.sendto(pkt, ("127.0.0.1", self.port))
                data = s.recv(65536)
            except socket.timeout:
                continue
            finally:
                s.close()
            if not data.startswith(b"plj0"):
                raise RuntimeError("bad reply %r" % data[:40])
            # Bytes as characters: what the server meant for ASCII, and the
            # low 8 bits of anything else.
            outer = json.loads(data[4:].decode("latin-1"))
            if outer["salt"] != req["rsalt"]:
                continue
            return outer["msg"]
        raise RuntimeError("no reply to type %d %r" % (rtype, query))

    def ping(self):
        return json.loads(self.query(0))

    def write(self, text):
        tmp = self.cfg + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.rename(tmp, self.cfg)

    def wait(self, pred, what):
        deadline = time.time() + 40  # beyond the 17 s safety timer
        while time.time() < deadline:
            line = self.ping()
            if pred(line):
                return line
            time.sleep(0.01)
        raise RuntimeError("daemon never reached state: " + what)

    def load(self, text):
        """Loads text as config.data; returns the ping reply for it."""
        # A marker config (rich.json with a unique version and a size that
        # differs from text) first, so that the next state change is
        # certainly the variant's: the daemon compares (mtime, inode, size).
        self.marker += 1
        version = 9100000 + self.marker
        with open(os.path.join(HERE, "rich.json")) as f:
            tree = parse(f.read())
        apply_edit(tree, {"set": ["version"], "value": str(version)})
        marker = dump(tree)
        pad = max(len(text), len(marker)) + 17 - len(marker)
        self.write(marker + "\n" * pad)
        self.wait(lambda l: l["status"] == 0 and l["answer"] == version,
                  "marker %d" % version)
        self.write(text)
        return self.wait(lambda l: l["status"] != 0 or l["answer"] != version,
                         "variant after marker %d" % version)

    def answers(self):
        out = {}
        for m in MEMBERS:
            msg = self.query(10, "/" + m)
            head = '{"protocol":1,"status":0,"answer":'
            if not msg.startswith(head):
                raise RuntimeError("/%s: unexpected reply %s" % (m, msg[:200]))
            out[m] = msg[len(head):msg.rindex(',"serial":')]
        return out


def golden_text(obj_head, answers, order):
    """A JSON object with obj_head's members, then "answers" spliced raw."""
    parts = [json.dumps(k) + ": " + json.dumps(v) for k, v in obj_head]
    inner = ",\n".join("  " + json.dumps(m) + ": " + answers[m]
                       for m in order if m in answers)
    parts.append('"answers": {\n' + inner + "\n }")
    return "{\n " + ",\n ".join(parts) + "\n}\n"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=20110)
    p.add_argument("--only", action="append", default=[])
    p.add_argument("--explore", action="store_true")
    p.add_argument("--cases", default=os.path.join(HERE, "cases.json"))
    args = p.parse_args()

    with open(args.cases) as f:
        cases = json.load(f)
    d = Daemon(args.port)
    d.start()
    try:
        base_answers = {}
        for base in BASES:
            with open(os.path.join(HERE, base)) as f:
                text = f.read()
            line = d.load(text)
            if line["status"] != 0:
                raise RuntimeError("%s does not load: %r" % (base,
                                                             line["answer"]))
            ans = d.answers()
            base_answers[base] = ans
            if not args.only and not args.explore:
                stem = base[:-len(".json")]
                with open(os.path.join(HERE, "golden", stem + ".json"),
                          "w") as f:
                    f.write(golden_text([("config", base), ("loads", True)],
                                        ans, MEMBERS))
        for case in cases:
            name = case["name"]
            if args.only and name not in args.only:
                continue
            line = d.load(variant_text(case))
            head = [("name", name)]
            if line["status"] == 0:
                ans = d.answers()
                base = base_answers[case.get("base", "rich.json")]
                diff = {m: a for m, a in ans.items() if a != base[m]}
                head += [("loads", True),
                         ("same", [m for m in MEMBERS if m not in diff])]
            else:
                diff = {}
                err = str(line["answer"]).replace(d.root, "$ROOT")
                head += [("loads", False), ("error", err)]
            text = golden_text(head, diff, MEMBERS)
            if args.explore:
                sys.stdout.write(text)
                continue
            with open(os.path.join(HERE, "golden", "cases", name + ".json"),
                      "w") as f:
                f.write(text)
            sys.stderr.write("%s: %s\n" % (name, "loads" if line["status"] == 0
                                           else "refused"))
    finally:
        d.stop()


if __name__ == "__main__":
    main()
