//! Session reuse of `IpmiDriver` against real `ipmi_sim` processes: one session per BMC
//! across calls, idle expiry, sessions lost on the BMC's side, the global limit, `close()`.
//! Sessions are counted by the driver's counters and, on the BMC, with `ipmitool session info
//! active`.

mod common;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::Sim;
use common::fake_bmc::{self, Event, Script};
use drydock_core::design::{OobParameters, OobType, Secret};
use drydock_core::driver::{
    BootDevice, BootPersistence, DriverErrorKind, OobDriver, OobTarget, PowerAction, PowerState,
};
use drydock_driver_ipmi::{IpmiDriver, IpmiDriverConfig};

fn target(sim: &Sim, password: &str) -> OobTarget {
    OobTarget {
        node: format!("node-{}", sim.port),
        kind: OobType::Ipmi,
        address: Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        port: Some(sim.port),
        account: Some("admin".into()),
        credential: Some(Secret::new(password)),
        parameters: OobParameters::default(),
        boot_mode: None,
    }
}

fn config() -> IpmiDriverConfig {
    IpmiDriverConfig {
        timeout_ms: 300,
        retries: 2,
        power_poll_interval_ms: 100,
        power_deadline_ms: 20_000,
        ..IpmiDriverConfig::default()
    }
}

/// The calls of an orchestrator task on one node: interrogate, PXE, power on and status.
async fn task(d: &IpmiDriver, t: &OobTarget) {
    d.interrogate(t).await.unwrap();
    d.configure_pxe(t).await.unwrap();
    d.set_boot_device(t, BootDevice::Pxe, BootPersistence::OneTime)
        .await
        .unwrap();
    d.set_power(t, PowerAction::On).await.unwrap();
    assert_eq!(d.power_state(t).await.unwrap(), PowerState::On);
}

#[tokio::test]
async fn consecutive_calls_on_one_bmc_share_one_session() {
    let test = "consecutive_calls_on_one_bmc_share_one_session";
    let (Some(a), Some(b)) = (Sim::start(test), Sim::start(test)) else {
        return;
    };
    a.set_state("power", "0");
    b.set_state("power", "0");
    let d = IpmiDriver::new(config());
    let (ta, tb) = (target(&a, "password"), target(&b, "password"));
    task(&d, &ta).await;
    let s = d.session_stats();
    assert_eq!((s.opened, s.reused, s.idle), (1, 4, 1), "{s:?}");
    assert_eq!(a.active_sessions(), 1);
    assert_eq!(b.active_sessions(), 0);

    // A power cycle (command and polling) on the same session, then a second BMC.
    d.set_power(&ta, PowerAction::Cycle).await.unwrap();
    task(&d, &tb).await;
    let s = d.session_stats();
    assert_eq!(
        (s.opened, s.reused, s.idle, s.closed),
        (2, 9, 2, 0),
        "{s:?}"
    );
    assert_eq!((a.active_sessions(), b.active_sessions()), (1, 1));
    assert_eq!(a.state("power").as_deref(), Some("1"));
    assert_eq!(b.state("boot").as_deref(), Some("pxe"));

    // close() sends Close Session for both and waits: the BMCs have no session left.
    assert_eq!(d.close().await, 2);
    assert_eq!((a.active_sessions(), b.active_sessions()), (0, 0));
    let s = d.session_stats();
    assert_eq!((s.closed, s.idle), (2, 0), "{s:?}");
    // The driver stays usable.
    d.power_state(&ta).await.unwrap();
    assert_eq!(d.session_stats().opened, 3);
    assert!(!format!("{d:?}").contains("password"), "{d:?}");
}

#[tokio::test]
async fn reuse_off_opens_and_closes_a_session_per_call() {
    let Some(sim) = Sim::start("reuse_off_opens_and_closes_a_session_per_call") else {
        return;
    };
    sim.set_state("power", "0");
    let d = IpmiDriver::new(IpmiDriverConfig {
        reuse_sessions: false,
        ..config()
    });
    let t = target(&sim, "password");
    task(&d, &t).await;
    let s = d.session_stats();
    assert_eq!(
        (s.opened, s.reused, s.closed, s.idle),
        (5, 0, 5, 0),
        "{s:?}"
    );
    assert_eq!(sim.active_sessions(), 0);
}

#[tokio::test]
async fn a_changed_password_never_reuses_the_old_session() {
    let Some(sim) = Sim::start("a_changed_password_never_reuses_the_old_session") else {
        return;
    };
    let d = IpmiDriver::new(config());
    d.power_state(&target(&sim, "password")).await.unwrap();
    let e = d.power_state(&target(&sim, "passwore")).await.unwrap_err();
    assert_eq!(e.kind, DriverErrorKind::Unauthorized, "{e}");
    let s = d.session_stats();
    assert_eq!((s.opened, s.reused, s.idle), (1, 0, 1), "{s:?}");
    let printed = format!("{d:?} {e:?} {e}");
    assert!(!printed.contains("passwore"), "{printed}");
    assert!(!printed.contains("\"password\""), "{printed}");
}

#[tokio::test]
async fn an_idle_session_past_the_limit_is_closed_and_reopened() {
    let Some(sim) = Sim::start("an_idle_session_past_the_limit_is_closed_and_reopened") else {
        return;
    };
    let d = IpmiDriver::new(IpmiDriverConfig {
        session_idle_ms: 300,
        ..config()
    });
    let t = target(&sim, "password");
    d.power_state(&t).await.unwrap();
    d.power_state(&t).await.unwrap();
    assert_eq!(d.session_stats().opened, 1);
    tokio::time::sleep(Duration::from_millis(400)).await;
    d.power_state(&t).await.unwrap();
    let s = d.session_stats();
    assert_eq!(
        (s.opened, s.reused, s.closed, s.idle),
        (2, 1, 1, 1),
        "{s:?}"
    );
    // The expired session's Close Session datagram reached the BMC.
    assert_eq!(sim.wait_active_sessions(1), 1);
}

#[tokio::test]
async fn a_session_lost_by_a_bmc_restart_is_replaced() {
    // ipmi_sim closes other sessions only by BMC session ID (not by handle), which `ipmitool`
    // cannot list: a restart is how the BMC forgets the driver's session here.
    let Some(mut sim) = Sim::start("a_session_lost_by_a_bmc_restart_is_replaced") else {
        return;
    };
    let d = IpmiDriver::new(config());
    let t = target(&sim, "password");
    sim.set_state("power", "1");
    d.power_state(&t).await.unwrap();
    sim.restart();
    assert_eq!(sim.active_sessions(), 0);
    // The cached session is unknown to the new BMC: the call retries on a new session.
    assert_eq!(d.power_state(&t).await.unwrap(), PowerState::On);
    d.set_power(&t, PowerAction::Off).await.unwrap();
    let s = d.session_stats();
    assert_eq!(
        (s.opened, s.reused, s.closed, s.idle),
        (2, 2, 1, 1),
        "{s:?}"
    );
    assert_eq!(sim.active_sessions(), 1);
}

#[tokio::test]
async fn the_session_limit_bounds_cached_and_busy_sessions() {
    let test = "the_session_limit_bounds_cached_and_busy_sessions";
    let sims: Vec<Sim> = (0..3).filter_map(|_| Sim::start(test)).collect();
    if sims.len() < 3 {
        return;
    }
    for sim in &sims {
        sim.set_state("power", "1");
    }
    let d = Arc::new(IpmiDriver::new(IpmiDriverConfig {
        max_concurrent_sessions: 2,
        ..config()
    }));
    let targets: Vec<OobTarget> = sims.iter().map(|s| target(s, "password")).collect();

    // Sequentially: the third BMC takes the place of the least recently used idle session.
    for t in &targets {
        d.power_state(t).await.unwrap();
    }
    let s = d.session_stats();
    assert_eq!((s.opened, s.closed, s.idle), (3, 1, 2), "{s:?}");
    let on_bmcs = |sims: &[Sim]| sims.iter().map(Sim::active_sessions).collect::<Vec<_>>();
    assert_eq!(on_bmcs(&sims), [0, 1, 1]);

    // Concurrently: never more than two sessions open, and every call succeeds.
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (d, done) = (d.clone(), done.clone());
        tokio::spawn(async move {
            let mut max = 0;
            while !done.load(Ordering::Relaxed) {
                let s = d.session_stats();
                max = max.max(s.opened - s.closed);
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            max
        })
    };
    let mut set = tokio::task::JoinSet::new();
    for i in 0..24 {
        let (d, t) = (d.clone(), targets[i % 3].clone());
        set.spawn(async move { d.power_state(&t).await });
    }
    for state in set.join_all().await {
        assert_eq!(state.unwrap(), PowerState::On);
    }
    done.store(true, Ordering::Relaxed);
    let max = sampler.await.unwrap();
    assert!(max <= 2, "{max} sessions open at once");
    let s = d.session_stats();
    assert!(s.opened - s.closed <= 2 && s.idle <= 2, "{s:?}");
    assert!(s.reused > 0, "{s:?}");
    let counts = on_bmcs(&sims);
    assert!(counts.iter().sum::<usize>() <= 2, "{counts:?}");
    assert_eq!(d.close().await, s.idle);
    assert_eq!(on_bmcs(&sims), [0, 0, 0]);
}

#[tokio::test]
async fn dropping_the_driver_closes_its_sessions() {
    let Some(sim) = Sim::start("dropping_the_driver_closes_its_sessions") else {
        return;
    };
    let d = IpmiDriver::new(config());
    d.power_state(&target(&sim, "password")).await.unwrap();
    assert_eq!(sim.active_sessions(), 1);
    drop(d);
    assert_eq!(sim.wait_active_sessions(0), 0);
}

#[tokio::test]
async fn only_a_stale_session_is_retried_and_never_after_it_answered() {
    // The BMC forgets a session after 3 commands (Set Session Privilege Level included).
    let (port, log) = fake_bmc::start(Script {
        commands_per_session: Some(3),
        ..Script::default()
    })
    .await;
    let d = IpmiDriver::new(IpmiDriverConfig {
        timeout_ms: 100,
        retries: 1,
        ..config()
    });
    let t = target_port(port);
    assert_eq!(d.power_state(&t).await.unwrap(), PowerState::Off);
    assert_eq!(d.power_state(&t).await.unwrap(), PowerState::Off);
    // Stale before answering anything: retried once on a new session.
    assert_eq!(d.power_state(&t).await.unwrap(), PowerState::Off);
    let s = d.session_stats();
    assert_eq!(
        (s.opened, s.reused, s.closed, s.idle),
        (2, 2, 1, 1),
        "{s:?}"
    );

    // The cached session answers the power reading, then goes silent on Chassis Control:
    // the power change is not sent again on a new session, and the session is dropped.
    let e = d.set_power(&t, PowerAction::On).await.unwrap_err();
    assert_eq!(e.kind, DriverErrorKind::TimedOut, "{e}");
    let s = d.session_stats();
    assert_eq!(
        (s.opened, s.reused, s.closed, s.idle),
        (2, 3, 2, 0),
        "{s:?}"
    );
    // No third session was opened for it (the BMC ignored the command: power stays off).
    let events = log.lock().unwrap().clone();
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, Event::Active(_)))
            .count(),
        2,
        "{events:?}"
    );
    assert_eq!(d.power_state(&t).await.unwrap(), PowerState::Off);
    assert_eq!(d.session_stats().opened, 3);
}

fn target_port(port: u16) -> OobTarget {
    OobTarget {
        node: "fake".into(),
        kind: OobType::Ipmi,
        address: Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        port: Some(port),
        account: Some("admin".into()),
        credential: Some(Secret::new("password")),
        parameters: OobParameters::default(),
        boot_mode: None,
    }
}
