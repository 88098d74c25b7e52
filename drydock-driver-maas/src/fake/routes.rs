//! The fake's route table: every (verb, path template, op) it serves, and the matcher.
//!
//! The table is the single source of truth for dispatch and for the conformance test that
//! compares it with MAAS' own handler annotations (`maas-api-ops.tsv`).

/// What a route does (one variant per served operation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum Handler {
    Version,
    Describe,
    ListTokens,
    MachinesRead,
    MachinesPowerParameters,
    MachinesAllocate,
    MachineRead,
    MachineUpdate,
    MachineDelete,
    MachinePowerParameters,
    MachineDetails,
    MachineCommission,
    MachineDeploy,
    MachineRelease,
    MachineSetStorageLayout,
    MachineSetWorkloadAnnotations,
    MachineRestoreNetworking,
    MachineMarkBroken,
    MachineMarkFixed,
    InterfacesRead,
    InterfacesCreateBond,
    InterfacesCreateVlan,
    InterfaceRead,
    InterfaceUpdate,
    InterfaceLinkSubnet,
    InterfaceUnlinkSubnet,
    InterfaceDisconnect,
    FabricsRead,
    FabricsCreate,
    FabricRead,
    FabricUpdate,
    FabricDelete,
    VlansRead,
    VlansCreate,
    VlanRead,
    VlanUpdate,
    VlanDelete,
    SubnetsRead,
    SubnetsCreate,
    SubnetRead,
    SubnetUpdate,
    SubnetDelete,
    IpRangesRead,
    IpRangesCreate,
    IpRangeRead,
    IpRangeDelete,
    StaticRoutesRead,
    StaticRoutesCreate,
    StaticRouteRead,
    StaticRouteDelete,
    DomainsRead,
    DomainsCreate,
    TagsRead,
    TagsCreate,
    TagRead,
    TagDelete,
    TagNodes,
    TagUpdateNodes,
    SshKeysRead,
    SshKeysCreate,
    ReposRead,
    ReposCreate,
    RepoRead,
    RepoUpdate,
    RepoDelete,
    BootResourcesRead,
    BootResourcesIsImporting,
    RacksRead,
    RackRead,
    CommissioningResults,
    BlockDevicesRead,
    BlockDeviceRead,
    BlockDeviceFormat,
    BlockDeviceUnformat,
    BlockDeviceMount,
    BlockDeviceUnmount,
    BlockDeviceSetBootDisk,
    PartitionsRead,
    PartitionsCreate,
    PartitionRead,
    PartitionDelete,
    PartitionFormat,
    PartitionUnformat,
    PartitionMount,
    PartitionUnmount,
    VolumeGroupsRead,
    VolumeGroupsCreate,
    VolumeGroupRead,
    VolumeGroupDelete,
    CreateLogicalVolume,
    DeleteLogicalVolume,
}

/// One served route. `template` is relative to `/MAAS/api/2.0/`; `{name}` matches one
/// non-empty path segment; the trailing slash is part of the template.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    /// HTTP verb.
    pub verb: &'static str,
    /// Path template.
    pub template: &'static str,
    /// `op` (empty for none).
    pub op: &'static str,
    /// Handler.
    pub handler: Handler,
}

/// Routes MAAS serves without authentication.
pub const ANONYMOUS: &[&str] = &["version/", "describe/"];

/// Meta endpoints served by MAAS' URL configuration but not by an annotated API handler, so
/// absent from `maas-api-ops.tsv` (see `urls_api.py`).
pub const META_ROUTES: &[&str] = &["describe/"];

macro_rules! routes {
    ($($verb:literal $template:literal $op:literal => $handler:ident;)*) => {
        /// Every route the fake serves.
        pub const ROUTES: &[Route] = &[
            $(Route { verb: $verb, template: $template, op: $op, handler: Handler::$handler },)*
        ];
    };
}

routes! {
    "GET" "version/" "" => Version;
    "GET" "describe/" "" => Describe;
    "GET" "account/" "list_authorisation_tokens" => ListTokens;
    "GET" "machines/" "" => MachinesRead;
    "GET" "machines/" "power_parameters" => MachinesPowerParameters;
    "POST" "machines/" "allocate" => MachinesAllocate;
    "GET" "machines/{system_id}/" "" => MachineRead;
    "PUT" "machines/{system_id}/" "" => MachineUpdate;
    "DELETE" "machines/{system_id}/" "" => MachineDelete;
    "GET" "machines/{system_id}/" "power_parameters" => MachinePowerParameters;
    "GET" "machines/{system_id}/" "details" => MachineDetails;
    "POST" "machines/{system_id}/" "commission" => MachineCommission;
    "POST" "machines/{system_id}/" "deploy" => MachineDeploy;
    "POST" "machines/{system_id}/" "release" => MachineRelease;
    "POST" "machines/{system_id}/" "set_storage_layout" => MachineSetStorageLayout;
    "POST" "machines/{system_id}/" "set_workload_annotations" => MachineSetWorkloadAnnotations;
    "POST" "machines/{system_id}/" "restore_networking_configuration" => MachineRestoreNetworking;
    "POST" "machines/{system_id}/" "mark_broken" => MachineMarkBroken;
    "POST" "machines/{system_id}/" "mark_fixed" => MachineMarkFixed;
    "GET" "nodes/{system_id}/interfaces/" "" => InterfacesRead;
    "POST" "nodes/{system_id}/interfaces/" "create_bond" => InterfacesCreateBond;
    "POST" "nodes/{system_id}/interfaces/" "create_vlan" => InterfacesCreateVlan;
    "GET" "nodes/{system_id}/interfaces/{id}/" "" => InterfaceRead;
    "PUT" "nodes/{system_id}/interfaces/{id}/" "" => InterfaceUpdate;
    "POST" "nodes/{system_id}/interfaces/{id}/" "link_subnet" => InterfaceLinkSubnet;
    "POST" "nodes/{system_id}/interfaces/{id}/" "unlink_subnet" => InterfaceUnlinkSubnet;
    "POST" "nodes/{system_id}/interfaces/{id}/" "disconnect" => InterfaceDisconnect;
    "GET" "fabrics/" "" => FabricsRead;
    "POST" "fabrics/" "" => FabricsCreate;
    "GET" "fabrics/{id}/" "" => FabricRead;
    "PUT" "fabrics/{id}/" "" => FabricUpdate;
    "DELETE" "fabrics/{id}/" "" => FabricDelete;
    "GET" "fabrics/{fabric_id}/vlans/" "" => VlansRead;
    "POST" "fabrics/{fabric_id}/vlans/" "" => VlansCreate;
    "GET" "fabrics/{fabric_id}/vlans/{vid}/" "" => VlanRead;
    "PUT" "fabrics/{fabric_id}/vlans/{vid}/" "" => VlanUpdate;
    "DELETE" "fabrics/{fabric_id}/vlans/{vid}/" "" => VlanDelete;
    "GET" "subnets/" "" => SubnetsRead;
    "POST" "subnets/" "" => SubnetsCreate;
    "GET" "subnets/{id}/" "" => SubnetRead;
    "PUT" "subnets/{id}/" "" => SubnetUpdate;
    "DELETE" "subnets/{id}/" "" => SubnetDelete;
    "GET" "ipranges/" "" => IpRangesRead;
    "POST" "ipranges/" "" => IpRangesCreate;
    "GET" "ipranges/{id}/" "" => IpRangeRead;
    "DELETE" "ipranges/{id}/" "" => IpRangeDelete;
    "GET" "static-routes/" "" => StaticRoutesRead;
    "POST" "static-routes/" "" => StaticRoutesCreate;
    "GET" "static-routes/{id}/" "" => StaticRouteRead;
    "DELETE" "static-routes/{id}/" "" => StaticRouteDelete;
    "GET" "domains/" "" => DomainsRead;
    "POST" "domains/" "" => DomainsCreate;
    "GET" "tags/" "" => TagsRead;
    "POST" "tags/" "" => TagsCreate;
    "GET" "tags/{name}/" "" => TagRead;
    "DELETE" "tags/{name}/" "" => TagDelete;
    "GET" "tags/{name}/" "nodes" => TagNodes;
    "POST" "tags/{name}/" "update_nodes" => TagUpdateNodes;
    "GET" "account/prefs/sshkeys/" "" => SshKeysRead;
    "POST" "account/prefs/sshkeys/" "" => SshKeysCreate;
    "GET" "package-repositories/" "" => ReposRead;
    "POST" "package-repositories/" "" => ReposCreate;
    "GET" "package-repositories/{id}/" "" => RepoRead;
    "PUT" "package-repositories/{id}/" "" => RepoUpdate;
    "DELETE" "package-repositories/{id}/" "" => RepoDelete;
    "GET" "boot-resources/" "" => BootResourcesRead;
    "GET" "boot-resources/" "is_importing" => BootResourcesIsImporting;
    "GET" "rackcontrollers/" "" => RacksRead;
    "GET" "rackcontrollers/{system_id}/" "" => RackRead;
    "GET" "commissioning-results/" "" => CommissioningResults;
    "GET" "nodes/{system_id}/blockdevices/" "" => BlockDevicesRead;
    "GET" "nodes/{system_id}/blockdevices/{id}/" "" => BlockDeviceRead;
    "POST" "nodes/{system_id}/blockdevices/{id}/" "format" => BlockDeviceFormat;
    "POST" "nodes/{system_id}/blockdevices/{id}/" "unformat" => BlockDeviceUnformat;
    "POST" "nodes/{system_id}/blockdevices/{id}/" "mount" => BlockDeviceMount;
    "POST" "nodes/{system_id}/blockdevices/{id}/" "unmount" => BlockDeviceUnmount;
    "POST" "nodes/{system_id}/blockdevices/{id}/" "set_boot_disk" => BlockDeviceSetBootDisk;
    "GET" "nodes/{system_id}/blockdevices/{device_id}/partitions/" "" => PartitionsRead;
    "POST" "nodes/{system_id}/blockdevices/{device_id}/partitions/" "" => PartitionsCreate;
    "GET" "nodes/{system_id}/blockdevices/{device_id}/partition/{id}" "" => PartitionRead;
    "GET" "nodes/{system_id}/blockdevices/{device_id}/partitions/{id}" "" => PartitionRead;
    "DELETE" "nodes/{system_id}/blockdevices/{device_id}/partition/{id}" "" => PartitionDelete;
    "DELETE" "nodes/{system_id}/blockdevices/{device_id}/partitions/{id}" "" => PartitionDelete;
    "POST" "nodes/{system_id}/blockdevices/{device_id}/partition/{id}" "format" => PartitionFormat;
    "POST" "nodes/{system_id}/blockdevices/{device_id}/partition/{id}" "unformat" => PartitionUnformat;
    "POST" "nodes/{system_id}/blockdevices/{device_id}/partition/{id}" "mount" => PartitionMount;
    "POST" "nodes/{system_id}/blockdevices/{device_id}/partition/{id}" "unmount" => PartitionUnmount;
    "GET" "nodes/{system_id}/volume-groups/" "" => VolumeGroupsRead;
    "POST" "nodes/{system_id}/volume-groups/" "" => VolumeGroupsCreate;
    "GET" "nodes/{system_id}/volume-group/{id}/" "" => VolumeGroupRead;
    "GET" "nodes/{system_id}/volume-groups/{id}/" "" => VolumeGroupRead;
    "DELETE" "nodes/{system_id}/volume-group/{id}/" "" => VolumeGroupDelete;
    "DELETE" "nodes/{system_id}/volume-groups/{id}/" "" => VolumeGroupDelete;
    "POST" "nodes/{system_id}/volume-group/{id}/" "create_logical_volume" => CreateLogicalVolume;
    "POST" "nodes/{system_id}/volume-group/{id}/" "delete_logical_volume" => DeleteLogicalVolume;
}

/// Matches `path` (relative to `/MAAS/api/2.0/`) against `template`; returns the captured
/// segments in order.
pub fn match_template(template: &str, path: &str) -> Option<Vec<String>> {
    let t: Vec<&str> = template.split('/').collect();
    let p: Vec<&str> = path.split('/').collect();
    if t.len() != p.len() {
        return None;
    }
    let mut caps = Vec::new();
    for (ts, ps) in t.iter().zip(&p) {
        if ts.starts_with('{') {
            if ps.is_empty() {
                return None;
            }
            caps.push(crate::oauth::percent_decode(ps));
        } else if ts != ps {
            return None;
        }
    }
    Some(caps)
}

/// The template of a served route that `path` matches, if any.
pub fn served_template(path: &str) -> Option<&'static str> {
    ROUTES
        .iter()
        .find(|r| match_template(r.template, path).is_some())
        .map(|r| r.template)
}

/// Whether `path` is the path of a served route (whatever its verb and op).
pub fn is_served_path(path: &str) -> bool {
    served_template(path).is_some()
}

/// Outcome of routing a request.
#[derive(Debug)]
pub enum Routed {
    /// A route matched path, verb and op.
    Found(&'static Route, Vec<String>),
    /// The path exists but not with this verb and op.
    WrongSignature,
    /// No route has this path (this includes a missing trailing slash).
    UnknownPath,
}

/// Routes `(verb, path, op)`.
pub fn route(verb: &str, path: &str, op: &str) -> Routed {
    let mut path_known = false;
    for r in ROUTES {
        if let Some(caps) = match_template(r.template, path) {
            path_known = true;
            if r.verb == verb && r.op == op {
                return Routed::Found(r, caps);
            }
        }
    }
    if path_known {
        Routed::WrongSignature
    } else {
        Routed::UnknownPath
    }
}
