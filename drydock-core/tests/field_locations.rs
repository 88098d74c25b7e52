//! Findings point at the field: the field path and the line:column of the value itself (not of
//! the document), in the finding, its text, its JSON and `assert_site_valid`'s failure.

use drydock_core::design::{DiagnosticKind, compile, ingest_str};
use drydock_core::validation::{Finding, RuleId, ValidationContext, ValidationReport, validate};

const SITE: &str = r#"---
schema: drydock/NetworkLink/v1
metadata: {name: pxe-link}
data:
  mtu: 1500
  trunking: {mode: 802.1q}
  allowed_networks: [pxe, storage]
---
schema: drydock/Network/v1
metadata: {name: pxe}
data:
  cidr: 10.0.0.0/24
  mtu: 99999
---
schema: drydock/Network/v1
metadata: {name: storage}
data:
  cidr: 10.1.0.1/24
---
schema: drydock/Network/v1
metadata: {name: mgmt}
data:
  cidr: 10.2.0.0/24
---
schema: drydock/HostProfile/v1
metadata: {name: base}
data:
  storage:
    physical_devices:
      sda:
        partitions:
          - name: boot
            size: 2g
            filesystem: {mountpoint: /boot}
          - name: root
            size: 10g
            filesystem: {mountpoint: /}
  interfaces:
    pxe:
      device_link: pxe-link
      networks: [pxe, mgmt]
---
schema: drydock/BaremetalNode/v1
metadata: {name: node1}
data:
  host_profile: base
  addressing:
    - network: pxe
      address: 10.9.0.20
    - network: nowhere
      address: 10.0.0.5
"#;

/// The 1-based line and column where `needle` starts in `text` (the first line holding it,
/// from line `after` on).
fn at(text: &str, after: usize, needle: &str) -> (u32, u32) {
    for (i, line) in text.lines().enumerate().skip(after) {
        if let Some(col) = line.find(needle) {
            return (i as u32 + 1, col as u32 + 1);
        }
    }
    panic!("{needle} not found");
}

fn report() -> ValidationReport {
    let design = compile(ingest_str(SITE).unwrap()).unwrap();
    validate(&design, &ValidationContext::default())
}

fn one<'r>(r: &'r ValidationReport, rule: RuleId, text: &str) -> &'r Finding {
    let found: Vec<_> = r
        .problems_of(rule)
        .filter(|f| f.message.contains(text))
        .collect();
    assert_eq!(found.len(), 1, "{rule} '{text}':\n{r}");
    found[0]
}

fn assert_at(f: &Finding, field: &str, (line, column): (u32, u32)) {
    assert_eq!(f.field.as_deref(), Some(field), "{f}");
    let loc = f.location.as_ref().expect("a location");
    assert_eq!((loc.pos.line, loc.pos.column), (line, column), "{f}");
    // The text and the JSON show both.
    let shown = f.to_string();
    assert!(
        shown.contains(&format!("<string>:{line}:{column} at {field}:")),
        "{shown}"
    );
    let json = serde_json::to_value(f).unwrap();
    assert_eq!(json["field"], field);
    assert_eq!(json["location"], format!("<string>:{line}:{column}"));
}

#[test]
fn mtu_and_cidr_findings_point_at_their_values() {
    let r = report();
    let mtu = one(&r, RuleId::Mtu, "value is 99999");
    assert_at(mtu, "data.mtu", at(SITE, 0, "99999"));
    let parent = one(&r, RuleId::Mtu, "MTU 99999 > MTU 1500");
    assert_at(parent, "data.mtu", at(SITE, 0, "99999"));
    let cidr = one(&r, RuleId::CidrValidity, "10.1.0.1/24");
    assert_at(cidr, "data.cidr", at(SITE, 0, "10.1.0.1/24"));
}

#[test]
fn address_and_network_references_point_at_their_values() {
    let r = report();
    let outside = one(&r, RuleId::IpLocality, "10.9.0.20");
    assert_at(
        outside,
        "data.addressing[0].address",
        at(SITE, 0, "10.9.0.20"),
    );
    let unknown = one(&r, RuleId::IpLocality, "nowhere is not a valid network");
    assert_at(
        unknown,
        "data.addressing[1].network",
        at(SITE, 0, "nowhere"),
    );
    // An interface's network, written in the host profile the node inherits it from.
    let not_allowed = one(&r, RuleId::AllowedNetworks, "network mgmt not allowed");
    let line = at(SITE, 0, "networks: [pxe, mgmt]");
    assert_at(
        not_allowed,
        "data.interfaces.pxe.networks[1]",
        (line.0, line.1 + "networks: [pxe, ".len() as u32),
    );
}

#[test]
fn a_partition_size_points_at_the_profile_that_writes_it() {
    let r = report();
    let root = one(&r, RuleId::BootStorage, "Root volume must be > 20GB");
    let after_root = at(SITE, 0, "- name: root").0 as usize;
    assert_at(
        root,
        "data.storage.physical_devices.sda.partitions[1].size",
        at(SITE, after_root, "10g"),
    );
    // The finding is still about the node.
    assert_eq!(root.documents[0].name, "node1");
}

#[test]
fn an_unknown_host_profile_points_at_the_reference() {
    let text = format!(
        "{SITE}---\nschema: drydock/BaremetalNode/v1\nmetadata: {{name: node2}}\ndata:\n  host_profile: no-such-profile\n  addressing: [{{network: pxe, address: 10.0.0.30}}]\n"
    );
    let errors = compile(ingest_str(&text).unwrap()).unwrap_err();
    let e = errors
        .iter()
        .find(|e| e.kind == DiagnosticKind::UnknownReference)
        .expect("an unknown reference");
    assert_eq!(e.field.as_deref(), Some("data.host_profile"));
    let (line, column) = at(&text, 0, "no-such-profile");
    let pos = e.location.as_ref().unwrap().pos;
    assert_eq!((pos.line, pos.column), (line, column), "{e}");
    assert!(
        e.to_string()
            .starts_with(&format!("<string>:{line}:{column}: error")),
        "{e}"
    );
}

#[test]
fn a_hardware_profile_inherited_from_a_profile_points_at_the_profile() {
    let text = SITE.replace(
        "data:\n  storage:",
        "data:\n  hardware_profile: no-such-hw\n  storage:",
    );
    let errors = compile(ingest_str(&text).unwrap()).unwrap_err();
    let e = errors
        .iter()
        .find(|e| e.kind == DiagnosticKind::UnknownReference)
        .expect("an unknown reference");
    assert_eq!(e.document.as_ref().unwrap().name, "node1");
    assert_eq!(e.field.as_deref(), Some("data.hardware_profile"));
    let (line, column) = at(&text, 0, "no-such-hw");
    let pos = e.location.as_ref().unwrap().pos;
    assert_eq!((pos.line, pos.column), (line, column), "{e}");
}

#[test]
fn assert_site_valid_prints_the_field_and_its_location() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("site.yaml");
    std::fs::write(&path, SITE).unwrap();
    let panic = std::panic::catch_unwind(|| {
        drydock_core::validation::testing::assert_site_valid(&path);
    })
    .expect_err("the site is invalid");
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    let (line, column) = at(SITE, 0, "99999");
    assert!(
        message.contains(&format!("site.yaml:{line}:{column} at data.mtu:")),
        "{message}"
    );
}
