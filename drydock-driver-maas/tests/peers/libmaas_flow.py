"""Drives a MAAS with Canonical's python-libmaas, as its users do, and prints what it saw.

Usage: libmaas_flow.py URL APIKEY

URL is the MAAS URL (http://host:port/MAAS/), APIKEY the consumer:token:secret key. The MAAS
must have at least two machines in New whose phases finish on their own within a few seconds
(the fake MAAS with auto_tick). Every wait is bounded. On success, prints one JSON object on the
last line of stdout with the ids and values the Rust test checks against the server's state.
"""

import base64
import json
import sys
import time

from maas.client import connect
from maas.client.enum import IPRangeType, NodeStatus

# Long enough that base64 encoders wrap it (over 57 bytes), as cloud-init user data is.
USER_DATA = (
    b"#cloud-config\n"
    b"write_files:\n"
    b"  - path: /etc/drydock-peers\n"
    b"    content: written by the python-libmaas flow of drydock's tests\n"
)
SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHxqR6oTLdEUU4kFfWjvUmYqvGhcGh0qNQFKZ2VX9+Zp peers@drydock"


def wait_for(machine, want, what, tries=400):
    """Refreshes `machine` until its status is `want` (bounded: tries x 25 ms)."""
    for _ in range(tries):
        machine.refresh()
        if machine.status == want:
            return
        time.sleep(0.025)
    raise SystemExit("%s: still %s, wanted %s" % (what, machine.status, want))


def main():
    url, apikey = sys.argv[1], sys.argv[2]
    client = connect(url, apikey=apikey)
    out = {}

    machines = client.machines.list()
    assert machines, "no machines listed"
    new = [m for m in machines if m.status == NodeStatus.NEW]
    assert len(new) >= 2, "two machines in New needed: %r" % [
        (m.system_id, m.status) for m in machines]
    machine, second = new[0], new[1]
    out["system_id"] = machine.system_id
    out["listed"] = sorted(m.system_id for m in machines)

    # Commission: a parameterless POST (libmaas sends an empty multipart body).
    for m in (machine, second):
        m.commission()
    for m in (machine, second):
        wait_for(m, NodeStatus.READY, "commissioning")

    # Allocate by host name, deploy with user data, release with erase.
    allocated = client.machines.allocate(hostname=machine.hostname)
    assert allocated.system_id == machine.system_id, allocated
    assert allocated.status == NodeStatus.ALLOCATED, allocated.status
    allocated.deploy(user_data=USER_DATA, distro_series="jammy")
    wait_for(allocated, NodeStatus.DEPLOYED, "deployment")
    out["distro_series"] = allocated.distro_series
    allocated.release(erase=True, quick_erase=True)
    wait_for(allocated, NodeStatus.READY, "release with erase")
    out["owner_after_release"] = allocated.owner.username if allocated.owner else None

    # A second deployment left in place: the server keeps the user data as libmaas sent it.
    deployed = client.machines.allocate(hostname=second.hostname)
    deployed.deploy(user_data=USER_DATA)
    wait_for(deployed, NodeStatus.DEPLOYED, "second deployment")
    out["deployed"] = deployed.system_id
    out["user_data_sent"] = base64.encodebytes(USER_DATA).decode()

    # Networking: fabric, VLAN, subnet, IP range.
    fabric = client.fabrics.create(name="peers-fabric", description="made by libmaas")
    vlan = fabric.vlans.create(vid=142, name="peers-vlan", mtu=9000)
    subnet = client.subnets.create(
        "10.42.0.0/24", vlan, name="peers-subnet", gateway_ip="10.42.0.1",
        dns_servers=["10.42.0.2", "10.42.0.3"],
    )
    iprange = client.ip_ranges.create(
        "10.42.0.100", "10.42.0.150", type=IPRangeType.RESERVED, comment="peers",
        subnet=subnet,
    )
    out["fabric"] = {"id": fabric.id, "name": fabric.name}
    out["vlan"] = {"id": vlan.id, "vid": vlan.vid, "mtu": vlan.mtu, "fabric": vlan.fabric.id}
    out["subnet"] = {"id": subnet.id, "cidr": subnet.cidr, "vlan": subnet.vlan.id,
                     "dns_servers": list(subnet.dns_servers)}
    out["iprange"] = {"id": iprange.id, "start_ip": iprange.start_ip, "end_ip": iprange.end_ip,
                      "type": iprange.type.value}
    assert client.fabrics.get(fabric.id).name == "peers-fabric"
    assert any(s.id == subnet.id for s in client.subnets.list())

    # SSH keys.
    key = client.ssh_keys.create(SSH_KEY)
    out["ssh_key"] = key.id
    assert any(k.key == SSH_KEY for k in client.ssh_keys.list())

    # Tags: create, then tag the machine.
    tag = client.tags.create("peers-tag", comment="made by libmaas")
    ready = client.machines.get(machine.system_id)
    ready.tags.add(tag)
    out["tag"] = tag.name
    out["tags_after"] = [t.name for t in client.machines.get(machine.system_id).tags]

    # Block devices and partitions.
    disks = ready.block_devices
    assert disks, "no block devices"
    disk = sorted(disks, key=lambda d: d.name)[-1]
    # The origin's Partitions set creates (a disk's `partitions` is a read-only view).
    partition = disk._origin.Partitions.create(disk, 8 * 1024 ** 3)
    partition.format("ext4")
    partition.mount("/srv/peers")
    # Read it back (libmaas's own Partition.refresh passes too few arguments to read).
    partition = disk._origin.Partition.read(ready.system_id, disk.id, partition.id)
    out["partition"] = {"disk": disk.id, "id": partition.id, "size": partition.size,
                        "fstype": partition.filesystem.fstype,
                        "mount_point": partition.filesystem.mount_point}
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
