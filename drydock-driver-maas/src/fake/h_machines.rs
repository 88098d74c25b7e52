//! Handlers: version, describe, account, machines and their lifecycle, results.

use base64::Engine;
use serde_json::{Value, json};

use super::lifecycle::{RELEASABLE, allowed, invalid_transition};
use super::reply::{Form, R, Reply, not_found, ok, text};
use super::world::{API, MachineRec, Pending, USER, World};
use crate::details::binary_document;
use crate::{MachineStatus as S, PowerState};

pub(crate) fn version() -> R {
    ok(
        json!({"capabilities": ["networks-management", "static-ipaddresses",
        "ipv6-deployment-ubuntu", "devices-management", "storage-deployment-ubuntu",
        "network-deployment-ubuntu", "bridging-interface-ubuntu",
        "bridging-automatic-ubuntu", "authenticate-api"],
        "version": "3.5.0-fake", "subversion": ""}),
    )
}

pub(crate) fn list_tokens(w: &World) -> R {
    ok(json!([{"name": "MAAS consumer", "token": w.key.expose()}]))
}

pub(crate) fn machine<'a>(w: &'a World, sid: &str) -> Result<&'a MachineRec, Reply> {
    w.machines.get(sid).ok_or_else(|| not_found("Machine"))
}

pub(crate) fn machine_mut<'a>(w: &'a mut World, sid: &str) -> Result<&'a mut MachineRec, Reply> {
    w.machines.get_mut(sid).ok_or_else(|| not_found("Machine"))
}

/// Moves `m` to `to`, or answers MAAS' 409.
fn transition(m: &mut MachineRec, to: S) -> Result<(), Reply> {
    if !allowed(m.status, to) {
        return Err(text(409, invalid_transition(m.status, to)));
    }
    m.status = to;
    Ok(())
}

fn render(w: &World, sid: &str) -> R {
    let m = machine(w, sid)?;
    ok(w.render_machine(m))
}

pub(crate) fn list(w: &World, f: &Form) -> R {
    let macs = f.all("mac_address");
    for mac in &macs {
        let valid = mac.split(':').count() == 6
            && mac
                .split(':')
                .all(|p| p.len() == 2 && u8::from_str_radix(p, 16).is_ok());
        if !valid {
            return Err(Reply::Json(
                400,
                json!({"mac_address": [format!("Invalid MAC address(es): {mac}")]}),
            ));
        }
    }
    let hostnames = f.all("hostname");
    let ids = f.all("id");
    let out: Vec<Value> = w
        .machines
        .values()
        .filter(|m| hostnames.is_empty() || hostnames.contains(&m.hostname.as_str()))
        .filter(|m| ids.is_empty() || ids.contains(&m.system_id.as_str()))
        .filter(|m| {
            macs.is_empty()
                || m.interfaces
                    .iter()
                    .any(|i| macs.iter().any(|x| x.eq_ignore_ascii_case(&i.mac)))
        })
        .map(|m| w.render_machine(m))
        .collect();
    ok(Value::Array(out))
}

pub(crate) fn read(w: &World, sid: &str) -> R {
    render(w, sid)
}

pub(crate) fn update(w: &mut World, sid: &str, f: &Form) -> R {
    let domain = match f.get("domain") {
        None => None,
        Some(name) => Some(
            w.domains
                .iter()
                .find(|(_, (n, _))| n == name)
                .map(|(id, _)| *id)
                .ok_or_else(|| {
                    Reply::Json(
                        400,
                        json!({"domain": [format!("Select a valid choice. {name} is not one of the available choices.")]}),
                    )
                })?,
        ),
    };
    let m = machine_mut(w, sid)?;
    if let Some(d) = domain {
        m.domain = d;
    }
    if let Some(h) = f.get("hostname") {
        m.hostname = h.to_owned();
    }
    if let Some(t) = f.get("power_type") {
        m.power_type = t.to_owned();
    }
    for (k, v) in &f.0 {
        if let Some(p) = k.strip_prefix("power_parameters_")
            && p != "skip_check"
        {
            m.power_params.insert(p.to_owned(), v.clone());
        }
    }
    render(w, sid)
}

pub(crate) fn delete(w: &mut World, sid: &str) -> R {
    w.machines.remove(sid).ok_or_else(|| not_found("Machine"))?;
    Ok(Reply::Empty)
}

pub(crate) fn power_parameters(w: &World, sid: &str) -> R {
    ok(json!(machine(w, sid)?.power_params))
}

pub(crate) fn all_power_parameters(w: &World, f: &Form) -> R {
    let ids = f.all("id");
    let map: serde_json::Map<String, Value> = w
        .machines
        .values()
        .filter(|m| ids.is_empty() || ids.contains(&m.system_id.as_str()))
        .map(|m| (m.system_id.clone(), json!(m.power_params)))
        .collect();
    ok(Value::Object(map))
}

pub(crate) fn details(w: &World, sid: &str) -> R {
    let m = machine(w, sid)?;
    let lshw = lshw_xml(m);
    Ok(Reply::Bson(binary_document(&[
        ("lshw", lshw.as_bytes()),
        ("lldp", b"<lldp/>"),
    ])))
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// An lshw document (the shape of `lshw -xml`) listing the machine's NICs under a PCI bus and
/// its disks under a SATA controller.
pub(crate) fn lshw_xml(m: &MachineRec) -> String {
    let mut xml = format!(
        "<?xml version=\"1.0\" standalone=\"yes\" ?>\n<list>\n<node id=\"{}\" claimed=\"true\" class=\"system\">\n <product>Fake MAAS machine</product>\n <node id=\"core\" claimed=\"true\" class=\"bus\">\n",
        xml_escape(&m.hostname)
    );
    for (i, nic) in m.nics.iter().enumerate() {
        xml.push_str(&format!(
            "  <node id=\"network:{i}\" claimed=\"true\" class=\"network\" handle=\"PCI:{bus}\">\n   <description>Ethernet interface</description>\n   <businfo>pci@{bus}</businfo>\n   <logicalname>{name}</logicalname>\n   <serial>{mac}</serial>\n  </node>\n",
            bus = xml_escape(&nic.bus),
            name = xml_escape(&nic.name),
            mac = xml_escape(&nic.mac),
        ));
    }
    xml.push_str("  <node id=\"sata\" claimed=\"true\" class=\"storage\" handle=\"PCI:0000:00:17.0\">\n   <description>SATA controller</description>\n   <businfo>pci@0000:00:17.0</businfo>\n");
    for (i, disk) in m.disks.iter().enumerate() {
        xml.push_str(&format!(
            "   <node id=\"disk:{i}\" claimed=\"true\" class=\"disk\" handle=\"SCSI:{i:02}:00:00:00\">\n    <description>ATA Disk</description>\n    <businfo>scsi@{bus}</businfo>\n    <logicalname>/dev/{name}</logicalname>\n    <size units=\"bytes\">{size}</size>\n   </node>\n",
            bus = xml_escape(&disk.bus),
            name = xml_escape(&disk.name),
            size = disk.size,
        ));
    }
    xml.push_str("  </node>\n </node>\n</node>\n</list>\n");
    xml
}

pub(crate) fn commission(w: &mut World, sid: &str, f: &Form) -> R {
    let d = w.durations;
    let m = machine_mut(w, sid)?;
    if m.power_type.is_empty() {
        return Err(text(
            500,
            "Unconfigured power type. Please configure the power type and try again.",
        ));
    }
    transition(m, S::Commissioning)?;
    m.power_state = PowerState::On;
    m.owner = Some(USER.into());
    m.status_message = "Commissioning".into();
    m.pending = Some(Pending {
        remaining: d.commissioning.max(1),
        elapsed: 0,
    });
    if f.get("skip_storage")
        .is_none_or(|v| v == "0" || v == "false")
    {
        m.vgs.clear();
        m.blocks.retain(|b| b.virtual_of.is_none());
        for b in &mut m.blocks {
            b.partitions.clear();
            b.fs = None;
        }
    }
    if f.get("skip_networking")
        .is_none_or(|v| v == "0" || v == "false")
    {
        m.interfaces.retain(|i| i.kind == "physical");
        for i in &mut m.interfaces {
            i.links.clear();
        }
    }
    render(w, sid)
}

pub(crate) fn allocate(w: &mut World, f: &Form) -> R {
    let sid = f.get("system_id").map(str::to_owned);
    let name = f.get("name");
    let candidate = w
        .machines
        .values()
        .find(|m| {
            m.status == S::Ready
                && sid.as_deref().is_none_or(|s| s == m.system_id)
                && name.is_none_or(|n| n == m.hostname)
        })
        .map(|m| m.system_id.clone());
    let Some(found) = candidate else {
        let msg = match &sid {
            Some(s) => format!("No machine with system ID {s} available."),
            None => "No available machine matches constraints.".into(),
        };
        return Err(text(409, msg));
    };
    let m = machine_mut(w, &found)?;
    transition(m, S::Allocated)?;
    m.owner = Some(USER.into());
    render(w, &found)
}

pub(crate) fn deploy(w: &mut World, sid: &str, f: &Form) -> R {
    let d = w.durations;
    let m = machine_mut(w, sid)?;
    // MAAS passes `user_data` on as sent (`power_on` encodes the string, decodes nothing):
    // raw text and line-wrapped base64 are both accepted and stored as received.
    if m.status == S::Ready {
        transition(m, S::Allocated)?;
        m.owner = Some(USER.into());
    }
    if !allowed(m.status, S::Deploying) || m.status == S::Deploying {
        return Err(text(
            409,
            format!(
                "Can't deploy a machine that is in the '{}' state",
                m.status.label()
            ),
        ));
    }
    transition(m, S::Deploying)?;
    m.user_data = f.get("user_data").map(str::to_owned);
    m.distro_series = f
        .get("distro_series")
        .unwrap_or("jammy")
        .trim_start_matches("ubuntu/")
        .to_owned();
    m.hwe_kernel = f.get("hwe_kernel").map(str::to_owned);
    m.power_state = PowerState::On;
    m.status_message = "Deploying".into();
    m.pending = Some(Pending {
        remaining: d.deploying.max(1),
        elapsed: 0,
    });
    render(w, sid)
}

pub(crate) fn release(w: &mut World, sid: &str, f: &Form) -> R {
    let d = w.durations;
    let m = machine_mut(w, sid)?;
    if matches!(m.status, S::Releasing | S::Ready) {
        return render(w, sid);
    }
    if !RELEASABLE.contains(&m.status) {
        return Err(text(
            409,
            format!(
                "Machine cannot be released in its current state ('{}').",
                m.status.label()
            ),
        ));
    }
    m.owner = None;
    m.user_data = None;
    m.annotations.clear();
    m.distro_series.clear();
    m.hwe_kernel = None;
    if f.bool("erase") == Some(true) {
        transition(m, S::DiskErasing)?;
        m.power_state = PowerState::On;
        m.pending = Some(Pending {
            remaining: d.disk_erasing.max(1),
            elapsed: 0,
        });
    } else if m.power_state == PowerState::Off {
        let target = if m.commissioned { S::Ready } else { S::New };
        transition(m, S::Releasing)?;
        transition(m, target)?;
        m.pending = None;
    } else {
        transition(m, S::Releasing)?;
        m.pending = Some(Pending {
            remaining: d.releasing.max(1),
            elapsed: 0,
        });
    }
    render(w, sid)
}

pub(crate) fn set_storage_layout(w: &mut World, sid: &str, f: &Form) -> R {
    let m = machine_mut(w, sid)?;
    if m.status != S::Ready {
        return Err(text(
            409,
            "Cannot change the storage layout on a machine that is not Ready.",
        ));
    }
    let layout = f.required("storage_layout")?;
    if !matches!(
        layout,
        "flat" | "lvm" | "bcache" | "blank" | "vmfs6" | "vmfs7" | "custom"
    ) {
        return Err(Reply::Json(
            400,
            json!({"storage_layout": [format!("Select a valid choice. {layout} is not one of the available choices.")]}),
        ));
    }
    m.vgs.clear();
    m.blocks.retain(|b| b.virtual_of.is_none());
    for b in &mut m.blocks {
        b.partitions.clear();
        b.fs = None;
    }
    render(w, sid)
}

pub(crate) fn set_workload_annotations(w: &mut World, sid: &str, f: &Form) -> R {
    let m = machine_mut(w, sid)?;
    if m.owner.is_none() {
        return Err(text(
            409,
            "Cannot set workload annotation: it hasn't been acquired.",
        ));
    }
    for (k, v) in &f.0 {
        if k == "op" {
            continue;
        }
        if v.is_empty() {
            m.annotations.remove(k);
        } else {
            m.annotations.insert(k.clone(), v.clone());
        }
    }
    render(w, sid)
}

pub(crate) fn restore_networking(w: &mut World, sid: &str) -> R {
    let m = machine_mut(w, sid)?;
    if !matches!(m.status, S::Ready | S::FailedTesting) {
        return Err(text(
            409,
            "Machine must be in a ready or failed testing state to restore networking configuration",
        ));
    }
    m.interfaces.retain(|i| i.kind == "physical");
    for i in &mut m.interfaces {
        i.links.clear();
    }
    render(w, sid)
}

pub(crate) fn mark_broken(w: &mut World, sid: &str) -> R {
    let m = machine_mut(w, sid)?;
    transition(m, S::Broken)?;
    m.pending = None;
    render(w, sid)
}

pub(crate) fn mark_fixed(w: &mut World, sid: &str) -> R {
    let m = machine_mut(w, sid)?;
    if m.status != S::Broken {
        return Err(text(
            409,
            format!(
                "Can't mark a machine that is not broken as fixed (current state: '{}').",
                m.status.label()
            ),
        ));
    }
    transition(m, S::Ready)?;
    render(w, sid)
}

pub(crate) fn commissioning_results(w: &World, f: &Form) -> R {
    let sids = f.all("system_id");
    let rtype = f.int("result_type")?;
    let mut out = Vec::new();
    for m in w
        .machines
        .values()
        .filter(|m| sids.is_empty() || sids.contains(&m.system_id.as_str()))
    {
        for (i, (name, t, exit)) in m.results.iter().enumerate() {
            if rtype.is_some_and(|r| r != *t) {
                continue;
            }
            let data =
                base64::engine::general_purpose::STANDARD.encode(format!("{name}: exit {exit}\n"));
            out.push(json!({"id": i, "name": name, "script_result": exit, "result_type": t,
                "node": {"system_id": m.system_id}, "data": data,
                "created": "Tue, 24 Nov 2026 00:00:00 -0000", "updated": "Tue, 24 Nov 2026 00:00:00 -0000",
                "resource_uri": format!("{API}commissioning-scripts/")}));
        }
    }
    ok(Value::Array(out))
}
