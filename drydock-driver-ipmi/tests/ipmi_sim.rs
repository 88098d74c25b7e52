//! Integration tests against real `ipmi_sim` processes on 127.0.0.1, cross-checked with
//! `ipmitool -I lanplus -C 3` and the simulator's chassis state files.

mod common;

use common::{Sim, poll};
use drydock_driver_ipmi::{
    BootDevice, BootFlags, ErrorKind, IpmiClient, PowerAction, PowerState, PrivilegeLevel,
};

#[tokio::test]
async fn status_device_id_and_sel() {
    let Some(sim) = Sim::start("status_device_id_and_sel") else {
        return;
    };
    let pong = IpmiClient::ping(&sim.config()).await.unwrap();
    assert!(pong.supports_ipmi(), "{pong:?}");
    let client = IpmiClient::connect(&sim.config()).await.unwrap();
    // ipmi_sim offers suites 0-11: the automatic choice is 3.
    assert_eq!(client.cipher_suite(), 3);
    sim.set_state("power", "1");
    assert_eq!(client.power_state().await.unwrap(), PowerState::On);
    sim.set_state("power", "0");
    assert_eq!(client.power_state().await.unwrap(), PowerState::Off);
    let id = client.device_id().await.unwrap();
    assert_eq!((id.manufacturer_id, id.product_id), (0x1291, 0x0F02));
    let sel = client.sel_info().await.unwrap();
    assert_eq!(sel.version, 0x51);
    assert!(sel.free_bytes > 0);
    client.close().await.unwrap();
}

/// Whether the script log has a `set power <v>` line after line index `after`.
fn logged_after(sim: &Sim, after: usize, line: &str) -> Option<usize> {
    sim.log()
        .lines()
        .enumerate()
        .skip(after)
        .find(|(_, l)| l.ends_with(line))
        .map(|(i, _)| i)
}

#[tokio::test]
async fn power_control_reaches_the_chassis_and_ipmitool_agrees() {
    let Some(sim) = Sim::start("power_control_reaches_the_chassis_and_ipmitool_agrees") else {
        return;
    };
    let client = IpmiClient::connect(&sim.config()).await.unwrap();
    sim.set_state("power", "0");

    client.power(PowerAction::On).await.unwrap();
    let on = poll(50, || async {
        (client.power_state().await.unwrap() == PowerState::On).then_some(())
    })
    .await;
    assert!(on.is_some(), "power never came on; log:\n{}", sim.log());
    assert_eq!(sim.state("power").as_deref(), Some("1"));
    assert!(
        sim.ipmitool(&["chassis", "power", "status"])
            .contains("Chassis Power is on")
    );

    client.power(PowerAction::Off).await.unwrap();
    let off = poll(50, || async {
        (client.power_state().await.unwrap() == PowerState::Off).then_some(())
    })
    .await;
    assert!(off.is_some(), "power never went off; log:\n{}", sim.log());
    assert_eq!(sim.state("power").as_deref(), Some("0"));
    assert!(
        sim.ipmitool(&["chassis", "power", "status"])
            .contains("Chassis Power is off")
    );

    // Cycle from on: the script sees power 0, then power 1 (about a second later).
    sim.set_state("power", "1");
    let before = sim.log().lines().count();
    client.power(PowerAction::Cycle).await.unwrap();
    let cycled = poll(50, || async {
        let off = logged_after(&sim, before, "set power 0")?;
        logged_after(&sim, off + 1, "set power 1")
    })
    .await;
    assert!(
        cycled.is_some(),
        "no off-then-on after cycle; log:\n{}",
        sim.log()
    );
    assert_eq!(client.power_state().await.unwrap(), PowerState::On);

    let before = sim.log().lines().count();
    client.power(PowerAction::HardReset).await.unwrap();
    assert!(
        logged_after(&sim, before, "set reset 1").is_some(),
        "log:\n{}",
        sim.log()
    );
    client.power(PowerAction::SoftOff).await.unwrap();
    assert!(
        logged_after(&sim, before, "set shutdown 1").is_some(),
        "log:\n{}",
        sim.log()
    );
    client.close().await.unwrap();
}

#[tokio::test]
async fn ipmitool_changes_are_seen_by_the_client() {
    let Some(sim) = Sim::start("ipmitool_changes_are_seen_by_the_client") else {
        return;
    };
    sim.set_state("power", "0");
    sim.ipmitool(&["chassis", "power", "on"]);
    let client = IpmiClient::connect(&sim.config()).await.unwrap();
    let on = poll(50, || async {
        (client.power_state().await.unwrap() == PowerState::On).then_some(())
    })
    .await;
    assert!(on.is_some());
    // `ipmitool chassis bootdev` is no oracle (it exits 0 on failure): read the state file.
    sim.ipmitool(&["chassis", "bootdev", "bios"]);
    assert_eq!(sim.state("boot").as_deref(), Some("bios"));
    assert_eq!(
        client.boot_flags().await.unwrap().device,
        BootDevice::BiosSetup
    );
    client.close().await.unwrap();
}

#[tokio::test]
async fn boot_device_is_set_and_read_back() {
    let Some(sim) = Sim::start("boot_device_is_set_and_read_back") else {
        return;
    };
    let client = IpmiClient::connect(&sim.config()).await.unwrap();
    // ipmi_sim's chassis script names the hard disk "default".
    let cases = [
        (BootDevice::Pxe, false, false, "pxe"),
        (BootDevice::Disk, true, false, "default"),
        (BootDevice::BiosSetup, false, true, "bios"),
        (BootDevice::Pxe, true, true, "pxe"),
        (BootDevice::Cdrom, false, false, "cdrom"),
    ];
    for (device, persistent, efi, file) in cases {
        client
            .set_boot_flags(BootFlags {
                device,
                persistent,
                efi,
            })
            .await
            .unwrap();
        assert_eq!(sim.state("boot").as_deref(), Some(file), "{device:?}");
        // ipmi_sim ignores the persistent and EFI flags: only the device is read back.
        assert_eq!(client.boot_flags().await.unwrap().device, device);
    }
    let bootparam = sim.ipmitool(&["chassis", "bootparam", "get", "5"]);
    assert!(bootparam.contains("CD/DVD"), "{bootparam}");
    client.close().await.unwrap();
}

#[tokio::test]
async fn wrong_credentials_are_unauthorized() {
    let Some(sim) = Sim::start("wrong_credentials_are_unauthorized") else {
        return;
    };
    let mut bad_password = sim.config();
    bad_password.password = "passwore".into();
    let err = IpmiClient::connect(&bad_password).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized, "{err}");
    assert!(!err.is_retryable());
    assert!(!format!("{err} {err:?} {bad_password:?}").contains("passwore"));

    let mut bad_user = sim.config();
    bad_user.username = "nobody".into();
    let err = IpmiClient::connect(&bad_user).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized, "{err}");

    // The operator controls power at operator privilege. (ipmi_sim would even grant it
    // administrator: it does not enforce the user's privilege limit.)
    let mut oper = sim.config();
    oper.username = "oper".into();
    oper.password = "operpass".into();
    let client = IpmiClient::connect(&oper.with_privilege(PrivilegeLevel::Operator))
        .await
        .unwrap();
    client.power(PowerAction::On).await.unwrap();
    client.close().await.unwrap();
    // The right credentials still work after the failures.
    IpmiClient::connect(&sim.config())
        .await
        .unwrap()
        .close()
        .await
        .unwrap();
}

#[tokio::test]
async fn user_privilege_session_gets_completion_code_for_chassis_control() {
    let Some(sim) = Sim::start("user_privilege_session_gets_completion_code_for_chassis_control")
    else {
        return;
    };
    let client = IpmiClient::connect(&sim.config().with_privilege(PrivilegeLevel::User))
        .await
        .unwrap();
    let err = client.power(PowerAction::On).await.unwrap_err();
    assert_eq!(
        err.completion_code(),
        Some(drydock_driver_ipmi::CompletionCode::InsufficientPrivilege),
        "{err}"
    );
    client.close().await.unwrap();
}

#[tokio::test]
async fn insecure_suites_need_opt_in() {
    let Some(sim) = Sim::start("insecure_suites_need_opt_in") else {
        return;
    };
    let err = IpmiClient::connect(&sim.config().with_cipher_suite(2))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    for suite in [0u8, 1, 2] {
        let config = sim
            .config()
            .with_cipher_suite(suite)
            .with_allow_insecure_cipher_suites(true);
        let client = IpmiClient::connect(&config).await.unwrap();
        assert_eq!(client.cipher_suite(), suite);
        sim.set_state("power", "1");
        assert_eq!(
            client.power_state().await.unwrap(),
            PowerState::On,
            "suite {suite}"
        );
        client.close().await.unwrap();
    }
    // ipmi_sim does not implement suite 17: forcing it is refused with a typed error.
    let err = IpmiClient::connect(&sim.config().with_cipher_suite(17))
        .await
        .unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::Unsupported | ErrorKind::Protocol),
        "{err}"
    );
}

#[tokio::test]
async fn dropped_clients_close_their_sessions() {
    let Some(sim) = Sim::start("dropped_clients_close_their_sessions") else {
        return;
    };
    // ipmi_sim holds at most 63 sessions (it does not enforce the per-user limit of 10): a
    // client leaking its session would make the 64th connect fail.
    for _ in 0..70 {
        let client = IpmiClient::connect(&sim.config()).await.unwrap();
        client.power_state().await.unwrap();
        drop(client);
    }
    for _ in 0..70 {
        IpmiClient::connect(&sim.config())
            .await
            .unwrap()
            .close()
            .await
            .unwrap();
    }
}
