//! Host profile inheritance: unit tests of the merge rules and property tests over random
//! profile chains.

use drydock_core::design::inherit::{merge_dicts, merge_lists};
use drydock_core::design::{DiagnosticKind, compile, ingest_str};
use indexmap::IndexMap;
use proptest::prelude::*;

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

#[test]
fn lists_and_dicts_merge_as_documented() {
    assert_eq!(
        merge_lists(&s(&["a", "!b", "c"]), &s(&["b", "d", "a", "d"])),
        s(&["a", "c", "d", "d"])
    );
    assert_eq!(merge_lists(&[], &s(&["x"])), s(&["x"]));
    let child: IndexMap<String, i32> = [("a", 1), ("!b", 0), ("c", 3)]
        .into_iter()
        .map(|(k, v)| (k.into(), v))
        .collect();
    let parent: IndexMap<String, i32> = [("a", 0), ("b", 2), ("d", 4)]
        .into_iter()
        .map(|(k, v)| (k.into(), v))
        .collect();
    let merged: Vec<(String, i32)> = merge_dicts(&child, &parent).into_iter().collect();
    assert_eq!(
        merged,
        vec![("a".into(), 1), ("d".into(), 4), ("c".into(), 3)]
    );
}

const BASE: &str = "
schema: drydock/NetworkLink/v1
metadata: {name: gp}
data: {allowed_networks: [mgmt]}
";

fn node(profile: &str, extra: &str) -> String {
    format!(
        "---\nschema: drydock/BaremetalNode/v1\nmetadata: {{name: n1}}\ndata:\n  host_profile: {profile}\n  addressing: [{{network: mgmt, address: 10.0.0.5}}]\n{extra}"
    )
}

fn profile(name: &str, parent: Option<&str>, data: &str) -> String {
    let parent = parent
        .map(|p| format!("  host_profile: {p}\n"))
        .unwrap_or_default();
    format!(
        "---\nschema: drydock/HostProfile/v1\nmetadata: {{name: {name}}}\ndata:\n{parent}{data}"
    )
}

#[test]
fn storage_merges_by_name_without_losing_items() {
    // The reference keeps only the last unmatched parent item and loses merged LVs (§8.2 item 12).
    let top = profile(
        "top",
        None,
        "  storage:\n    physical_devices:\n      sda:\n        partitions:\n          - {name: root, size: 30g, filesystem: {mountpoint: /}}\n          - {name: boot, size: 1g, filesystem: {mountpoint: /boot}}\n      sdb: {volume_group: vg1}\n    volume_groups:\n      vg1:\n        logical_volumes:\n          - {name: lv1, size: 10g}\n          - {name: lv2, size: 20g}\n",
    );
    let mid = profile(
        "mid",
        Some("top"),
        "  storage:\n    physical_devices:\n      sda:\n        partitions:\n          - {name: var, size: 50g}\n      sdc: {volume_group: vg1}\n    volume_groups:\n      vg1:\n        logical_volumes:\n          - {name: lv2, size: 25g}\n",
    );
    let yaml = format!("{BASE}{top}{mid}{}", node("mid", ""));
    let design = compile(ingest_str(&yaml).unwrap()).unwrap();
    let n = design.node("n1").unwrap();
    let devices: Vec<&str> = n.storage_devices.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(devices, ["sda", "sdb", "sdc"]);
    let parts: Vec<&str> = n.storage_devices[0]
        .partitions
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(parts, ["root", "boot", "var"]);
    let lvs: Vec<(&str, &str)> = n.volume_groups[0]
        .logical_volumes
        .iter()
        .map(|l| (l.name.as_str(), l.size.as_ref().unwrap().0.as_str()))
        .collect();
    assert_eq!(lvs, [("lv1", "10g"), ("lv2", "25g")]);
}

#[test]
fn removal_and_clearing_through_a_chain() {
    let top = profile(
        "top",
        None,
        "  hardware_profile: hw\n  platform: {image: focal, kernel: ga, kernel_params: {quiet: true, console: ttyS0}}\n  interfaces:\n    pxe: {device_link: gp, networks: [mgmt]}\n    bond0: {device_link: gp, networks: [mgmt]}\n  metadata: {tags: [a, b], owner_data: {role: x, zone: z}}\n",
    );
    let mid = profile(
        "mid",
        Some("top"),
        "  hardware_profile: '!'\n  platform: {kernel_params: {'!console': ~}}\n  interfaces:\n    '!bond0': {}\n    pxe: ~\n  metadata: {tags: ['!a', c], owner_data: {'!zone': ''}}\n",
    );
    let yaml = format!(
        "{BASE}{top}{mid}{}",
        node(
            "mid",
            "  interfaces:\n    pxe: {device_link: gp, networks: [mgmt]}\n  platform: {image: jammy}\n"
        )
    );
    let design = compile(ingest_str(&yaml).unwrap()).unwrap();
    let n = design.node("n1").unwrap();
    assert_eq!(
        n.hardware_profile, None,
        "'!' clears the inherited hardware profile"
    );
    assert_eq!(n.platform.image.as_deref(), Some("jammy"));
    assert_eq!(n.platform.kernel.as_deref(), Some("ga"));
    assert_eq!(n.platform.kernel_command_line(), "quiet");
    // mid removed pxe (null) and bond0 ('!bond0'); the node adds pxe back.
    let ifaces: Vec<&str> = n.interfaces.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(ifaces, ["pxe"]);
    assert_eq!(n.tags, ["c", "b"]);
    assert_eq!(n.owner_data.keys().collect::<Vec<_>>(), ["role"]);
    assert_eq!(n.profiles, ["mid", "top"]);
}

#[test]
fn cycles_and_missing_parents_are_named() {
    let yaml = format!(
        "{BASE}{}{}{}{}",
        profile("a", Some("b"), "  primary_network: mgmt\n"),
        profile("b", Some("c"), "  primary_network: mgmt\n"),
        profile("c", Some("a"), "  primary_network: mgmt\n"),
        profile("lonely", Some("nowhere"), "  primary_network: mgmt\n"),
    );
    let err = compile(ingest_str(&yaml).unwrap()).unwrap_err();
    let cycle = err
        .iter()
        .find(|d| d.kind == DiagnosticKind::InheritanceCycle)
        .expect("a cycle error");
    assert!(cycle.message.contains("a -> b -> c -> a"), "{cycle}");
    let missing = err
        .iter()
        .find(|d| d.kind == DiagnosticKind::UnknownReference)
        .expect("a missing parent");
    assert!(missing.message.contains("'nowhere'"), "{missing}");
    assert_eq!(missing.document.as_ref().unwrap().name, "lonely");
    assert!(missing.location.is_some());
}

#[test]
fn a_long_chain_does_not_exhaust_the_stack() {
    let mut yaml = String::from(BASE);
    yaml.push_str(&profile("p0", None, "  primary_network: mgmt\n"));
    for i in 1..3000 {
        yaml.push_str(&profile(
            &format!("p{i}"),
            Some(&format!("p{}", i - 1)),
            "  metadata: {tags: [t]}\n",
        ));
    }
    yaml.push_str(&node("p2999", ""));
    let design = compile(ingest_str(&yaml).unwrap()).unwrap();
    assert_eq!(design.node("n1").unwrap().profiles.len(), 3000);
}

#[test]
fn unresolved_kernel_parameter_references_warn() {
    let yaml = format!(
        "{BASE}---\nschema: drydock/HardwareProfile/v1\nmetadata: {{name: hw}}\ndata: {{cpu_sets: {{sriov: '2,4'}}}}\n{}",
        node(
            "p",
            "  platform: {kernel_params: {isolcpus: 'hardwareprofile:cpuset.sriov', x: 'hardwareprofile:cpuset.nope'}}\n"
        )
    ) + &profile("p", None, "  hardware_profile: hw\n");
    let design = compile(ingest_str(&yaml).unwrap()).unwrap();
    assert_eq!(
        design.node("n1").unwrap().platform.kernel_command_line(),
        "isolcpus=2,4 x=hardwareprofile:cpuset.nope"
    );
    assert_eq!(design.warnings.len(), 1);
    assert_eq!(design.warnings[0].kind, DiagnosticKind::UnresolvedParameter);
    assert_eq!(
        design.warnings[0].field.as_deref(),
        Some("data.platform.kernel_params.x")
    );
}

/// Nodes of one host profile and hardware profile share what they inherit unchanged; a node that
/// changes a part gets its own, and problems in a shared part are reported for every node.
#[test]
fn nodes_share_unchanged_inherited_parts() {
    let named = |name: &str, profile: &str, extra: &str| {
        node(profile, extra).replace("name: n1", &format!("name: {name}"))
    };
    let hw = |name: &str, set: &str| {
        format!(
            "---\nschema: drydock/HardwareProfile/v1\nmetadata: {{name: {name}}}\ndata: {{cpu_sets: {{sriov: '{set}'}}, device_aliases: {{nic1: {{bus_type: pci, address: '0000:00:03.0'}}}}}}\n"
        )
    };
    let p = profile(
        "p",
        None,
        "  hardware_profile: hw1\n  oob: {type: ipmi, network: mgmt, account: a, credential: c}\n  interfaces:\n    pxe: {device_link: gp, slaves: [nic1], networks: [mgmt]}\n    bond0: {device_link: gp, networks: [mgmt]}\n  storage:\n    physical_devices:\n      sda: {partitions: [{name: root, size: 10g, filesystem: {mountpoint: '/'}}]}\n  platform: {image: xenial, kernel_params: {isolcpus: 'hardwareprofile:cpuset.sriov', bad: 'hardwareprofile:cpuset.nope'}}\n",
    );
    let yaml = format!(
        "{BASE}{}{}{p}{}{}{}{}",
        hw("hw1", "2,4"),
        hw("hw2", "6"),
        named("n1", "p", ""),
        named(
            "n2",
            "p",
            "  interfaces:\n    bond0: {networks: [storage]}\n"
        ),
        named(
            "n3",
            "p",
            "  platform: {kernel_params: {quiet: true}}\n  storage:\n    physical_devices:\n      sdb: {}\n"
        ),
        named("n4", "p", "  hardware_profile: hw2\n"),
    );
    let design = compile(ingest_str(&yaml).unwrap()).unwrap();
    let n = |name: &str| design.node(name).unwrap();
    let (n1, n2, n3, n4) = (n("n1"), n("n2"), n("n3"), n("n4"));
    use std::sync::Arc;
    // n2 changes only bond0: the rest is n1's, by pointer.
    assert!(Arc::ptr_eq(&n1.platform, &n2.platform));
    assert!(Arc::ptr_eq(&n1.oob, &n2.oob));
    assert!(Arc::ptr_eq(&n1.storage_devices, &n2.storage_devices));
    assert!(Arc::ptr_eq(&n1.volume_groups, &n2.volume_groups));
    assert!(Arc::ptr_eq(&n1.interfaces[0], &n2.interfaces[0]));
    assert!(!Arc::ptr_eq(&n1.interfaces[1], &n2.interfaces[1]));
    assert_eq!(n2.interfaces[1].networks, s(&["storage", "mgmt"]));
    assert_eq!(n1.interfaces[1].networks, s(&["mgmt"]));
    // n3 has its own platform and storage, merged with the profile's.
    assert!(!Arc::ptr_eq(&n1.platform, &n3.platform));
    assert_eq!(
        n3.platform.kernel_command_line(),
        "isolcpus=2,4 bad=hardwareprofile:cpuset.nope quiet"
    );
    let devices: Vec<&str> = n3.storage_devices.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(devices, ["sda", "sdb"]);
    assert_eq!(n1.storage_devices.len(), 1);
    assert!(Arc::ptr_eq(&n1.interfaces[0], &n3.interfaces[0]));
    // n4's hardware profile differs: cpusets and PCI aliases resolve through hw2, not shared.
    assert!(!Arc::ptr_eq(&n1.platform, &n4.platform));
    assert_eq!(
        n4.platform.kernel_command_line(),
        "isolcpus=6 bad=hardwareprofile:cpuset.nope"
    );
    assert!(!Arc::ptr_eq(&n1.interfaces[0], &n4.interfaces[0]));
    assert_eq!(n1.interfaces[0], n4.interfaces[0]);
    assert_eq!(n1.storage_devices, n4.storage_devices);
    // The unresolved reference is reported once for each node, located at that node.
    let warned: Vec<&str> = design
        .warnings
        .iter()
        .filter(|w| w.kind == DiagnosticKind::UnresolvedParameter)
        .map(|w| w.document.as_ref().unwrap().name.as_str())
        .collect();
    assert_eq!(warned, ["n1", "n2", "n3", "n4"]);
}

fn item() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("a"),
        Just("b"),
        Just("c"),
        Just("d"),
        Just("!a"),
        Just("!b"),
        Just("!c")
    ]
    .prop_map(String::from)
}

proptest! {
    /// The child's items come first in its order, then the parent's survivors in the parent's
    /// order; `!x` removes x; nothing else appears.
    #[test]
    fn merge_lists_keeps_order_and_removes(child in prop::collection::vec(item(), 0..6), parent in prop::collection::vec(item().prop_filter("plain", |s| !s.starts_with('!')), 0..6)) {
        let merged = merge_lists(&child, &parent);
        let own: Vec<&String> = child.iter().filter(|c| !c.starts_with('!')).collect();
        prop_assert_eq!(merged[..own.len()].iter().collect::<Vec<_>>(), own.clone());
        let rest = &merged[own.len()..];
        let expected_rest: Vec<&String> = parent.iter().filter(|p| !child.contains(&format!("!{p}")) && !own.contains(p)).collect();
        prop_assert_eq!(rest.iter().collect::<Vec<_>>(), expected_rest);
        prop_assert!(merged.iter().all(|m| !m.starts_with('!')));
    }

    /// Removing an interface in a middle profile and re-adding it in the node yields the node's
    /// definition; interfaces keep the top profile's order, new ones come after.
    #[test]
    fn interfaces_removed_then_readded(n in 1usize..6, removed in 0usize..6, extra in 0usize..3) {
        let removed = removed % n;
        let names: Vec<String> = (0..n).map(|i| format!("if{i}")).collect();
        let top_ifaces: String = names.iter().map(|nm| format!("    {nm}: {{device_link: gp, networks: [mgmt]}}\n")).collect();
        let top = profile("top", None, &format!("  interfaces:\n{top_ifaces}"));
        let mid = profile("mid", Some("top"), &format!("  interfaces:\n    '!{}': {{}}\n", names[removed]));
        let mut node_ifaces = format!("    {}: {{device_link: gp, networks: [mgmt], slaves: [eth9]}}\n", names[removed]);
        for e in 0..extra {
            node_ifaces.push_str(&format!("    new{e}: {{device_link: gp}}\n"));
        }
        let yaml = format!("{BASE}{top}{mid}{}", node("mid", &format!("  interfaces:\n{node_ifaces}")));
        let design = compile(ingest_str(&yaml).unwrap()).unwrap();
        let got: Vec<&str> = design.node("n1").unwrap().interfaces.iter().map(|i| i.name.as_str()).collect();
        let mut want: Vec<String> = names.iter().filter(|nm| **nm != names[removed]).cloned().collect();
        want.push(names[removed].clone());
        want.extend((0..extra).map(|e| format!("new{e}")));
        prop_assert_eq!(got, want.iter().map(String::as_str).collect::<Vec<_>>());
        let readded = design.node("n1").unwrap().interfaces.iter().find(|i| i.name == names[removed]).unwrap();
        prop_assert_eq!(&readded.slaves, &vec!["eth9".to_string()]);
    }
}
