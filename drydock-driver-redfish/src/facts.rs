//! Interrogation: what the BMC tells about the system, as [`OobFacts`].

use std::collections::BTreeMap;

use drydock_core::driver::{DriverError, OobFacts, OobTarget, Operation};
use serde_json::Value;

use crate::client::BmcClient;
use crate::driver::{RedfishDriver, to_driver};
use crate::model::{self, links, scalar, text};
use crate::power;

/// At most this many members of a sub-collection (interfaces, storage, drives) are read.
const MAX_READ: usize = 32;

/// The facts of a `ComputerSystem` body alone (no further request).
pub(crate) fn system_facts(v: &Value, facts: &mut BTreeMap<String, String>) {
    let mut put = |k: &str, path: &[&str]| {
        if let Some(s) = scalar(v, path) {
            facts.insert(k.to_owned(), s);
        }
    };
    put("system_id", &["Id"]);
    put("manufacturer", &["Manufacturer"]);
    put("model", &["Model"]);
    put("serial_number", &["SerialNumber"]);
    put("sku", &["SKU"]);
    put("part_number", &["PartNumber"]);
    put("uuid", &["UUID"]);
    put("bios_version", &["BiosVersion"]);
    put("host_name", &["HostName"]);
    put("health", &["Status", "Health"]);
    put("health_rollup", &["Status", "HealthRollup"]);
    put("state", &["Status", "State"]);
    put("processor_count", &["ProcessorSummary", "Count"]);
    put("processor_model", &["ProcessorSummary", "Model"]);
    put(
        "processor_health",
        &["ProcessorSummary", "Status", "Health"],
    );
    put("memory_gib", &["MemorySummary", "TotalSystemMemoryGiB"]);
    put("memory_health", &["MemorySummary", "Status", "Health"]);
    put("boot_mode", &["Boot", "BootSourceOverrideMode"]);
    put(
        "boot_override_target",
        &["Boot", "BootSourceOverrideTarget"],
    );
    put(
        "boot_override_enabled",
        &["Boot", "BootSourceOverrideEnabled"],
    );
}

/// Reads the facts of `target`: the system's, its manager's, its Ethernet interfaces' MACs
/// and its storage drives.
pub(crate) async fn interrogate(
    driver: &RedfishDriver,
    target: &OobTarget,
) -> Result<OobFacts, DriverError> {
    let op = Operation::InterrogateOob;
    let (client, _, system, body) = driver.system(target, op).await?;
    let power = power::current(&system).map_err(|e| to_driver(e, op, target, ""))?;
    let mut facts = BTreeMap::new();
    system_facts(&body, &mut facts);
    if let Ok(root) = client.root().await
        && let Some(v) = &root.version
    {
        facts.insert("redfish_version".into(), v.clone());
    }
    // The rest is best effort: a missing or broken sub-resource leaves its facts out.
    if let Some(manager) = system.managers.first() {
        match client.get(manager).await {
            Ok(m) => {
                for (k, path) in [
                    ("manager_firmware_version", &["FirmwareVersion"][..]),
                    ("manager_model", &["Model"]),
                    ("manager_health", &["Status", "Health"]),
                ] {
                    if let Some(s) = scalar(&m.body, path) {
                        facts.insert(k.into(), s);
                    }
                }
            }
            Err(e) => tracing::debug!(node = %target.node, error = %e, "no manager facts"),
        }
    }
    if let Some(eth) = model::link(&body, &["EthernetInterfaces"]) {
        let macs = members(&client, &eth)
            .await
            .iter()
            .filter_map(|i| text(i, &["MACAddress"]).map(str::to_ascii_lowercase))
            .filter(|m| !m.is_empty())
            .collect::<Vec<_>>();
        facts.insert("ethernet_interfaces".into(), macs.len().to_string());
        if !macs.is_empty() {
            facts.insert("ethernet_macs".into(), macs.join(","));
        }
    }
    if let Some(storage) = model::link(&body, &["Storage"]) {
        let mut drives = 0usize;
        let mut bytes = 0u64;
        for s in members(&client, &storage).await {
            for d in links(&s, &["Drives"]).iter().take(MAX_READ) {
                drives += 1;
                if let Ok(r) = client.get(d).await {
                    bytes = bytes.saturating_add(
                        model::at(&r.body, &["CapacityBytes"])
                            .and_then(Value::as_u64)
                            .unwrap_or(0),
                    );
                }
            }
        }
        facts.insert("drives".into(), drives.to_string());
        if bytes > 0 {
            facts.insert("drive_bytes".into(), bytes.to_string());
        }
    }
    Ok(OobFacts {
        power: Some(power),
        facts,
        ..OobFacts::default()
    })
}

/// The bodies of the members of the collection at `path` (at most [`MAX_READ`]); what cannot
/// be read is skipped.
async fn members(client: &BmcClient, path: &str) -> Vec<Value> {
    let Ok(collection) = client.get(path).await else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for m in links(&collection.body, &["Members"]).iter().take(MAX_READ) {
        if let Ok(r) = client.get(m).await {
            out.push(r.body);
        }
    }
    out
}
