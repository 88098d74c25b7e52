//! `IpmiDriver` (the core's `OobDriver`) against real `ipmi_sim` processes on 127.0.0.1,
//! verified through the simulator's chassis state files and script log.

mod common;

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use common::{Sim, free_udp_port};
use drydock_core::design::{OobParameters, OobType, Secret};
use drydock_core::driver::{
    BootDevice, BootPersistence, DriverErrorKind, OobDriver, OobTarget, PowerAction, PowerState,
};
use drydock_driver_ipmi::{IpmiDriver, IpmiDriverConfig};

const PASSWORD: &str = "password";

fn target(port: u16, password: &str) -> OobTarget {
    OobTarget {
        node: "node01".into(),
        kind: OobType::Ipmi,
        address: Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        port: Some(port),
        account: Some("admin".into()),
        credential: Some(Secret::new(password)),
        parameters: OobParameters::default(),
        boot_mode: None,
    }
}

fn driver(deadline_ms: u64) -> IpmiDriver {
    IpmiDriver::new(IpmiDriverConfig {
        timeout_ms: 500,
        retries: 4,
        power_poll_interval_ms: 100,
        power_deadline_ms: deadline_ms,
        ..IpmiDriverConfig::default()
    })
}

/// Index of the first log line at or after `after` ending with `line`.
fn logged_after(sim: &Sim, after: usize, line: &str) -> Option<usize> {
    sim.log()
        .lines()
        .enumerate()
        .skip(after)
        .find(|(_, l)| l.ends_with(line))
        .map(|(i, _)| i)
}

fn power_sets(sim: &Sim) -> usize {
    sim.log().lines().filter(|l| l.contains(" set ")).count()
}

#[tokio::test]
async fn power_on_off_cycle_reset_through_the_driver() {
    let Some(sim) = Sim::start("power_on_off_cycle_reset_through_the_driver") else {
        return;
    };
    let d = driver(20_000);
    let t = target(sim.port, PASSWORD);
    sim.set_state("power", "0");
    assert_eq!(d.power_state(&t).await.unwrap(), PowerState::Off);

    d.set_power(&t, PowerAction::On).await.unwrap();
    assert_eq!(sim.state("power").as_deref(), Some("1"), "{}", sim.log());
    assert_eq!(d.power_state(&t).await.unwrap(), PowerState::On);

    // Idempotent: on when already on sends no command at all (no cycle).
    let sets = power_sets(&sim);
    d.set_power(&t, PowerAction::On).await.unwrap();
    assert_eq!(power_sets(&sim), sets, "log:\n{}", sim.log());

    d.set_power(&t, PowerAction::Off).await.unwrap();
    assert_eq!(sim.state("power").as_deref(), Some("0"), "{}", sim.log());
    let sets = power_sets(&sim);
    d.set_power(&t, PowerAction::Off).await.unwrap();
    d.set_power(&t, PowerAction::SoftOff).await.unwrap();
    assert_eq!(power_sets(&sim), sets, "log:\n{}", sim.log());

    // Cycle from on: the chassis sees off, then on.
    sim.set_state("power", "1");
    let before = sim.log().lines().count();
    d.set_power(&t, PowerAction::Cycle).await.unwrap();
    // The driver returns only after the BMC reported the off phase and then on again.
    let off = logged_after(&sim, before, "set power 0");
    let on = off.and_then(|off| logged_after(&sim, off + 1, "set power 1"));
    assert!(
        on.is_some(),
        "no off-then-on at return; log:\n{}",
        sim.log()
    );
    assert_eq!(d.power_state(&t).await.unwrap(), PowerState::On);

    // Cycle from off powers on.
    sim.set_state("power", "0");
    d.set_power(&t, PowerAction::Cycle).await.unwrap();
    assert_eq!(sim.state("power").as_deref(), Some("1"));

    let before = sim.log().lines().count();
    d.set_power(&t, PowerAction::Reset).await.unwrap();
    assert!(
        logged_after(&sim, before, "set reset 1").is_some(),
        "{}",
        sim.log()
    );
}

#[tokio::test]
async fn soft_off_that_never_completes_times_out_at_the_deadline() {
    let Some(sim) = Sim::start("soft_off_that_never_completes_times_out_at_the_deadline") else {
        return;
    };
    // ipmi_sim's chassis script records the soft off but has no OS to shut down.
    let d = driver(1_500);
    let t = target(sim.port, PASSWORD);
    sim.set_state("power", "1");
    let start = Instant::now();
    let e = d.set_power(&t, PowerAction::SoftOff).await.unwrap_err();
    assert_eq!(e.kind, DriverErrorKind::TimedOut, "{e}");
    assert!(e.is_retryable());
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    assert!(sim.log().contains("set shutdown 1"), "{}", sim.log());
    assert_eq!(e.node.as_deref(), Some("node01"));
}

#[tokio::test]
async fn boot_device_is_set_and_read_back_through_the_driver() {
    let Some(sim) = Sim::start("boot_device_is_set_and_read_back_through_the_driver") else {
        return;
    };
    let d = driver(20_000);
    let t = target(sim.port, PASSWORD);
    // ipmi_sim's chassis script names the hard disk "default".
    let cases = [
        (BootDevice::Pxe, BootPersistence::OneTime, "pxe"),
        (BootDevice::Disk, BootPersistence::Persistent, "default"),
        (BootDevice::Bios, BootPersistence::OneTime, "bios"),
    ];
    for (device, persistence, file) in cases {
        d.set_boot_device(&t, device, persistence).await.unwrap();
        assert_eq!(sim.state("boot").as_deref(), Some(file), "{device:?}");
    }
    d.configure_pxe(&t).await.unwrap();
    assert_eq!(sim.state("boot").as_deref(), Some("pxe"));
}

#[tokio::test]
async fn interrogate_reports_device_id_power_and_sel() {
    let Some(sim) = Sim::start("interrogate_reports_device_id_power_and_sel") else {
        return;
    };
    let d = driver(20_000);
    sim.set_state("power", "1");
    let facts = d.interrogate(&target(sim.port, PASSWORD)).await.unwrap();
    assert_eq!(facts.power, Some(PowerState::On));
    let f = &facts.facts;
    assert_eq!(f["manufacturer_id"], 0x1291.to_string(), "{f:?}");
    assert_eq!(f["product_id"], "0x0F02", "{f:?}");
    assert_eq!(f["cipher_suite"], "3", "{f:?}");
    for key in ["firmware_revision", "ipmi_version", "sel_entries"] {
        assert!(f.contains_key(key), "{key} missing: {f:?}");
    }
}

#[tokio::test]
async fn wrong_password_is_unauthorized_and_never_printed() {
    let Some(sim) = Sim::start("wrong_password_is_unauthorized_and_never_printed") else {
        return;
    };
    let d = driver(20_000);
    let t = target(sim.port, "passwore");
    let e = d.power_state(&t).await.unwrap_err();
    assert_eq!(e.kind, DriverErrorKind::Unauthorized, "{e}");
    assert!(!e.is_retryable());
    let e2 = d.set_power(&t, PowerAction::On).await.unwrap_err();
    assert_eq!(e2.kind, DriverErrorKind::Unauthorized, "{e2}");
    let printed = format!("{e} {e:?} {e2} {e2:?} {d:?} {t:?}");
    assert!(!printed.contains("passwore"), "{printed}");
    // The right password works, and is not printed either.
    let good = target(sim.port, PASSWORD);
    d.power_state(&good).await.unwrap();
    assert!(!format!("{d:?} {good:?}").contains(PASSWORD));
}

#[tokio::test]
async fn unreachable_bmc_times_out_within_bound() {
    // Nothing listens on this port: no ipmi_sim needed.
    let d = IpmiDriver::new(IpmiDriverConfig {
        timeout_ms: 200,
        retries: 1,
        ..IpmiDriverConfig::default()
    });
    let start = Instant::now();
    let e = d
        .power_state(&target(free_udp_port(), PASSWORD))
        .await
        .unwrap_err();
    assert!(
        matches!(
            e.kind,
            DriverErrorKind::TimedOut | DriverErrorKind::Transient
        ),
        "{e}"
    );
    assert!(e.is_retryable());
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert!(!e.to_string().contains(PASSWORD));
}

#[tokio::test]
async fn missing_address_account_or_credential_is_permanent() {
    let d = driver(1_000);
    let mut t = target(623, PASSWORD);
    t.credential = None;
    let e = d.set_power(&t, PowerAction::On).await.unwrap_err();
    assert_eq!(e.kind, DriverErrorKind::Permanent);
    assert!(e.to_string().contains("credential"), "{e}");
    assert!(!e.to_string().contains("account"), "{e}");

    t.address = None;
    t.account = None;
    let e = d.interrogate(&t).await.unwrap_err();
    assert_eq!(e.kind, DriverErrorKind::Permanent);
    let msg = e.to_string();
    for what in ["address", "account", "credential", "node01"] {
        assert!(msg.contains(what), "{what}: {msg}");
    }

    let mut t = target(623, PASSWORD);
    t.kind = OobType::Redfish;
    let e = d.power_state(&t).await.unwrap_err();
    assert_eq!(e.kind, DriverErrorKind::Unsupported, "{e}");
}

#[tokio::test]
async fn insecure_cipher_suite_is_refused_unless_enabled() {
    let d = IpmiDriver::new(IpmiDriverConfig {
        cipher_suite: Some(0),
        ..IpmiDriverConfig::default()
    });
    assert_eq!(
        d.validate_services().await.unwrap_err().kind,
        DriverErrorKind::Permanent
    );
    let e = d.power_state(&target(623, PASSWORD)).await.unwrap_err();
    assert_eq!(e.kind, DriverErrorKind::Permanent, "{e}");
    assert!(
        e.to_string().contains("allow_insecure_cipher_suites"),
        "{e}"
    );
    let d = IpmiDriver::new(IpmiDriverConfig {
        cipher_suite: Some(0),
        allow_insecure_cipher_suites: true,
        ..IpmiDriverConfig::default()
    });
    d.validate_services().await.unwrap();
    driver(1_000).validate_services().await.unwrap();
}

#[tokio::test]
async fn concurrent_calls_share_the_session_limit() {
    let Some(sim) = Sim::start("concurrent_calls_share_the_session_limit") else {
        return;
    };
    let d = std::sync::Arc::new(IpmiDriver::new(IpmiDriverConfig {
        timeout_ms: 500,
        retries: 4,
        max_concurrent_sessions: 2,
        ..IpmiDriverConfig::default()
    }));
    sim.set_state("power", "1");
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (d, t) = (d.clone(), target(sim.port, PASSWORD));
        set.spawn(async move { d.power_state(&t).await });
    }
    let states = set.join_all().await;
    assert_eq!(states.len(), 8);
    for state in states {
        assert_eq!(state.unwrap(), PowerState::On);
    }
}

#[tokio::test]
async fn target_from_a_compiled_design_reaches_the_bmc() {
    let Some(sim) = Sim::start("target_from_a_compiled_design_reaches_the_bmc") else {
        return;
    };
    let yaml = format!(
        "
schema: drydock/BaremetalNode/v1
metadata: {{name: node07}}
data:
  oob: {{type: ipmi, network: oob, account: admin, credential: {PASSWORD}, port: '{port}'}}
  addressing: [{{network: oob, address: 127.0.0.1}}]
",
        port = sim.port
    );
    let design = drydock_core::design::ingest_str(&yaml).unwrap();
    let compiled = drydock_core::design::compile(design).unwrap();
    let t = OobTarget::from_node(compiled.node("node07").unwrap()).unwrap();
    assert_eq!(t.port, Some(sim.port));
    sim.set_state("power", "0");
    let d = driver(20_000);
    d.set_power(&t, PowerAction::On).await.unwrap();
    assert_eq!(sim.state("power").as_deref(), Some("1"));
    assert!(!format!("{d:?} {t:?}").contains(PASSWORD));
}

#[tokio::test]
async fn the_oob_conformance_suite_passes_against_ipmi_sim() {
    let Some(sim) = Sim::start("the_oob_conformance_suite_passes_against_ipmi_sim") else {
        return;
    };
    let d = driver(20_000);
    drydock_core::testing::drivers::oob_conformance(&d, &target(sim.port, PASSWORD)).await;
    assert_eq!(
        sim.state("power").as_deref().map(str::trim),
        Some("1"),
        "the suite leaves the node on"
    );
}
