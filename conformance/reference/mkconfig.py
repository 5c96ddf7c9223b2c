#!/usr/bin/python3
"""Turn a Ganeti 2.x test-suite cluster config into one ganeti-confd 3.0 loads.

  mkconfig.py upgrade IN.json OUT.json
      Runs the package's own cfgupgrade (2.x -> 3.0) on a scratch copy, then
      applies the one fix-up 3.0.2's confd still needs: every disk child
      (e.g. the data/meta LVs under a DRBD disk) gets a "uuid"
      (deterministic: uuid5(parent uuid, "child<i>")).  Nothing else is
      changed.

  mkconfig.py rich IN3.json OUT.json
      Derives a richer config from an upgraded one (see RICH_NOTES below):
      NIC IPs on two links, node roles drained/offline/regular, a fourth
      node, extra instance; bumps nothing else.

The project's reference configs in config/testdata were made this way:
  mkconfig.py upgrade $REF_TESTDATA/cluster_config_2.16.json \
      config/testdata/cluster_config_2.16-upgraded.json
  mkconfig.py rich config/testdata/cluster_config_2.16-upgraded.json \
      config/testdata/rich.json
(REF_TESTDATA: the test data of the ganeti-testsuite package, see env.sh.)
"""

import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid

CACHE = os.environ.get("GANETI_REF_CACHE", "/tmp/ganeti-ref")
PYLIB = os.path.join(CACHE, "root/usr/share/ganeti/3.0")


def fix_children(cfg):
  def fix(disk, parent):
    for i, ch in enumerate(disk.get("children", [])):
      if "uuid" not in ch:
        ch["uuid"] = str(uuid.uuid5(uuid.UUID(parent), "child%d" % i))
      fix(ch, ch["uuid"])
  for k, dk in cfg["disks"].items():
    fix(dk, k)
  return cfg


def upgrade(src, dst):
  tmp = tempfile.mkdtemp(prefix="ganeti-cfgupgrade-")
  try:
    shutil.copy(src, os.path.join(tmp, "config.data"))
    # cfgupgrade insists on these being present
    for f in ("server.pem", "known_hosts"):
      open(os.path.join(tmp, f), "w").close()
    with open(os.path.join(tmp, "ssconf_master_node"), "w") as f:
      f.write("localhost\n")
    env = dict(os.environ, PYTHONPATH=PYLIB)
    r = subprocess.run([sys.executable, os.path.join(PYLIB, "cfgupgrade"),
                        "--force", "--path=" + tmp, "--confdir=" + tmp,
                        "--ignore-hostname", "--no-verify"],
                       cwd="/", env=env, capture_output=True, text=True)
    if r.returncode != 0:
      sys.stderr.write(r.stdout + r.stderr)
      raise SystemExit("cfgupgrade failed for %s" % src)
    with open(os.path.join(tmp, "config.data")) as f:
      cfg = json.load(f)
  finally:
    shutil.rmtree(tmp)
  fix_children(cfg)
  with open(dst, "w") as f:
    json.dump(cfg, f, indent=1, sort_keys=True)
    f.write("\n")


RICH_NOTES = """
rich config (derived from the 2.16 test config after upgrade):
  node1.example.com  192.0.2.82  master (also master_candidate)
  node2.example.com  192.0.2.83  drained, not master candidate
  node3.example.com  192.0.2.84  master candidate
  node4.example.com  192.0.2.85  offline, not master candidate (new)
  node5.example.com  192.0.2.86  regular: not candidate/drained/offline (new)
  instance1.example.com  pnode node1, DRBD disk with node3 (minors 0/0)
      nic0 ip 192.0.2.101 (default link br974)
  instance2.example.com  pnode node3, plain disk
      nic0 ip 192.0.2.102 link br100, nic1 ip 198.51.100.200 (default link)
  instance3.example.com  pnode node2, plain disk
      nic0 ip 192.0.2.103 (default link)
  instance4.example.com  pnode node4, DRBD disk with node1 (minors 5/7), (new)
      nic0 no ip
  cluster serial_no 3190, config serial_no 7628
"""


def rich(src, dst):
  with open(src) as f:
    cfg = json.load(f)
  by_name = {n["name"]: k for k, n in cfg["nodes"].items()}
  inst_by_name = {i["name"]: k for k, i in cfg["instances"].items()}
  n1, n2, n3 = (by_name["node%d.example.com" % i] for i in (1, 2, 3))

  nodes = cfg["nodes"]
  nodes[n2].update(master_candidate=False, drained=True, offline=False)
  nodes[n3].update(master_candidate=True, drained=False, offline=False)
  n4 = "5b0b8a8e-4f5e-4a3e-9d51-0a3c1b7f0404"
  node4 = copy.deepcopy(nodes[n3])
  node4.update(name="node4.example.com", uuid=n4, primary_ip="192.0.2.85",
               secondary_ip="198.51.100.85", master_candidate=False,
               offline=True, drained=False, serial_no=1)
  nodes[n4] = node4
  n5 = "6c1c9b9f-5a6f-4b4f-8e62-1b4d2c8a0505"
  node5 = copy.deepcopy(nodes[n3])
  node5.update(name="node5.example.com", uuid=n5, primary_ip="192.0.2.86",
               secondary_ip="198.51.100.86", master_candidate=False,
               offline=False, drained=False, serial_no=3)
  nodes[n5] = node5

  insts = cfg["instances"]
  i1 = insts[inst_by_name["instance1.example.com"]]
  i2 = insts[inst_by_name["instance2.example.com"]]
  i3 = insts[inst_by_name["instance3.example.com"]]
  i1["nics"][0]["ip"] = "192.0.2.101"
  i2["nics"][0]["ip"] = "192.0.2.102"
  i2["nics"][0]["nicparams"] = {"link": "br100"}
  nic1 = copy.deepcopy(i2["nics"][0])
  nic1.update(ip="198.51.100.200", nicparams={},
              mac="aa:00:00:10:20:30",
              uuid="0c5d4c5a-1f6e-4c36-9a53-3e1c0d2b0201", name=None)
  nic1.pop("name")
  i2["nics"].append(nic1)
  i3["nics"][0]["ip"] = "192.0.2.103"

  # instance4: DRBD between node4 (primary) and node1
  drbd_src = cfg["disks"][i1["disks"][0]]
  d4 = copy.deepcopy(drbd_src)
  d4_uuid = "9d7e1f6a-3b4c-4d5e-8f70-a1b2c3d4e504"
  d4.update(uuid=d4_uuid, nodes=[n4, n1],
            logical_id=[n4, n1, 32101, 5, 7,
                        "0123456789abcdef0123456789abcdef01234567"])
  for idx, ch in enumerate(d4["children"]):
    ch["uuid"] = str(uuid.uuid5(uuid.UUID(d4_uuid), "child%d" % idx))
    ch["nodes"] = [n4, n1]
    ch["logical_id"] = ["xenvg", "%s.disk0_%s" % (d4_uuid,
                                                  ("data", "meta")[idx])]
  cfg["disks"][d4_uuid] = d4
  i4 = copy.deepcopy(i1)
  i4_uuid = "7e6d5c4b-3a29-4817-9605-f4e3d2c1b004"
  i4.update(name="instance4.example.com", uuid=i4_uuid, primary_node=n4,
            disks=[d4_uuid], serial_no=1)
  i4["nics"][0].pop("ip", None)
  i4["nics"][0]["mac"] = "aa:00:00:40:40:40"
  i4["nics"][0]["uuid"] = "3f2e1d0c-9b8a-4776-8655-443322110004"
  insts[i4_uuid] = i4

  cfg["cluster"]["serial_no"] += 1
  cfg["serial_no"] += 1
  with open(dst, "w") as f:
    json.dump(cfg, f, indent=1, sort_keys=True)
    f.write("\n")


def main():
  if len(sys.argv) != 4 or sys.argv[1] not in ("upgrade", "rich"):
    sys.stderr.write(__doc__)
    return 2
  {"upgrade": upgrade, "rich": rich}[sys.argv[1]](sys.argv[2], sys.argv[3])
  return 0


if __name__ == "__main__":
  sys.exit(main())
