//! The client and the driver against a second BMC implementation: pyghmi's BMC server (the base
//! of VirtualBMC), started by `tests/peers/pyghmi_bmc.py` on a free port of 127.0.0.1. Its
//! chassis state lives in files the tests read and write.

mod common;

use std::net::{IpAddr, Ipv4Addr};

use common::poll;
use common::pyghmi::{PASSWORD, PyghmiBmc, USER};
use drydock_core::design::{OobParameters, OobType, Secret};
use drydock_core::driver::{DriverErrorKind, OobDriver, OobTarget};
use drydock_driver_ipmi::{
    BootDevice, BootFlags, Error, ErrorKind, IpmiClient, IpmiDriver, IpmiDriverConfig, PowerAction,
    PowerState,
};

#[tokio::test]
async fn status_on_off_and_cycle() {
    let Some(bmc) = PyghmiBmc::start("pyghmi::status_on_off_and_cycle") else {
        return;
    };
    let client = IpmiClient::connect(&bmc.config()).await.unwrap();
    // pyghmi lists and accepts only cipher suite 3; the probe's answer was read.
    assert_eq!(client.cipher_suite(), 3);
    bmc.set_state("power", "1");
    assert_eq!(client.power_state().await.unwrap(), PowerState::On);
    bmc.set_state("power", "0");
    assert_eq!(client.power_state().await.unwrap(), PowerState::Off);

    client.power(PowerAction::On).await.unwrap();
    assert_eq!(bmc.state("power").as_deref(), Some("1"), "{}", bmc.log());
    assert_eq!(client.power_state().await.unwrap(), PowerState::On);
    client.power(PowerAction::Off).await.unwrap();
    assert_eq!(bmc.state("power").as_deref(), Some("0"), "{}", bmc.log());

    // A cycle of a chassis that is off is refused (0xD5), of one that is on goes off then on.
    let err = client.power(PowerAction::Cycle).await.unwrap_err();
    assert_eq!(err.completion_code().map(u8::from), Some(0xD5), "{err}");
    bmc.set_state("power", "1");
    client.power(PowerAction::Cycle).await.unwrap();
    assert!(bmc.log().contains(" cycle"), "{}", bmc.log());
    let back_on = poll(50, || async {
        (client.power_state().await.unwrap() == PowerState::On).then_some(())
    })
    .await;
    assert!(back_on.is_some(), "never back on: {}", bmc.log());
    let id = client.device_id().await.unwrap();
    assert_eq!(id.ipmi_version, 0x02, "{id:?}");
    client.close().await.unwrap();
}

#[tokio::test]
async fn pxe_and_disk_boot_are_set_and_read_back() {
    let Some(bmc) = PyghmiBmc::start("pyghmi::pxe_and_disk_boot_are_set_and_read_back") else {
        return;
    };
    let client = IpmiClient::connect(&bmc.config()).await.unwrap();
    for (device, persistent, name) in [
        (BootDevice::Pxe, false, "network"),
        (BootDevice::Disk, true, "hd"),
        (BootDevice::Pxe, true, "network"),
    ] {
        let flags = BootFlags {
            device,
            persistent,
            efi: false,
        };
        client.set_boot_flags(flags).await.unwrap();
        assert_eq!(bmc.state("boot").as_deref(), Some(name), "{device:?}");
        // pyghmi keeps the device only (no persistent or EFI bit).
        assert_eq!(client.boot_flags().await.unwrap().device, device);
    }
    client.close().await.unwrap();
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_are_unauthorized() {
    let Some(bmc) =
        PyghmiBmc::start("pyghmi::a_wrong_password_and_an_unknown_user_are_unauthorized")
    else {
        return;
    };
    let mut wrong = bmc.config();
    wrong.password = "not-the-password".into();
    let err = IpmiClient::connect(&wrong).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized, "{err}");
    assert!(!err.to_string().contains("not-the-password"));

    // pyghmi drops RAKP 1 for a user it does not know: the client gives up after two RAKP 1
    // datagrams (not the whole retry budget) and says why.
    let mut unknown = bmc.config().with_retries(8);
    unknown.username = "nobody".into();
    let err = IpmiClient::connect(&unknown).await.unwrap_err();
    assert!(matches!(err, Error::Unauthorized(_)), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("RAKP 1 (sent 2 time(s))") && text.contains("\"nobody\""),
        "{text}"
    );
    assert!(!err.is_retryable());
    // The BMC still serves its real user afterwards.
    let client = IpmiClient::connect(&bmc.config()).await.unwrap();
    client.power_state().await.unwrap();
    client.close().await.unwrap();
}

fn target(port: u16, password: &str) -> OobTarget {
    OobTarget {
        node: "node01".into(),
        kind: OobType::Ipmi,
        address: Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        port: Some(port),
        account: Some(USER.into()),
        credential: Some(Secret::new(password)),
        parameters: OobParameters::default(),
        boot_mode: None,
    }
}

fn driver() -> IpmiDriver {
    IpmiDriver::new(IpmiDriverConfig {
        timeout_ms: 500,
        retries: 4,
        power_poll_interval_ms: 100,
        power_deadline_ms: 20_000,
        ..IpmiDriverConfig::default()
    })
}

#[tokio::test]
async fn the_oob_conformance_suite_passes_against_pyghmi() {
    let Some(bmc) = PyghmiBmc::start("pyghmi::the_oob_conformance_suite_passes_against_pyghmi")
    else {
        return;
    };
    let d = driver();
    drydock_core::testing::drivers::oob_conformance(&d, &target(bmc.port, PASSWORD)).await;
    assert_eq!(bmc.state("power").as_deref(), Some("1"), "{}", bmc.log());
    assert_eq!(
        bmc.state("boot").as_deref(),
        Some("network"),
        "{}",
        bmc.log()
    );
}

#[tokio::test]
async fn the_driver_classifies_pyghmi_refusals() {
    let Some(bmc) = PyghmiBmc::start("pyghmi::the_driver_classifies_pyghmi_refusals") else {
        return;
    };
    let d = driver();
    let err = d.power_state(&target(bmc.port, "wrong")).await.unwrap_err();
    assert_eq!(err.kind, DriverErrorKind::Unauthorized, "{err}");
    let mut unknown = target(bmc.port, PASSWORD);
    unknown.account = Some("nobody".into());
    let err = d.power_state(&unknown).await.unwrap_err();
    assert_eq!(err.kind, DriverErrorKind::Unauthorized, "{err}");
    assert!(err.to_string().contains("RAKP 1"), "{err}");
}
