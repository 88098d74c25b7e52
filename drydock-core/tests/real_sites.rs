//! Site designs written for drydock in the shape of real Airship site bundles (layers mixed in
//! one stream, a profile Region beside the site's, documents of other tools, SR-IOV functions and
//! the open-schema extras real sites carry) are read, compiled and validated with no error; and a
//! single fault injected into one is reported by the rule responsible, at its field.

use std::path::{Path, PathBuf};

use drydock_core::design::{
    CompiledDesign, DiagnosticKind, Diagnostics, Severity, Source, compile, ingest_sources, load,
};
use drydock_core::validation::{RuleId, ValidationContext, ValidationReport, validate};
use serde_json::json;

fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/sites")
        .join(rel)
}

fn report_of(d: &CompiledDesign) -> ValidationReport {
    validate(d, &ValidationContext::default())
}

#[test]
fn the_cruiser_site_loads_compiles_and_validates() {
    let d = load(&[data("dpdk-cruiser/rendered.yaml")]).unwrap_or_else(|e| panic!("{e}"));
    let report = report_of(&d);
    assert_eq!(report.error_count(), 0, "{report}");
    assert_eq!(d.nodes.len(), 4);
    // Documents of other tools are skipped and counted.
    assert_eq!(d.site.skipped_documents, 3);
    // The profile Region and the site's: a warning, the site's (the last read) is used.
    assert_eq!(d.site.region.as_ref().unwrap().name, "cruiser-lab1");
    let several: Vec<_> = d
        .warnings
        .iter()
        .filter(|w| w.kind == DiagnosticKind::SeveralRegions)
        .collect();
    assert_eq!(several.len(), 1, "{:?}", d.warnings);
    // Nothing but the Region warning and infos about the extras.
    assert!(
        d.warnings
            .iter()
            .all(|w| w.severity == Severity::Info || w.kind == DiagnosticKind::SeveralRegions),
        "{:?}",
        d.warnings
    );
    // The extras reach the compiled node.
    let cmp = d.node("lab1-cmp01").unwrap();
    let p2p1 = cmp.interfaces.iter().find(|i| i.name == "p2p1").unwrap();
    assert!(p2p1.device_link.is_none() && p2p1.networks.is_empty());
    assert_eq!(p2p1.extra["ovs_dpdk"]["bridge"], json!("br-phy1"));
    assert_eq!(
        p2p1.extra["pci_whitelist"],
        json!([{"address": "0000:5e:00.2"}, {"address": "0000:5e:00.3"}])
    );
    let sriov = p2p1.sriov.as_ref().unwrap();
    assert_eq!(sriov.extra["num_vfs"], json!(32));
    assert_eq!(sriov.extra["promisc"], json!(false));
    assert_eq!(sriov.extra["device"]["address"], json!("0000:5e:00.0"));
    let hw = &d.site.hardware_profiles[cmp.hardware_profile.as_deref().unwrap()];
    assert_eq!(hw.hugepages["dpdk"].extra["socket-mem"], json!("4096,4096"));
    assert_eq!(
        cmp.platform
            .kernel_command_line()
            .split(' ')
            .take(2)
            .collect::<Vec<_>>(),
        ["hugepagesz=1G", "hugepages=320"]
    );
    // The SR-IOV function of the control nodes is modelled, without link or networks.
    let cp = d.node("lab1-cp01").unwrap();
    let p1p1 = cp.interfaces.iter().find(|i| i.name == "p1p1").unwrap();
    assert_eq!(p1p1.sriov.as_ref().unwrap().vf_count, 32);
}

/// Reads the cruiser site with `from` replaced by `to` (which must occur once).
fn with_fault(from: &str, to: &str) -> Result<CompiledDesign, Diagnostics> {
    let path = data("dpdk-cruiser/rendered.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.matches(from).count(), 1, "'{from}' must occur once");
    let text = text.replacen(from, to, 1);
    compile(ingest_sources(&[Source::new("rendered.yaml", text)])?)
}

#[test]
fn a_single_injected_fault_is_reported_by_the_rule_responsible() {
    // (what, replaced, by, rule, document, field)
    let faults: &[(&str, &str, &str, RuleId, &str, &str)] = &[
        (
            "network MTU above its link's",
            "  vlan: '43'\n  mtu: 9000",
            "  vlan: '43'\n  mtu: 9200",
            RuleId::Mtu,
            "storage",
            "data.mtu",
        ),
        (
            "CIDR with host bits",
            "cidr: 10.23.4.0/24",
            "cidr: 10.23.4.1/24",
            RuleId::CidrValidity,
            "overlay",
            "data.cidr",
        ),
        (
            "address outside its network",
            "address: 10.23.3.21",
            "address: 10.23.9.21",
            RuleId::IpLocality,
            "lab1-cmp01",
            "data.addressing[4].address",
        ),
        (
            "duplicate address",
            "address: 10.23.2.22",
            "address: 10.23.2.21",
            RuleId::DuplicateIps,
            "lab1-cmp02",
            "data.addressing[3].address",
        ),
        (
            "root partition too small",
            "- name: root\n            size: 30g",
            "- name: root\n            size: 10g",
            RuleId::BootStorage,
            "lab1-cp01",
            "data.storage.physical_devices.bootdisk.partitions[0].size",
        ),
        (
            "network not allowed on the interface's link",
            "        - overlay\n    p2p1:",
            "        - pxe\n    p2p1:",
            RuleId::AllowedNetworks,
            "lab1-cmp01",
            "data.interfaces.bond1.networks[0]",
        ),
        (
            "bond up delay below the monitoring interval",
            "up_delay: 1000",
            "up_delay: 10",
            RuleId::NetworkBond,
            "data-link",
            "data.bonding.up_delay",
        ),
        (
            "hugepages without their size",
            "      hugepagesz: 'hardwareprofile:hugepages.dpdk.size'\n",
            "",
            RuleId::Hugepages,
            "lab1-cmp01",
            "data.platform.kernel_params.hugepages",
        ),
        (
            "static address in the DHCP range",
            "address: 10.23.0.22",
            "address: 10.23.0.150",
            RuleId::StaticAddressRanges,
            "lab1-cmp02",
            "data.addressing[1].address",
        ),
        (
            "IPMI node without credential",
            "    credential: not-a-real-password\n",
            "",
            RuleId::IpmiValidity,
            "lab1-cp01",
            "data.oob",
        ),
    ];
    for (what, from, to, rule, document, field) in faults {
        let d = with_fault(from, to).unwrap_or_else(|e| panic!("{what}: not read:\n{e}"));
        let report = report_of(&d);
        assert!(!report.is_valid(), "{what}: still valid");
        let rules = report
            .findings
            .iter()
            .filter(|f| f.is_error())
            .map(|f| f.rule)
            .collect::<std::collections::BTreeSet<_>>();
        assert_eq!(
            rules.into_iter().collect::<Vec<_>>(),
            [*rule],
            "{what}:\n{report}"
        );
        let finding = report
            .errors()
            .find(|f| f.involves(document))
            .unwrap_or_else(|| panic!("{what}: nothing on {document}:\n{report}"));
        assert_eq!(finding.field.as_deref(), Some(*field), "{what}: {finding}");
        assert!(finding.location.is_some(), "{what}");
    }
}

#[test]
fn a_typo_in_the_site_is_named() {
    let errors = with_fault("  mtu: 9100", "  mtuu: 9100").unwrap_err();
    assert_eq!(errors.error_count(), 1, "{errors}");
    let e = errors.iter().find(|e| e.is_error()).unwrap();
    assert_eq!(e.kind, DiagnosticKind::UnknownField);
    assert!(e.message.contains("did you mean 'mtu'?"), "{errors}");
    assert_eq!(e.field.as_deref(), Some("data.mtuu"));
    let d = with_fault("      pci_whitelist:", "      pci_whitelsit:").unwrap();
    assert_eq!(report_of(&d).error_count(), 0);
    assert!(
        d.warnings
            .iter()
            .all(|w| w.kind != DiagnosticKind::LikelyTypo),
        "pci_whitelist is not modelled: its misspelling is only another unmodelled key"
    );
}
