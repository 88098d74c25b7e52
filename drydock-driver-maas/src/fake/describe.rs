//! The self-description MAAS serves: `describe/` (handlers with `anon`/`auth`, each with `doc`,
//! `params`, `path`, `uri` and `actions`, the document MAAS' own clients build themselves from)
//! and `openapi.yaml` (MAAS 3.3+), both generated from the fake's route table; and what the fake
//! answers for the parts of MAAS' API it does not implement (501, never a MAAS-looking 404).

use serde_json::{Value, json};

use super::reply::{Reply, text};
use super::routes::{ROUTES, Route};
use super::world::API;

/// MAAS' handler class of each path template the fake serves (MAAS `src/maasserver/api/`).
/// Templates of one handler (singular/plural spellings) share its entry; the first is its URI.
const HANDLERS: &[(&str, &str)] = &[
    ("version/", "VersionHandler"),
    ("account/", "AccountHandler"),
    ("machines/", "MachinesHandler"),
    ("machines/{system_id}/", "MachineHandler"),
    ("nodes/{system_id}/interfaces/", "InterfacesHandler"),
    ("nodes/{system_id}/interfaces/{id}/", "InterfaceHandler"),
    ("fabrics/", "FabricsHandler"),
    ("fabrics/{id}/", "FabricHandler"),
    ("fabrics/{fabric_id}/vlans/", "VlansHandler"),
    ("fabrics/{fabric_id}/vlans/{vid}/", "VlanHandler"),
    ("subnets/", "SubnetsHandler"),
    ("subnets/{id}/", "SubnetHandler"),
    ("ipranges/", "IPRangesHandler"),
    ("ipranges/{id}/", "IPRangeHandler"),
    ("static-routes/", "StaticRoutesHandler"),
    ("static-routes/{id}/", "StaticRouteHandler"),
    ("domains/", "DomainsHandler"),
    ("tags/", "TagsHandler"),
    ("tags/{name}/", "TagHandler"),
    ("account/prefs/sshkeys/", "SSHKeysHandler"),
    ("package-repositories/", "PackageRepositoriesHandler"),
    ("package-repositories/{id}/", "PackageRepositoryHandler"),
    ("boot-resources/", "BootResourcesHandler"),
    ("rackcontrollers/", "RackControllersHandler"),
    ("rackcontrollers/{system_id}/", "RackControllerHandler"),
    ("commissioning-results/", "NodeResultsHandler"),
    ("nodes/{system_id}/blockdevices/", "BlockDevicesHandler"),
    ("nodes/{system_id}/blockdevices/{id}/", "BlockDeviceHandler"),
    (
        "nodes/{system_id}/blockdevices/{device_id}/partitions/",
        "PartitionsHandler",
    ),
    (
        "nodes/{system_id}/blockdevices/{device_id}/partition/{id}",
        "PartitionHandler",
    ),
    (
        "nodes/{system_id}/blockdevices/{device_id}/partitions/{id}",
        "PartitionHandler",
    ),
    ("nodes/{system_id}/volume-groups/", "VolumeGroupsHandler"),
    ("nodes/{system_id}/volume-group/{id}/", "VolumeGroupHandler"),
    (
        "nodes/{system_id}/volume-groups/{id}/",
        "VolumeGroupHandler",
    ),
];

/// Handlers MAAS serves without authentication (described under `anon`, `auth` null).
const ANONYMOUS_HANDLERS: &[&str] = &["VersionHandler"];

/// First path segments of MAAS' API 2.0 (`urls_api.py`): a path under one of them that the
/// fake does not serve is a part of MAAS the fake lacks (501), not an unknown endpoint (404).
const MAAS_RESOURCES: &[&str] = &[
    "account",
    "boot-resources",
    "boot-source-selections",
    "boot-sources",
    "commissioning-results",
    "commissioning-scripts",
    "devices",
    "dhcp-snippets",
    "discovery",
    "dnsresource-records",
    "dnsresources",
    "domains",
    "events",
    "fabrics",
    "fannetworks",
    "files",
    "installation-results",
    "ipaddresses",
    "ipranges",
    "license-keys",
    "maas",
    "machines",
    "networks",
    "nodes",
    "notifications",
    "package-repositories",
    "pods",
    "rackcontrollers",
    "regioncontrollers",
    "resourcepool",
    "resourcepools",
    "scripts",
    "spaces",
    "static-routes",
    "subnets",
    "tags",
    "users",
    "vlans",
    "vm-hosts",
    "zones",
];

/// Operations MAAS has on paths the fake serves, which the fake does not implement: asking for
/// one gets 501, not MAAS' 400 "Unrecognised signature" (which would claim MAAS lacks it).
/// `(verb, template, op)`; from MAAS' handler annotations (`maas-api-ops.tsv`).
const UNIMPLEMENTED_OPS: &[(&str, &str, &str)] = &[
    ("GET", "machines/", "list_allocated"),
    ("GET", "machines/", "is_registered"),
    ("POST", "machines/", ""),
    ("POST", "machines/", "accept"),
    ("POST", "machines/", "accept_all"),
    ("POST", "machines/", "add_chassis"),
    ("POST", "machines/", "clone"),
    ("POST", "machines/", "release"),
    ("POST", "machines/", "set_zone"),
    ("GET", "machines/{system_id}/", "get_curtin_config"),
    ("GET", "machines/{system_id}/", "get_token"),
    ("GET", "machines/{system_id}/", "query_power_state"),
    ("POST", "machines/{system_id}/", "abort"),
    ("POST", "machines/{system_id}/", "clear_default_gateways"),
    ("POST", "machines/{system_id}/", "exit_rescue_mode"),
    ("POST", "machines/{system_id}/", "lock"),
    ("POST", "machines/{system_id}/", "mount_special"),
    ("POST", "machines/{system_id}/", "override_failed_testing"),
    ("POST", "machines/{system_id}/", "power_off"),
    ("POST", "machines/{system_id}/", "power_on"),
    ("POST", "machines/{system_id}/", "rescue_mode"),
    (
        "POST",
        "machines/{system_id}/",
        "restore_default_configuration",
    ),
    (
        "POST",
        "machines/{system_id}/",
        "restore_storage_configuration",
    ),
    ("POST", "machines/{system_id}/", "set_owner_data"),
    ("POST", "machines/{system_id}/", "test"),
    ("POST", "machines/{system_id}/", "unlock"),
    ("POST", "machines/{system_id}/", "unmount_special"),
    ("POST", "account/", "create_authorisation_token"),
    ("POST", "account/", "delete_authorisation_token"),
    ("POST", "account/", "update_token_name"),
    ("POST", "account/prefs/sshkeys/", "import"),
    ("POST", "boot-resources/", ""),
    ("POST", "boot-resources/", "import"),
    ("POST", "boot-resources/", "stop_import"),
    ("POST", "domains/", "set_serial"),
    ("GET", "rackcontrollers/", "describe_power_types"),
    ("GET", "rackcontrollers/", "power_parameters"),
    ("GET", "rackcontrollers/{system_id}/", "list_boot_images"),
    ("GET", "rackcontrollers/{system_id}/", "power_parameters"),
    ("GET", "rackcontrollers/{system_id}/", "query_power_state"),
    ("PUT", "rackcontrollers/{system_id}/", ""),
    ("DELETE", "rackcontrollers/{system_id}/", ""),
    ("GET", "subnets/{id}/", "ip_addresses"),
    ("GET", "subnets/{id}/", "reserved_ip_ranges"),
    ("GET", "subnets/{id}/", "statistics"),
    ("GET", "subnets/{id}/", "unreserved_ip_ranges"),
    ("GET", "tags/{name}/", "devices"),
    ("GET", "tags/{name}/", "machines"),
    ("GET", "tags/{name}/", "rack_controllers"),
    ("GET", "tags/{name}/", "region_controllers"),
    ("PUT", "tags/{name}/", ""),
    ("POST", "tags/{name}/", "rebuild"),
    ("POST", "nodes/{system_id}/blockdevices/", ""),
    ("PUT", "nodes/{system_id}/blockdevices/{id}/", ""),
    ("DELETE", "nodes/{system_id}/blockdevices/{id}/", ""),
    ("POST", "nodes/{system_id}/blockdevices/{id}/", "add_tag"),
    ("POST", "nodes/{system_id}/blockdevices/{id}/", "remove_tag"),
    ("POST", "nodes/{system_id}/interfaces/", "create_bridge"),
    ("POST", "nodes/{system_id}/interfaces/", "create_physical"),
    ("DELETE", "nodes/{system_id}/interfaces/{id}/", ""),
    ("POST", "nodes/{system_id}/interfaces/{id}/", "add_tag"),
    ("POST", "nodes/{system_id}/interfaces/{id}/", "remove_tag"),
    (
        "POST",
        "nodes/{system_id}/interfaces/{id}/",
        "set_default_gateway",
    ),
    ("DELETE", "account/prefs/sshkeys/{id}/", ""),
    ("GET", "account/prefs/sshkeys/{id}/", ""),
    ("PUT", "ipranges/{id}/", ""),
    ("PUT", "static-routes/{id}/", ""),
];

/// The MAAS handler class serving `template`, if the fake serves the template.
fn handler_name(template: &str) -> Option<&'static str> {
    HANDLERS
        .iter()
        .find(|(t, _)| *t == template)
        .map(|(_, name)| *name)
}

/// The names in braces of `template`, in order (the handler's URI parameters).
fn params(template: &str) -> Vec<&str> {
    template
        .split('/')
        .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
        .collect()
}

/// The action name MAAS gives an operation: the op, or the CRUD name of a plain verb.
fn action_name(route: &Route) -> &'static str {
    if !route.op.is_empty() {
        return route.op;
    }
    match route.verb {
        "GET" => "read",
        "POST" => "create",
        "PUT" => "update",
        _ => "delete",
    }
}

/// `describe/` for a client that reached the fake at `base` (`http://host:port`).
pub(crate) fn describe(base: &str) -> Reply {
    let mut handlers: Vec<(&'static str, &'static str, Vec<Value>)> = Vec::new();
    for r in ROUTES {
        let Some(name) = handler_name(r.template) else {
            continue;
        };
        let action = json!({"name": action_name(r), "method": r.verb,
            "op": if r.op.is_empty() { Value::Null } else { json!(r.op) },
            "restful": r.op.is_empty(),
            "doc": format!("{} {}{} (fake MAAS)", r.verb, r.template,
                if r.op.is_empty() { String::new() } else { format!("?op={}", r.op) })});
        match handlers.iter_mut().find(|(n, _, _)| *n == name) {
            Some((_, _, actions)) => {
                if !actions.iter().any(|a| a["name"] == action["name"]) {
                    actions.push(action);
                }
            }
            None => handlers.push((name, r.template, vec![action])),
        }
    }
    let mut described = Vec::new();
    let mut resources = Vec::new();
    for (name, template, actions) in handlers {
        let path = format!("{API}{template}");
        let handler = json!({"name": name, "doc": format!("{name} of the fake MAAS."),
            "params": params(template), "path": path, "uri": format!("{base}{path}"),
            "actions": actions});
        let anonymous = ANONYMOUS_HANDLERS.contains(&name);
        resources.push(json!({"name": name,
            "anon": if anonymous { handler.clone() } else { Value::Null },
            "auth": if anonymous { Value::Null } else { handler.clone() }}));
        described.push(handler);
    }
    Reply::Json(
        200,
        json!({"doc": "MAAS API", "hash": super::reply::API_HASH,
            "handlers": described, "resources": resources}),
    )
}

/// `openapi.yaml` (MAAS 3.3+): the served operations as OpenAPI 3.0 paths of the form
/// `/{template}op-{op}`, as JSON (a subset of YAML). Schemas are generic, as in MAAS.
pub(crate) fn openapi() -> Reply {
    let mut paths = serde_json::Map::new();
    for r in ROUTES {
        if handler_name(r.template).is_none() {
            continue;
        }
        let path = if r.op.is_empty() {
            format!("/{}", r.template)
        } else {
            format!("/{}op-{}", r.template, r.op)
        };
        let parameters: Vec<Value> = params(r.template)
            .into_iter()
            .map(|p| {
                json!({"name": p, "in": "path", "required": true,
                "schema": {"type": "string"}})
            })
            .collect();
        let op = json!({"operationId": format!("{}{}", action_name(r),
                handler_name(r.template).unwrap_or_default()),
            "parameters": parameters,
            "responses": {"200": {"description": "success",
                "content": {"application/json": {"schema":
                    {"type": "object", "additionalProperties": true}}}}}});
        let entry = paths.entry(path).or_insert_with(|| json!({}));
        entry[r.verb.to_ascii_lowercase()] = op;
    }
    let doc = json!({"openapi": "3.0.0",
        "info": {"title": "MAAS HTTP API", "version": "2.0.0",
            "description": "Generated by the fake MAAS from the operations it implements."},
        "servers": [{"url": API}], "paths": paths});
    Reply::Typed(200, "application/yaml", doc.to_string())
}

/// Whether MAAS has `(verb, op)` on `template`, which the fake serves without it.
pub(crate) fn op_unimplemented(verb: &str, template: &str, op: &str) -> bool {
    UNIMPLEMENTED_OPS
        .iter()
        .any(|(v, t, o)| *v == verb && *t == template && *o == op)
}

/// Whether `path` (relative to the API root, with its trailing slash) lies in a part of MAAS'
/// API the fake does not serve. A served path without a trailing slash (a single partition)
/// spelt with one is not: MAAS has no such endpoint either.
pub(crate) fn maas_resource(path: &str) -> bool {
    let first = path.split('/').next().unwrap_or("");
    path.strip_suffix('/')
        .is_some_and(|bare| !super::routes::is_served_path(bare))
        && MAAS_RESOURCES.contains(&first)
}

/// The 501 answer for a part of MAAS the fake does not implement.
pub(crate) fn not_implemented(method: &str, path: &str, op: &str) -> Reply {
    let op = if op.is_empty() {
        String::new()
    } else {
        format!(" op={op}")
    };
    text(
        501,
        format!(
            "Not implemented by the fake MAAS: {method} {API}{path}{op}. MAAS has this endpoint; \
             the fake (drydock-driver-maas, feature `fake`) does not serve it."
        ),
    )
}
