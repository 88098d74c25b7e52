//! The driver against sushy-tools' Redfish emulator (fake systems, HTTP basic auth), started
//! on a free loopback port by each test.

mod common;

use common::{NODE1, NODE2, Options, PASSWORD, Sushy, config, free_port, target};
use drydock_core::driver::{
    BootDevice, BootPersistence, DriverErrorKind, OobDriver, PowerAction, PowerState,
};
use drydock_driver_redfish::RedfishDriver;

#[tokio::test]
async fn conformance_suite_passes_against_the_emulator() {
    let Some(sushy) = Sushy::start("redfish conformance", Options::default()) else {
        return;
    };
    let driver = RedfishDriver::new(config());
    let t = target(sushy.port, PASSWORD, &[]);
    drydock_core::testing::drivers::oob_conformance(&driver, &t).await;
    // No session service in the emulator: basic authentication throughout.
    assert_eq!(driver.session_stats().created, 0);
}

#[tokio::test]
async fn power_on_off_cycle_shows_in_the_emulator() {
    let Some(sushy) = Sushy::start("redfish power", Options::default()) else {
        return;
    };
    let driver = RedfishDriver::new(config());
    let t = target(sushy.port, PASSWORD, &[]);
    let seen = || sushy.system(NODE1.uuid)["PowerState"].clone();
    assert_eq!(seen(), "Off");
    driver.set_power(&t, PowerAction::On).await.unwrap();
    assert_eq!(seen(), "On");
    driver.set_power(&t, PowerAction::Off).await.unwrap();
    assert_eq!(seen(), "Off");
    assert_eq!(driver.power_state(&t).await.unwrap(), PowerState::Off);
    // Cycle of a node that is off powers it on; of a node that is on, restarts it (the
    // emulator offers ForceRestart, not PowerCycle).
    driver.set_power(&t, PowerAction::Cycle).await.unwrap();
    assert_eq!(seen(), "On");
    driver.set_power(&t, PowerAction::Cycle).await.unwrap();
    assert_eq!(seen(), "On");
    assert!(
        sushy.log().contains("ComputerSystem.Reset"),
        "the emulator saw no reset"
    );
}

#[tokio::test]
async fn boot_override_is_read_back_from_the_emulator() {
    let Some(sushy) = Sushy::start("redfish boot", Options::default()) else {
        return;
    };
    let driver = RedfishDriver::new(config());
    let t = target(sushy.port, PASSWORD, &[("boot_mode", "bios")]);
    driver
        .set_boot_device(&t, BootDevice::Pxe, BootPersistence::OneTime)
        .await
        .unwrap();
    let boot = sushy.system(NODE1.uuid)["Boot"].clone();
    assert_eq!(boot["BootSourceOverrideTarget"], "Pxe");
    assert_eq!(boot["BootSourceOverrideMode"], "Legacy");
    driver
        .set_boot_device(&t, BootDevice::Disk, BootPersistence::Persistent)
        .await
        .unwrap();
    assert_eq!(
        sushy.system(NODE1.uuid)["Boot"]["BootSourceOverrideTarget"],
        "Hdd"
    );
    // The emulator does not list BiosSetup among its targets.
    let e = driver
        .set_boot_device(&t, BootDevice::Bios, BootPersistence::OneTime)
        .await
        .unwrap_err();
    assert_eq!(e.kind, DriverErrorKind::Unsupported, "{e}");
    assert!(e.message.contains("BiosSetup"), "{e}");
    // UEFI HTTP boot where the node asks for it and the service offers it: the emulator
    // offers UefiHttp in UEFI mode only (it is in Legacy mode now), so network boot stays Pxe.
    let http = target(
        sushy.port,
        PASSWORD,
        &[("network_boot", "uefi_http"), ("boot_mode", "uefi")],
    );
    driver.configure_pxe(&http).await.unwrap();
    let boot = sushy.system(NODE1.uuid)["Boot"].clone();
    assert_eq!(boot["BootSourceOverrideTarget"], "Pxe");
    assert_eq!(boot["BootSourceOverrideMode"], "UEFI");
}

#[tokio::test]
async fn wrong_password_is_unauthorized_and_not_shown() {
    let Some(sushy) = Sushy::start("redfish wrong password", Options::default()) else {
        return;
    };
    let driver = RedfishDriver::new(config());
    let t = target(sushy.port, "not-the-Password", &[]);
    let e = driver.power_state(&t).await.unwrap_err();
    assert_eq!(e.kind, DriverErrorKind::Unauthorized, "{e}");
    assert!(!e.is_retryable());
    let shown = format!("{e} {e:?} {driver:?}");
    assert!(!shown.contains("not-the-Password"), "{shown}");
    // The right password still works with the same driver (another client).
    let ok = target(sushy.port, PASSWORD, &[]);
    assert_eq!(driver.power_state(&ok).await.unwrap(), PowerState::Off);
}

#[tokio::test]
async fn service_down_is_unreachable() {
    let Some(mut sushy) = Sushy::start("redfish service down", Options::default()) else {
        return;
    };
    let driver = RedfishDriver::new(config());
    let t = target(sushy.port, PASSWORD, &[]);
    assert_eq!(driver.power_state(&t).await.unwrap(), PowerState::Off);
    sushy.stop();
    let e = driver.power_state(&t).await.unwrap_err();
    assert_eq!(e.kind, DriverErrorKind::Unreachable, "{e}");
    assert!(e.is_retryable());
    // A port nobody listens on, from the first request.
    let e = driver
        .set_power(&target(free_port(), PASSWORD, &[]), PowerAction::On)
        .await
        .unwrap_err();
    assert_eq!(e.kind, DriverErrorKind::Unreachable, "{e}");
}

#[tokio::test]
async fn the_system_is_chosen_by_the_oob_parameters() {
    let options = Options {
        systems: vec![NODE1, NODE2],
        ..Options::default()
    };
    let Some(sushy) = Sushy::start("redfish system choice", options) else {
        return;
    };
    let driver = RedfishDriver::new(config());
    let e = driver
        .power_state(&target(sushy.port, PASSWORD, &[]))
        .await
        .unwrap_err();
    assert_eq!(e.kind, DriverErrorKind::Permanent, "{e}");
    assert!(e.message.contains("`system`"), "{e}");
    let two = target(sushy.port, PASSWORD, &[("system", NODE2.uuid)]);
    driver.set_power(&two, PowerAction::On).await.unwrap();
    assert_eq!(sushy.system(NODE2.uuid)["PowerState"], "On");
    assert_eq!(sushy.system(NODE1.uuid)["PowerState"], "Off");
    let facts = driver.interrogate(&two).await.unwrap();
    assert_eq!(facts.power, Some(PowerState::On));
    assert_eq!(facts.facts["system_id"], NODE2.uuid);
    assert_eq!(facts.facts["manufacturer"], "Sushy Emulator");
    assert_eq!(facts.facts["ethernet_macs"], NODE2.mac);
    assert!(
        facts.facts.contains_key("manager_firmware_version"),
        "{facts:?}"
    );
    let e = driver
        .power_state(&target(sushy.port, PASSWORD, &[("system", "nope")]))
        .await
        .unwrap_err();
    assert_eq!(e.kind, DriverErrorKind::NotFound, "{e}");
}
