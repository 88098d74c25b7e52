"""Drives a drydock API with the Python Drydock's own client (DrydockSession, DrydockClient),
as Shipyard does. Written for drydock's tests; the client is imported from PYTHONPATH.

usage: drive_api.py PORT VALID_REF INVALID_REF  -> prints one JSON object of findings
"""
import json
import re
import sys
import time
import uuid

from drydock_provisioner import error as errors
from drydock_provisioner.drydock_client.client import DrydockClient
from drydock_provisioner.drydock_client.session import DrydockSession

port, valid_ref, invalid_ref = int(sys.argv[1]), sys.argv[2], sys.argv[3]
marker = str(uuid.uuid4())
out = {"marker": marker}


def client(roles=None):
    """A client whose headers are what a Keystone middleware sets for a user with `roles`."""
    if roles is None:
        auth = None
    else:
        auth = lambda: [("X-Identity-Status", "Confirmed"), ("X-Roles", roles),
                        ("X-User-Name", "shipyard-svc")]
    return DrydockClient(DrydockSession("127.0.0.1", port=port, auth_gen=auth,
                                        marker=marker, end_user="shipyard", timeout=(5, 60)))


def code(e):
    """The HTTP status in a ClientError's message ("Error - received 400: ..."); the client
    does not keep it (its status_code is always 500)."""
    m = re.search(r"received (\d+)", str(e))
    return int(m.group(1)) if m else None


def poll(c, task_id, limit_s=60.0):
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        t = c.get_task(task_id)
        if t["status"] in ("complete", "terminated"):
            return t
        time.sleep(0.05)
    raise SystemExit("task %s did not finish within %ss" % (task_id, limit_s))


admin = client("admin,member")

v = admin.validate_design(valid_ref)
out["valid"] = {"status": v["status"], "code": v["code"], "kind": v["kind"],
                "errorCount": v["details"]["errorCount"]}
try:
    admin.validate_design(invalid_ref)
    out["invalid"] = "no error raised"
except errors.ClientError as e:
    out["invalid"] = {"code": code(e), "text": str(e)}

out["filter_union"] = admin.get_nodes_for_filter(valid_ref, {
    "filter_set_type": "union",
    "filter_set": [{"filter_type": "union", "node_names": ["n1"]},
                   {"filter_type": "union", "rack_names": ["r2"]}]})
out["filter_intersection"] = admin.get_nodes_for_filter(valid_ref, {
    "filter_set_type": "intersection",
    "filter_set": [{"filter_type": "union", "node_tags": ["signal"]},
                   {"filter_type": "union", "rack_names": ["r2"]}]})
out["filter_none"] = admin.get_nodes_for_filter(valid_ref)

prep = admin.create_task(valid_ref, "prepare_nodes")
out["prep_created"] = {"status": prep["status"], "action": prep["action"],
                       "created_by": prep["created_by"]}
prep = poll(admin, prep["task_id"])
out["prep_done"] = {"status": prep["status"], "result": prep["result"]["status"],
                    "successes": sorted(prep["result"]["successes"])}

node_filter = {"filter_set_type": "intersection",
               "filter_set": [{"filter_type": "union", "node_names": ["n1", "n2"]}]}
deploy = admin.create_task(valid_ref, "deploy_nodes", node_filter)
started = time.monotonic()
deploy = poll(admin, deploy["task_id"])
out["deploy"] = {"status": deploy["status"], "result": deploy["result"]["status"],
                 "successes": sorted(deploy["result"]["successes"]),
                 "failures": deploy["result"]["failures"],
                 "seconds": time.monotonic() - started,
                 "node_filter": deploy["node_filter"]}

full = admin.get_task(deploy["task_id"], subtaskerrors=True, layers=-1)
out["layers"] = {"init_task_id": full.get("init_task_id"),
                 "has_task": deploy["task_id"] in full,
                 "subtask_errors": full.get(deploy["task_id"], {}).get("subtask_errors")}
with_bd = admin.get_task(prep["task_id"], builddata=True)
out["task_builddata_count"] = len(with_bd.get("build_data", []))

bd = admin.get_task_build_data(prep["task_id"])
out["build_data"] = sorted({(b["node_name"], b["generator"]) for b in bd})
out["build_data_keys"] = sorted(bd[0].keys())
out["node_build_data"] = len(admin.get_node_build_data("n1", latest=True))

out["tasks_before"] = len(admin.get_tasks())
for name, c in (("no_auth", client(None)), ("member", client("member"))):
    try:
        c.get_tasks()
        out[name] = "allowed"
    except errors.ClientUnauthorizedError:
        out[name] = 401
    except errors.ClientForbiddenError:
        out[name] = 403
try:
    client("member").create_task(valid_ref, "deploy_nodes")
    out["member_create"] = "allowed"
except errors.ClientForbiddenError:
    out["member_create"] = 403

try:
    admin.create_task(valid_ref, "relabel_nodes")
    out["relabel"] = "allowed"
except errors.ClientError as e:
    out["relabel"] = code(e)

admin.delete_tasks(days=30)
out["tasks_after_30_days"] = len(admin.get_tasks())
admin.delete_tasks(days=0)
out["tasks_after_0_days"] = len(admin.get_tasks())
try:
    admin.get_task(deploy["task_id"])
    out["deleted_task"] = "found"
except errors.ClientError as e:
    out["deleted_task"] = code(e)

print(json.dumps(out))
