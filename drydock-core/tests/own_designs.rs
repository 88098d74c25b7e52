//! The project's own test designs (`tests/designs/`) say what their README says: the valid
//! site is valid, and each broken one is caught by its rule on its document.

use drydock_core::validation::RuleId;
use drydock_core::validation::testing::{assert_rule_fires, assert_site_valid};

fn design(name: &str) -> String {
    format!("{}/tests/designs/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn three_racks_is_valid_and_only_lacks_a_platform_catalog() {
    let report = assert_site_valid(design("three-racks.yaml"));
    assert_eq!(
        report.rules_with_problems(),
        [RuleId::PlatformSelection],
        "{report}"
    );
}

#[test]
fn each_broken_design_is_caught_by_its_rule() {
    let cidr = assert_rule_fires(
        design("broken/cidr-host-bits.yaml"),
        RuleId::CidrValidity,
        "oob",
    );
    assert!(cidr.iter().all(|f| f.is_error()), "{cidr:?}");
    let mtu = assert_rule_fires(design("broken/mtu-over-link.yaml"), RuleId::Mtu, "storage");
    assert!(mtu.iter().any(|f| f.is_error()), "{mtu:?}");
}
