//! The conformance suites every driver runs: [`oob_conformance`] for [`OobDriver`]s and
//! [`node_conformance`] for [`NodeDriver`]s. They use nothing but the trait, so a driver passes
//! them against its real peer (ipmi_sim, a fake MAAS) as well as against the simulator.

use crate::design::{CompiledDesign, OobType};
use crate::driver::{
    BootPersistence, DriverErrorKind, Identification, NodeDriver, NodeJob, OobDriver, OobTarget,
    PowerAction, PowerState, SiteJob,
};

/// Checks an OOB driver against one reachable node (`target`), which it will power on and off.
///
/// * its capabilities list the target's OOB type, and `validate_services` passes;
/// * power on, off and cycle take effect, as read back with `power_state`, and repeating a power
///   change is harmless;
/// * every boot device it declares can be set (one-time, and persistent if declared);
/// * `configure_pxe` and `interrogate` work, and interrogation reports the power state;
/// * a target of an OOB type it does not declare is refused as `Unsupported`.
pub async fn oob_conformance(driver: &dyn OobDriver, target: &OobTarget) {
    let caps = driver.capabilities();
    let name = driver.name();
    assert!(
        caps.oob_types.contains(&target.kind),
        "{name}: capabilities must list the target's OOB type {}",
        target.kind
    );
    driver
        .validate_services()
        .await
        .unwrap_or_else(|e| panic!("{name}: validate_services: {e}"));
    for (action, expected) in [
        (PowerAction::On, PowerState::On),
        (PowerAction::On, PowerState::On),
        (PowerAction::Off, PowerState::Off),
        (PowerAction::Off, PowerState::Off),
        (PowerAction::Cycle, PowerState::On),
    ] {
        driver
            .set_power(target, action)
            .await
            .unwrap_or_else(|e| panic!("{name}: set_power({action:?}): {e}"));
        let state = driver
            .power_state(target)
            .await
            .unwrap_or_else(|e| panic!("{name}: power_state: {e}"));
        assert_eq!(state, expected, "{name}: power state after {action:?}");
    }
    for device in &caps.boot_devices {
        driver
            .set_boot_device(target, *device, BootPersistence::OneTime)
            .await
            .unwrap_or_else(|e| panic!("{name}: set_boot_device({device:?}, one-time): {e}"));
        if caps.persistent_boot {
            driver
                .set_boot_device(target, *device, BootPersistence::Persistent)
                .await
                .unwrap_or_else(|e| panic!("{name}: set_boot_device({device:?}, persistent): {e}"));
        }
    }
    driver
        .configure_pxe(target)
        .await
        .unwrap_or_else(|e| panic!("{name}: configure_pxe: {e}"));
    let facts = driver
        .interrogate(target)
        .await
        .unwrap_or_else(|e| panic!("{name}: interrogate: {e}"));
    assert_eq!(
        facts.power,
        Some(PowerState::On),
        "{name}: interrogation reports the power state"
    );
    let foreign = [
        OobType::Ipmi,
        OobType::Redfish,
        OobType::Libvirt,
        OobType::Manual,
    ]
    .into_iter()
    .find(|t| !caps.oob_types.contains(t));
    if let Some(kind) = foreign {
        let other = OobTarget {
            kind,
            ..target.clone()
        };
        let err = driver
            .set_power(&other, PowerAction::On)
            .await
            .expect_err("a foreign OOB type must be refused");
        assert_eq!(
            err.kind,
            DriverErrorKind::Unsupported,
            "{name}: foreign OOB type: {err}"
        );
    }
    assert!(
        !format!("{driver:?}").contains(target.credential.as_ref().map_or("\u{0}", |c| c.expose())),
        "{name}: Debug shows a credential"
    );
}

/// Checks a node driver on the design `design` and its node `node`, which the provisioner must
/// know already (enlisted), in any state from new to deployed. The node ends destroyed.
///
/// * site operations work and can be repeated;
/// * the node is identified; commissioning, configuration and deployment work and can each be
///   repeated on a node already in the target state;
/// * after `destroy` the provisioner no longer knows the node.
pub async fn node_conformance(driver: &dyn NodeDriver, design: &CompiledDesign, node: &str) {
    let name = driver.name();
    let compiled = design
        .node(node)
        .unwrap_or_else(|| panic!("the design has no node {node}"));
    let job = NodeJob::new(compiled, design);
    let site = SiteJob { design };
    driver
        .validate_services()
        .await
        .unwrap_or_else(|e| panic!("{name}: validate_services: {e}"));
    let catalog = driver
        .available_platforms()
        .await
        .unwrap_or_else(|e| panic!("{name}: available_platforms: {e}"));
    assert!(
        !catalog.images.is_empty(),
        "{name}: the provisioner offers no image"
    );
    for round in 1..=2 {
        driver
            .create_network_template(site)
            .await
            .unwrap_or_else(|e| panic!("{name}: create_network_template (run {round}): {e}"));
        driver
            .configure_user_credentials(site)
            .await
            .unwrap_or_else(|e| panic!("{name}: configure_user_credentials (run {round}): {e}"));
        driver
            .configure_provisioner(site)
            .await
            .unwrap_or_else(|e| panic!("{name}: configure_provisioner (run {round}): {e}"));
    }
    let id = driver
        .identify_node(job)
        .await
        .unwrap_or_else(|e| panic!("{name}: identify_node: {e}"));
    assert!(
        matches!(id, Identification::Known { .. }),
        "{name}: an enlisted node must be identified, got {id:?}"
    );
    for round in 1..=2 {
        driver
            .configure_hardware(job)
            .await
            .unwrap_or_else(|e| panic!("{name}: configure_hardware (run {round}): {e}"));
    }
    driver
        .interrogate_node(job)
        .await
        .unwrap_or_else(|e| panic!("{name}: interrogate_node: {e}"));
    for round in 1..=2 {
        driver
            .apply_networking(job)
            .await
            .unwrap_or_else(|e| panic!("{name}: apply_networking (run {round}): {e}"));
        driver
            .apply_storage(job)
            .await
            .unwrap_or_else(|e| panic!("{name}: apply_storage (run {round}): {e}"));
        driver
            .apply_platform(job)
            .await
            .unwrap_or_else(|e| panic!("{name}: apply_platform (run {round}): {e}"));
    }
    for round in 1..=2 {
        driver
            .deploy(job)
            .await
            .unwrap_or_else(|e| panic!("{name}: deploy (run {round}): {e}"));
    }
    driver
        .destroy(job)
        .await
        .unwrap_or_else(|e| panic!("{name}: destroy: {e}"));
    let gone = driver
        .identify_node(job)
        .await
        .unwrap_or_else(|e| panic!("{name}: identify_node after destroy: {e}"));
    assert_eq!(
        gone,
        Identification::Unknown,
        "{name}: a destroyed node is no longer known"
    );
}
