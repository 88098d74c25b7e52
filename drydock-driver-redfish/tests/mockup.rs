//! The driver against the mockup service of `common::mockup` (written here): sessions,
//! ETags, task monitors, 503, ActionInfo, extended error messages, body limits.

mod common;

use std::time::Duration;

use common::mockup::{self, PASSWORD, Shared, USER};
use drydock_core::design::{OobParameters, OobType, Secret};
use drydock_core::driver::{
    BootDevice, BootPersistence, DriverErrorKind, OobDriver, OobTarget, PowerAction, PowerState,
};
use drydock_driver_redfish::{RedfishDriver, RedfishDriverConfig};

fn target(port: u16, password: &str, params: &[(&str, &str)]) -> OobTarget {
    let mut t = common::target(port, password, params);
    t.account = Some(USER.into());
    t
}

fn config() -> RedfishDriverConfig {
    serde_json::from_value(serde_json::json!({
        "power_poll_interval_ms": 50,
        "power_deadline_ms": 10_000,
        "cycle_off_window_ms": 2_000,
        "request_timeout_ms": 5_000,
        "task_poll_interval_ms": 20,
        "retry_after_cap_ms": 50,
    }))
    .unwrap()
}

fn mock(state: &Shared) -> std::sync::MutexGuard<'_, mockup::Mock> {
    state.lock().unwrap()
}

#[tokio::test]
async fn sessions_are_used_renewed_once_and_deleted() {
    let (port, state) = mockup::start().await;
    let driver = RedfishDriver::new(config());
    let t = target(port, PASSWORD, &[]);
    assert_eq!(driver.power_state(&t).await.unwrap(), PowerState::Off);
    assert_eq!(mock(&state).sessions_created, 1);
    assert_eq!(driver.power_state(&t).await.unwrap(), PowerState::Off);
    assert_eq!(mock(&state).sessions_created, 1, "the session is reused");
    // The BMC forgets its sessions (a timeout, a BMC reset): one new session, transparently.
    mock(&state).tokens.clear();
    assert_eq!(driver.power_state(&t).await.unwrap(), PowerState::Off);
    assert_eq!(mock(&state).sessions_created, 2);
    assert_eq!(driver.session_stats().created, 2);
    assert_eq!(driver.close().await, 1);
    assert!(mock(&state).tokens.is_empty());
    assert_eq!(mock(&state).sessions_deleted, 1);
    // Still usable after close.
    assert_eq!(driver.power_state(&t).await.unwrap(), PowerState::Off);
    assert_eq!(mock(&state).tokens.len(), 1);
    // Dropping the driver deletes its session without waiting.
    drop(driver);
    for _ in 0..100 {
        if mock(&state).tokens.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        mock(&state).tokens.is_empty(),
        "the session outlived the driver"
    );
}

#[tokio::test]
async fn wrong_password_keeps_the_services_message() {
    let (port, _state) = mockup::start().await;
    let driver = RedfishDriver::new(config());
    let e = driver
        .power_state(&target(port, "wrong-Secret", &[]))
        .await
        .unwrap_err();
    assert_eq!(e.kind, DriverErrorKind::Unauthorized, "{e}");
    assert!(
        e.message.contains("The user name or password is wrong."),
        "{e}"
    );
    assert!(!format!("{e:?}").contains("wrong-Secret"));
}

#[tokio::test]
async fn power_goes_through_task_monitors_and_action_info() {
    let (port, state) = mockup::start().await;
    let driver = RedfishDriver::new(config());
    let t = target(port, PASSWORD, &[]);
    driver.set_power(&t, PowerAction::On).await.unwrap();
    assert_eq!(mock(&state).power, "On");
    driver.set_power(&t, PowerAction::On).await.unwrap();
    // ActionInfo lists PowerCycle, not ForceRestart.
    driver.set_power(&t, PowerAction::Cycle).await.unwrap();
    driver.set_power(&t, PowerAction::Reset).await.unwrap();
    assert_eq!(mock(&state).power, "On");
    // Nothing graceful is offered.
    let e = driver
        .set_power(&t, PowerAction::SoftOff)
        .await
        .unwrap_err();
    assert_eq!(e.kind, DriverErrorKind::Unsupported, "{e}");
    assert!(
        e.message.contains("GracefulShutdown") && e.message.contains("PowerCycle"),
        "{e}"
    );
    driver.set_power(&t, PowerAction::Off).await.unwrap();
    assert_eq!(driver.power_state(&t).await.unwrap(), PowerState::Off);
    assert_eq!(
        mock(&state).resets,
        ["On", "PowerCycle", "PowerCycle", "ForceOff"]
    );
    // A task that ends in an exception: permanent, with the task's message.
    mock(&state).fail_tasks = true;
    let e = driver.set_power(&t, PowerAction::On).await.unwrap_err();
    assert_eq!(e.kind, DriverErrorKind::Permanent, "{e}");
    assert!(e.message.contains("Power supply 2 reports a fault."), "{e}");
}

#[tokio::test]
async fn unavailable_is_retried_then_transient() {
    let (port, state) = mockup::start().await;
    let driver = RedfishDriver::new(config());
    let t = target(port, PASSWORD, &[]);
    mock(&state).unavailable = 3;
    assert_eq!(driver.power_state(&t).await.unwrap(), PowerState::Off);
    assert_eq!(mock(&state).unavailable, 0);
    mock(&state).unavailable = 50;
    let e = driver.power_state(&t).await.unwrap_err();
    assert_eq!(e.kind, DriverErrorKind::Transient, "{e}");
    assert!(e.message.contains("503"), "{e}");
    // 1 + 3 retries.
    assert_eq!(mock(&state).unavailable, 46);
}

#[tokio::test]
async fn boot_override_sends_etags_and_retries_a_stale_one_once() {
    let (port, state) = mockup::start().await;
    let driver = RedfishDriver::new(config());
    let t = target(port, PASSWORD, &[("network_boot", "uefi_http")]);
    driver.configure_pxe(&t).await.unwrap();
    {
        let m = mock(&state);
        assert_eq!(m.boot_target, "UefiHttp");
        assert_eq!(m.boot_enabled, "Once");
        assert_eq!(m.patches_without_etag, 0);
    }
    let mut legacy = target(port, PASSWORD, &[]);
    legacy.boot_mode = Some(drydock_core::design::BootMode::Bios);
    mock(&state).stale_etags = 1;
    driver
        .set_boot_device(&legacy, BootDevice::Bios, BootPersistence::Persistent)
        .await
        .unwrap();
    {
        let m = mock(&state);
        assert_eq!(
            (
                m.boot_target.as_str(),
                m.boot_enabled.as_str(),
                m.boot_mode.as_str()
            ),
            ("BiosSetup", "Continuous", "Legacy")
        );
    }
    mock(&state).stale_etags = 2;
    let e = driver
        .set_boot_device(&legacy, BootDevice::Disk, BootPersistence::OneTime)
        .await
        .unwrap_err();
    assert_eq!(e.kind, DriverErrorKind::Permanent, "{e}");
    assert!(
        e.message.contains("412") && e.message.contains("The resource has changed."),
        "{e}"
    );
    assert_eq!(mock(&state).boot_target, "BiosSetup");
}

#[tokio::test]
async fn interrogation_reads_system_manager_and_interfaces() {
    let (port, _state) = mockup::start().await;
    let driver = RedfishDriver::new(config());
    let facts = driver
        .interrogate(&target(port, PASSWORD, &[]))
        .await
        .unwrap();
    assert_eq!(facts.power, Some(PowerState::Off));
    let f = &facts.facts;
    for (k, v) in [
        ("manufacturer", "Drydock Test Works"),
        ("model", "DT-1000"),
        ("serial_number", "SN-0042"),
        ("bios_version", "2.7.1"),
        ("processor_count", "2"),
        ("memory_gib", "512"),
        ("health", "Warning"),
        ("manager_firmware_version", "9.9.9"),
        ("redfish_version", "1.17.0"),
        ("ethernet_macs", "aa:bb:cc:00:00:01,aa:bb:cc:00:00:02"),
    ] {
        assert_eq!(f.get(k).map(String::as_str), Some(v), "{k} in {f:?}");
    }
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let (port, state) = mockup::start().await;
    let mut c = config();
    c.max_body_bytes = 64 * 1024;
    let driver = RedfishDriver::new(c);
    mock(&state).padding = 200_000;
    let e = driver
        .power_state(&target(port, PASSWORD, &[]))
        .await
        .unwrap_err();
    assert_eq!(e.kind, DriverErrorKind::Permanent, "{e}");
    assert!(e.message.contains("larger than 65536 bytes"), "{e}");
}

#[tokio::test]
async fn a_foreign_or_incomplete_target_is_refused_before_any_request() {
    let driver = RedfishDriver::new(config());
    let t = OobTarget {
        node: "n9".into(),
        kind: OobType::Ipmi,
        address: None,
        port: None,
        account: None,
        credential: Some(Secret::new("pw")),
        parameters: OobParameters::default(),
        boot_mode: None,
    };
    let e = driver.power_state(&t).await.unwrap_err();
    assert_eq!(e.kind, DriverErrorKind::Unsupported, "{e}");
    let t = OobTarget {
        kind: OobType::Redfish,
        ..t
    };
    let e = driver.power_state(&t).await.unwrap_err();
    assert_eq!(e.kind, DriverErrorKind::Permanent, "{e}");
    assert!(e.message.contains("address"), "{e}");
    assert_eq!(driver.session_stats().requests, 0);
}
