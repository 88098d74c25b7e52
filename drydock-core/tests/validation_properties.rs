//! Property tests: random valid sites are valid, and a single injected fault is reported by the
//! rule responsible for it and by no other rule.

use drydock_core::design::{compile, ingest_str};
use drydock_core::validation::{RuleId, ValidationContext, ValidationReport, validate};
use proptest::prelude::*;

#[derive(Clone, Debug)]
struct Site {
    /// (link MTU, network MTU) per network.
    nets: Vec<(u32, u32)>,
    nodes: usize,
    /// Percentage of the data partition on sdb.
    data_pct: u32,
}

#[derive(Clone, Copy, Debug)]
enum Fault {
    None,
    AddressOutsideCidr,
    DuplicateAddress,
    MtuAboveLink,
    MissingNetwork,
    OversizedPercentage,
}

fn site() -> impl Strategy<Value = Site> {
    (
        prop::collection::vec(
            (1280u32..=9000).prop_flat_map(|l| (Just(l), 1280u32..=l)),
            1..4,
        ),
        2usize..6,
        1u32..=99,
    )
        .prop_map(|(nets, nodes, data_pct)| Site {
            nets,
            nodes,
            data_pct,
        })
}

fn render(s: &Site, fault: Fault) -> String {
    let mut y = String::from(
        "schema: drydock/Region/v1\nmetadata: {name: site}\ndata: {tag_definitions: [], authorized_keys: []}\n",
    );
    for (i, (link_mtu, net_mtu)) in s.nets.iter().enumerate() {
        let net_mtu = if matches!(fault, Fault::MtuAboveLink) && i == 0 {
            link_mtu + 1
        } else {
            *net_mtu
        };
        y += &format!(
            "---\nschema: drydock/NetworkLink/v1\nmetadata: {{name: link{i}}}\ndata:\n  mtu: {link_mtu}\n  trunking: {{mode: disabled, default_network: net{i}}}\n  allowed_networks: [net{i}]\n"
        );
        y += &format!(
            "---\nschema: drydock/Network/v1\nmetadata: {{name: net{i}}}\ndata:\n  cidr: 10.{i}.0.0/24\n  mtu: {net_mtu}\n  ranges:\n    - {{type: static, start: 10.{i}.0.10, end: 10.{i}.0.200}}\n    - {{type: dhcp, start: 10.{i}.0.201, end: 10.{i}.0.250}}\n  routes:\n    - {{subnet: 0.0.0.0/0, gateway: 10.{i}.0.1, metric: 10}}\n  dns: {{domain: net{i}.example.com}}\n"
        );
    }
    for n in 0..s.nodes {
        y += &format!(
            "---\nschema: drydock/BaremetalNode/v1\nmetadata: {{name: node{n}}}\ndata:\n  interfaces:\n"
        );
        for i in 0..s.nets.len() {
            y += &format!(
                "    nic{i}: {{device_link: link{i}, slaves: [eth{i}], networks: [net{i}]}}\n"
            );
        }
        let sizing = if matches!(fault, Fault::OversizedPercentage) && n == 0 {
            100 + s.data_pct
        } else {
            s.data_pct
        };
        y += &format!(
            "  storage:\n    physical_devices:\n      sda:\n        partitions:\n          - {{name: root, size: 30g, filesystem: {{mountpoint: '/', fstype: ext4}}}}\n          - {{name: boot, size: 1g, filesystem: {{mountpoint: /boot, fstype: ext4}}}}\n      sdb:\n        partitions:\n          - {{name: data, size: '{sizing}%', filesystem: {{mountpoint: /data, fstype: xfs}}}}\n"
        );
        y += "  platform: {image: xenial, kernel: ga-16.04}\n  addressing:\n";
        for i in 0..s.nets.len() {
            let host = match fault {
                Fault::DuplicateAddress if n == 1 && i == 0 => 10, // node0's address
                _ => 10 + n,
            };
            let addr = match fault {
                Fault::AddressOutsideCidr if n == 0 && i == 0 => "192.168.77.7".to_owned(),
                _ => format!("10.{i}.0.{host}"),
            };
            y += &format!("    - {{network: net{i}, address: {addr}}}\n");
        }
        if matches!(fault, Fault::MissingNetwork) && n == 0 {
            y += "    - {network: nowhere, address: 10.99.0.10}\n";
        }
    }
    y += "---\nschema: drydock/BootAction/v1\nmetadata: {name: all}\ndata:\n  assets:\n    - {type: file, path: /etc/motd, data: hello}\n";
    y
}

fn check(s: &Site, fault: Fault) -> ValidationReport {
    let text = render(s, fault);
    let site = ingest_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let design = compile(site).unwrap_or_else(|e| panic!("{e}"));
    let report = validate(&design, &ValidationContext::default());
    // The rules run together report what each rule run alone reports.
    let alone =
        drydock_core::validation::Validator::with_rules(drydock_core::validation::rules::all())
            .validate(&design, &ValidationContext::default());
    assert_eq!(report, alone);
    report
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn random_valid_sites_are_valid(s in site()) {
        let report = check(&s, Fault::None);
        prop_assert!(report.is_valid(), "{}", report);
        // Only the "no node driver" warning remains.
        prop_assert_eq!(report.rules_with_problems(), vec![RuleId::PlatformSelection], "{}", report);
    }

    #[test]
    fn a_single_fault_is_reported_by_its_rule_only(s in site(), which in 0usize..5) {
        let (fault, rule) = [
            (Fault::AddressOutsideCidr, RuleId::IpLocality),
            (Fault::DuplicateAddress, RuleId::DuplicateIps),
            (Fault::MtuAboveLink, RuleId::Mtu),
            (Fault::MissingNetwork, RuleId::IpLocality),
            (Fault::OversizedPercentage, RuleId::StorageSizing),
        ][which];
        let report = check(&s, fault);
        prop_assert!(!report.is_valid(), "{:?}: {}", fault, report);
        prop_assert!(report.errors().all(|f| f.rule == rule), "{:?}: {}", fault, report);
        let mut expected = vec![rule, RuleId::PlatformSelection];
        expected.sort();
        prop_assert_eq!(report.rules_with_problems(), expected, "{:?}: {}", fault, report);
    }
}
