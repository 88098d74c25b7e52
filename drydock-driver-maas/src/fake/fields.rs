//! The rest of MAAS' displayed fields of machines (`DISPLAYED_MACHINE_FIELDS`, MAAS
//! `api/machines.py`) and rack controllers (`DISPLAYED_RACK_CONTROLLER_FIELDS`,
//! `api/rackcontrollers.py`) that the fake does not model: the values an idle MAAS shows, so
//! that clients which read every field (python-libmaas) find them.

use serde_json::{Map, Value, json};

/// MAAS' name of a script status (`SCRIPT_STATUS_CHOICES`; -1: no results).
fn script_status_name(status: i64) -> &'static str {
    match status {
        0 => "Pending",
        1 => "Running",
        2 => "Passed",
        3 => "Failed",
        4 => "Timed out",
        5 => "Aborted",
        _ => "Unknown",
    }
}

/// Fields every node kind shows with their idle values.
fn common(system_id: &str, commissioned: bool) -> Map<String, Value> {
    let status = if commissioned { 2 } else { -1 };
    let name = script_status_name(status);
    let unknown = script_status_name(-1);
    let mut m = Map::new();
    for (k, v) in [
        ("description", json!("")),
        // A stable UUID per node, as MAAS reads it from the firmware.
        (
            "hardware_uuid",
            json!(format!("{:0>8}-0000-4000-8000-000000000000", system_id)),
        ),
        ("cpu_speed", json!(2400)),
        ("swap_size", Value::Null),
        ("status_action", json!("")),
        ("current_commissioning_result_id", Value::Null),
        ("current_testing_result_id", Value::Null),
        ("current_installation_result_id", Value::Null),
        ("commissioning_status_name", json!(name)),
        ("testing_status_name", json!(name)),
        ("cpu_test_status", json!(-1)),
        ("cpu_test_status_name", json!(unknown)),
        ("memory_test_status", json!(-1)),
        ("memory_test_status_name", json!(unknown)),
        ("network_test_status", json!(-1)),
        ("network_test_status_name", json!(unknown)),
        ("storage_test_status", json!(-1)),
        ("storage_test_status_name", json!(unknown)),
        ("other_test_status", json!(-1)),
        ("other_test_status_name", json!(unknown)),
        ("interface_test_status", json!(-1)),
        ("interface_test_status_name", json!(unknown)),
        (
            "hardware_info",
            json!({"system_vendor": "QEMU", "system_product": "Standard PC (Q35 + ICH9, 2009)",
                "system_family": "Unknown", "system_version": "pc-q35-6.2",
                "system_sku": "Unknown", "system_serial": "Unknown",
                "cpu_model": "Intel Core Processor (Skylake)", "mainboard_vendor": "Unknown",
                "mainboard_product": "Unknown", "mainboard_serial": "Unknown",
                "mainboard_version": "Unknown", "mainboard_firmware_vendor": "EFI Development Kit II / OVMF",
                "mainboard_firmware_date": "02/06/2015", "mainboard_firmware_version": "0.0.0",
                "chassis_vendor": "QEMU", "chassis_type": "Other", "chassis_serial": "Unknown",
                "chassis_version": "pc-q35-6.2"}),
        ),
    ] {
        m.insert(k.to_owned(), v);
    }
    m
}

/// Inserts every key of `extra` that `v` lacks.
fn merge(v: &mut Value, extra: Map<String, Value>) {
    if let Some(obj) = v.as_object_mut() {
        for (k, x) in extra {
            obj.entry(k).or_insert(x);
        }
    }
}

/// Completes a rendered machine with the displayed fields the fake does not model.
pub(crate) fn complete_machine(v: &mut Value, commissioned: bool) {
    let system_id = v["system_id"].as_str().unwrap_or_default().to_owned();
    let blocks = v["blockdevice_set"].as_array().cloned().unwrap_or_default();
    let (virtual_blocks, physical): (Vec<Value>, Vec<Value>) =
        blocks.into_iter().partition(|b| b["type"] == "virtual");
    let mut extra = common(&system_id, commissioned);
    for (k, x) in [
        ("bios_boot_method", json!("pxe")),
        ("min_hwe_kernel", json!("")),
        ("address_ttl", Value::Null),
        ("disable_ipv4", json!(false)),
        ("constraints_by_type", Value::Null),
        ("physicalblockdevice_set", json!(physical)),
        ("virtualblockdevice_set", json!(virtual_blocks)),
        ("special_filesystems", json!([])),
        ("pod", Value::Null),
        (
            "default_gateways",
            json!({"ipv4": {"gateway_ip": null, "link_id": null},
                "ipv6": {"gateway_ip": null, "link_id": null}}),
        ),
        (
            "numanode_set",
            json!([{"index": 0, "cores": [0, 1, 2, 3], "memory": v["memory"].clone(),
                "hugepages_set": []}]),
        ),
        ("virtualmachine_id", Value::Null),
    ] {
        extra.insert(k.to_owned(), x);
    }
    merge(v, extra);
}

/// Completes a rack controller with the displayed fields the fake does not model.
pub(crate) fn complete_rack(v: &mut Value) {
    let system_id = v["system_id"].as_str().unwrap_or_default().to_owned();
    let mut extra = common(&system_id, true);
    for (k, x) in [
        (
            "domain",
            json!({"id": 0, "name": "maas", "ttl": null, "authoritative": true,
            "is_default": true, "resource_record_count": 0,
            "resource_uri": format!("{}domains/0/", super::world::API)}),
        ),
        ("architecture", json!("amd64/generic")),
        ("cpu_count", json!(4)),
        ("memory", json!(8192)),
        ("osystem", json!("ubuntu")),
        ("distro_series", json!("jammy")),
        (
            "zone",
            json!({"id": 1, "name": "default", "description": "",
            "resource_uri": format!("{}zones/default/", super::world::API)}),
        ),
        ("commissioning_status", json!(2)),
        ("testing_status", json!(2)),
        ("tag_names", json!([])),
    ] {
        extra.insert(k.to_owned(), x);
    }
    merge(v, extra);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completing_keeps_modelled_values_and_splits_block_devices() {
        let mut m = json!({"system_id": "abc123", "memory": 16384, "description": "mine",
            "blockdevice_set": [{"id": 1, "type": "physical"}, {"id": 2, "type": "virtual"}]});
        complete_machine(&mut m, true);
        assert_eq!(m["description"], "mine");
        assert_eq!(m["status_action"], "");
        assert_eq!(m["min_hwe_kernel"], "");
        assert_eq!(m["disable_ipv4"], false);
        assert_eq!(m["commissioning_status_name"], "Passed");
        assert_eq!(m["physicalblockdevice_set"][0]["id"], 1);
        assert_eq!(m["virtualblockdevice_set"][0]["id"], 2);
        assert_eq!(m["numanode_set"][0]["memory"], 16384);
        let mut r = json!({"system_id": "rack01", "hostname": "rack01"});
        complete_rack(&mut r);
        assert_eq!(r["hostname"], "rack01");
        assert_eq!(r["domain"]["name"], "maas");
        assert_eq!(r["testing_status_name"], "Passed");
    }
}
