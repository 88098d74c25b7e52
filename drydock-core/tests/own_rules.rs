//! Every validation rule, on the project's own design: `tests/designs/three-racks.yaml` is
//! clean for the rule, and one targeted edit of its text makes the rule report the document
//! the edit broke. (The reference's own samples are checked in `validation_rules.rs` and
//! `validation_conformance.rs` when the outside corpus is there.)

use drydock_core::design::{CompiledDesign, compile, ingest_str};
use drydock_core::validation::{PlatformCatalog, RuleId, ValidationContext, validate};

const SITE: &str = include_str!("designs/three-racks.yaml");

/// The site with `from` (which must occur exactly once) replaced by `to`.
fn edited(from: &str, to: &str) -> String {
    assert_eq!(
        SITE.matches(from).count(),
        1,
        "`{from}` once in three-racks.yaml"
    );
    SITE.replacen(from, to, 1)
}

fn compiled(text: &str) -> CompiledDesign {
    compile(ingest_str(text).unwrap_or_else(|e| panic!("{e}"))).unwrap_or_else(|e| panic!("{e}"))
}

/// (rule, text to replace, replacement, document the rule must name, an error rather than a
/// warning).
const CASES: &[(RuleId, &str, &str, &str, bool)] = &[
    (
        RuleId::BootStorage,
        "size: 40g",
        "size: 8g",
        "compute01",
        true,
    ),
    (
        RuleId::CidrValidity,
        "cidr: 172.30.3.0/24",
        "cidr: 172.30.3.9/24",
        "private",
        true,
    ),
    (
        RuleId::Hugepages,
        "      hugepagesz: hardwareprofile:hugepages.vm.size\n",
        "",
        "compute01",
        true,
    ),
    (
        RuleId::IpLocality,
        "gateway: 172.30.2.1",
        "gateway: 172.30.9.1",
        "mgmt",
        true,
    ),
    (
        RuleId::Mtu,
        "  vlan: '212'\n  mtu: 9000",
        "  vlan: '212'\n  mtu: 9100",
        "storage",
        true,
    ),
    (
        RuleId::NetworkTrunking,
        "    default_network: pxe",
        "    default_network: mgmt",
        "pxe",
        true,
    ),
    (
        RuleId::DuplicateIps,
        "address: 172.30.2.22",
        "address: 172.30.2.21",
        "compute02",
        true,
    ),
    (
        RuleId::NetworkBond,
        "up_delay: 300",
        "up_delay: 50",
        "fabric",
        true,
    ),
    (
        RuleId::StorageMountpoints,
        "mountpoint: /boot",
        "mountpoint: /",
        "compute01",
        true,
    ),
    (
        RuleId::AllowedNetworks,
        "      networks:\n        - storage\n",
        "      networks:\n        - storage\n        - oob\n",
        "compute01",
        true,
    ),
    (
        RuleId::HostnameValidity,
        "name: compute02",
        "name: compute_02",
        "compute_02",
        true,
    ),
    (
        RuleId::IpmiValidity,
        "    account: operator\n",
        "",
        "compute01",
        true,
    ),
    (
        RuleId::BootactionPackageList,
        "htop: null",
        "htop: ':bad'",
        "hw_filtered2",
        true,
    ),
    (
        RuleId::BootactionCoverage,
        "  name: helloworld\ndata:\n",
        "  name: helloworld\ndata:\n  node_filter:\n    filter_set_type: union\n    filter_set:\n      - filter_type: union\n        rack_names:\n          - rack2\n",
        "controller01",
        false,
    ),
    (
        RuleId::StaticAddressRanges,
        "address: 172.30.1.21",
        "address: 172.30.1.150",
        "compute01",
        true,
    ),
    (
        RuleId::StorageSizing,
        "size: 80%",
        "size: 180%",
        "compute01",
        true,
    ),
];

#[test]
fn each_rule_reports_the_document_one_edit_broke() {
    let clean = validate(&compiled(SITE), &ValidationContext::default());
    let mut failures = Vec::new();
    for &(rule, from, to, document, error) in CASES {
        assert!(
            clean.problems_of(rule).next().is_none(),
            "{rule} reports on the unedited site:\n{clean}"
        );
        let report = validate(&compiled(&edited(from, to)), &ValidationContext::default());
        let hits: Vec<_> = report
            .problems_of(rule)
            .filter(|f| f.involves(document))
            .collect();
        if hits.is_empty() || hits.iter().any(|f| f.is_error() != error) {
            failures.push(format!(
                "{rule}: `{from}` -> `{to}`: expected {} on '{document}'; reported:\n{report}",
                if error { "an error" } else { "a warning" }
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn platform_selection_checks_the_node_driver_catalog() {
    let design = compiled(SITE);
    let offered = |kernels: &[&str]| {
        ValidationContext::with_platform(PlatformCatalog {
            images: [(
                "jammy".to_owned(),
                kernels.iter().map(|k| k.to_string()).collect(),
            )]
            .into(),
        })
    };
    let ok = validate(&design, &offered(&["ga-22.04", "hwe-22.04"]));
    assert!(
        ok.problems_of(RuleId::PlatformSelection).next().is_none(),
        "{ok}"
    );
    let missing = validate(&design, &offered(&["hwe-22.04"]));
    missing.assert_fires(RuleId::PlatformSelection, "compute01");
    assert!(!missing.is_valid());
}
