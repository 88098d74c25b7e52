//! Real Airship sites (airshipit/treasuremap v1 sites rendered by Deckhand's own engine, from
//! the outside corpus) load as the Python Drydock loads them: read, compiled and validated with
//! every rule run and no error (the reference's verdict is Success for each).

use drydock_core::design::{DiagnosticKind, Severity, load};
use drydock_core::validation::{ValidationContext, validate};

#[test]
fn rendered_treasuremap_sites_load_and_validate() {
    let test = "rendered_treasuremap_sites_load_and_validate";
    let Some(dir) = drydock_core::testing::corpus(test, "deckhand") else {
        return;
    };
    for (site, nodes, regions) in [
        ("v1.8__stl1", 6, 2),
        ("v1.9__airsloop", 1, 1),
        ("v1.9__seaworthy", 5, 1),
    ] {
        let path = dir.join(site).join("rendered.yaml");
        let design = load(&[&path]).unwrap_or_else(|e| panic!("{site} is rejected:\n{e}"));
        assert_eq!(design.nodes.len(), nodes, "{site}");
        let report = validate(&design, &ValidationContext::default());
        assert_eq!(report.error_count(), 0, "{site}:\n{report}");
        let warnings: Vec<_> = design
            .warnings
            .iter()
            .filter(|w| w.severity != Severity::Info)
            .collect();
        let several = usize::from(regions > 1);
        assert_eq!(warnings.len(), several, "{site}: {warnings:?}");
        if several == 1 {
            assert_eq!(warnings[0].kind, DiagnosticKind::SeveralRegions);
            // The site's own Region, read after the global profile, is used.
            assert_eq!(design.site.region.as_ref().unwrap().name, "stl1");
            // The DPDK settings of its advanced profiles reach the nodes that use them.
            let with_dpdk = design
                .nodes
                .values()
                .flat_map(|n| n.interfaces.iter())
                .filter(|i| i.extra.contains_key("ovs_dpdk"))
                .count();
            assert!(with_dpdk > 0, "{site}: no ovs_dpdk settings kept");
        }
    }
}
