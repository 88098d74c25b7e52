//! MaasDriver node operations against the fake: identify, commission, networking, storage,
//! platform, deploy, destroy, failures and faults.
#![cfg(feature = "fake")]

mod common;

use std::time::Duration;

use common::{design, driver, expect, fake, job, site};
use drydock_core::driver::{DriverErrorKind, Identification, NodeDriver};
use drydock_driver_maas::fake::{Durations, Fault, FaultAction, Outcome, Script};
use drydock_driver_maas::{MaasDriver, MachineStatus as S};

async fn identified(
    d: &MaasDriver,
    design: &drydock_core::design::CompiledDesign,
    n: &str,
) -> String {
    match d.identify_node(job(design, n)).await.unwrap() {
        Identification::Known { provisioner_id } => provisioner_id,
        Identification::Unknown => panic!("{n} unknown"),
    }
}

#[tokio::test]
async fn a_node_goes_from_new_to_deployed_as_designed_and_every_step_repeats_as_a_no_op() {
    let fake = fake(3).await;
    let d = driver(&fake);
    let design = design(4);
    d.create_network_template(site(&design)).await.unwrap();
    assert_eq!(
        d.identify_node(job(&design, "n04")).await.unwrap(),
        Identification::Unknown
    );
    let sid = identified(&d, &design, "n02").await;
    let c = fake.client();
    let m = c.machines().get(&sid).await.unwrap();
    assert_eq!(m.hostname, "n02");
    assert_eq!(m.status, S::New);

    let n = job(&design, "n02");
    d.configure_hardware(n).await.unwrap();
    assert_eq!(fake.machine_status(&sid), Some(S::Ready));
    assert!(!d.interrogate_node(n).await.unwrap().is_empty());
    d.apply_networking(n).await.unwrap();
    d.apply_storage(n).await.unwrap();
    d.apply_platform(n).await.unwrap();

    // Everything again: no writes.
    let writes = fake.write_count();
    assert_eq!(identified(&d, &design, "n02").await, sid);
    d.configure_hardware(n).await.unwrap();
    d.apply_networking(n).await.unwrap();
    d.apply_storage(n).await.unwrap();
    d.apply_platform(n).await.unwrap();
    assert_eq!(fake.write_count(), writes, "repeated steps wrote");

    // Interfaces, storage, platform: as designed.
    expect::networking(&c, &sid, 2).await;
    expect::storage(&c, &sid).await;
    expect::platform(&c, &sid, 2).await;

    // Deploy.
    d.deploy(n).await.unwrap();
    expect::deployed(&c, &sid).await;
    let writes = fake.write_count();
    d.deploy(n).await.unwrap();
    d.configure_hardware(n).await.unwrap();
    d.apply_networking(n).await.unwrap();
    d.apply_storage(n).await.unwrap();
    d.apply_platform(n).await.unwrap();
    assert_eq!(fake.write_count(), writes, "steps on a Deployed node wrote");
    assert_eq!(
        fake.op_requests("POST", &format!("machines/{sid}/"), "deploy"),
        1
    );

    // Destroy.
    d.destroy(n).await.unwrap();
    assert_eq!(fake.machine_status(&sid), None);
    assert!(c.tags().get("n02_kp").await.is_err());
    d.destroy(n).await.unwrap();
    assert_eq!(d.identify_node(n).await.unwrap(), Identification::Unknown);
}

#[tokio::test]
async fn boot_mac_identifies_nodes_without_a_bmc_and_changed_design_is_reconciled() {
    let fake = fake(1).await;
    let d = driver(&fake);
    let mut design = design(1);
    d.create_network_template(site(&design)).await.unwrap();
    let sid = fake.machine_ids()[0].clone();
    let mac = fake
        .client()
        .machines()
        .get(&sid)
        .await
        .unwrap()
        .boot_mac()
        .unwrap()
        .to_owned();
    {
        let node = design.nodes.get_mut("n01").unwrap();
        std::sync::Arc::make_mut(&mut node.oob).kind = Some(drydock_core::design::OobType::Manual);
        node.boot_mac = Some(mac.to_ascii_uppercase());
    }
    assert_eq!(identified(&d, &design, "n01").await, sid);
    let n = job(&design, "n01");
    d.configure_hardware(n).await.unwrap();
    d.apply_platform(n).await.unwrap();
    // New kernel parameters: the tag is replaced and re-applied.
    std::sync::Arc::make_mut(&mut design.nodes.get_mut("n01").unwrap().platform)
        .kernel_params
        .insert(
            "nosmt".into(),
            drydock_core::design::KernelParam::Flag(true),
        );
    d.apply_platform(job(&design, "n01")).await.unwrap();
    let c = fake.client();
    assert_eq!(
        c.tags().get("n01_kp").await.unwrap().kernel_opts,
        "console=ttyS1,115200 quiet nosmt"
    );
    assert!(
        c.machines()
            .get(&sid)
            .await
            .unwrap()
            .tag_names
            .contains(&"n01_kp".to_owned())
    );
}

#[tokio::test]
async fn failed_commissioning_and_deployment_are_permanent_with_maas_reason() {
    let fake = fake(2).await;
    let d = driver(&fake);
    let design = design(2);
    d.create_network_template(site(&design)).await.unwrap();
    let s1 = identified(&d, &design, "n01").await;
    fake.script(
        &s1,
        Script {
            commissioning: Outcome::Fail,
            ..Script::default()
        },
    );
    let e = d.configure_hardware(job(&design, "n01")).await.unwrap_err();
    assert_eq!(e.kind, DriverErrorKind::Permanent, "{e}");
    assert!(e.message.contains("Failed commissioning"), "{e}");
    assert!(e.message.contains("00-maas-01-cpuinfo"), "{e}");

    let s2 = identified(&d, &design, "n02").await;
    fake.script(
        &s2,
        Script {
            deploying: Outcome::Fail,
            ..Script::default()
        },
    );
    let n = job(&design, "n02");
    d.configure_hardware(n).await.unwrap();
    let e = d.deploy(n).await.unwrap_err();
    assert_eq!(e.kind, DriverErrorKind::Permanent, "{e}");
    assert!(
        e.message.contains("Failed deployment") && e.message.contains("curtin"),
        "{e}"
    );
    // Deploying again without a release is refused with the reason, not retried blindly.
    let e = d.deploy(n).await.unwrap_err();
    assert_eq!(e.kind, DriverErrorKind::Permanent);
    // Networking releases the failed deployment (Drydock's "Failed Dep" check never did).
    fake.script(&s2, Script::default());
    d.apply_networking(n).await.unwrap();
    assert_eq!(fake.machine_status(&s2), Some(S::Ready));
    d.deploy(n).await.unwrap();
    assert_eq!(fake.machine_status(&s2), Some(S::Deployed));
}

#[tokio::test]
async fn waits_end_at_the_deadline_and_faults_are_retried_or_transient() {
    let fake = fake(1).await;
    let design = design(1);
    let config =
        common::config(fake.url(), fake.api_key().clone()).deadlines(Duration::from_millis(40));
    let d = MaasDriver::new(config).unwrap();
    let sid = identified(&d, &design, "n01").await;
    fake.set_durations(Durations {
        commissioning: 1000,
        ..Durations::default()
    });
    let e = d.configure_hardware(job(&design, "n01")).await.unwrap_err();
    assert_eq!(e.kind, DriverErrorKind::TimedOut, "{e}");
    assert_eq!(fake.machine_status(&sid), Some(S::Commissioning));

    let d = driver(&fake);
    fake.set_durations(Durations::default());
    // 503s with Retry-After are retried by the client.
    fake.inject(Fault::on("GET", "machines/", None).times(2));
    assert_eq!(identified(&d, &design, "n01").await, sid);
    // 503 without Retry-After on every read: Transient once retries are spent.
    fake.inject(
        Fault::on("GET", "machines/", None)
            .action(FaultAction::Unavailable { retry_after: None })
            .times(1000),
    );
    let fresh = driver(&fake);
    let e = fresh.identify_node(job(&design, "n01")).await.unwrap_err();
    assert_eq!(e.kind, DriverErrorKind::Transient, "{e}");
}

#[tokio::test]
async fn an_ambiguous_deploy_is_not_repeated() {
    let fake = fake(1).await;
    let d = driver(&fake);
    let design = design(1);
    d.create_network_template(site(&design)).await.unwrap();
    let sid = identified(&d, &design, "n01").await;
    let n = job(&design, "n01");
    d.configure_hardware(n).await.unwrap();
    fake.inject(
        Fault::on("POST", &format!("machines/{sid}/"), Some("deploy"))
            .action(FaultAction::GatewayTimeoutAfterWrite),
    );
    d.deploy(n).await.unwrap();
    assert_eq!(fake.machine_status(&sid), Some(S::Deployed));
    let deploys = fake
        .client()
        .commissioning_results(&sid, Some(1))
        .await
        .unwrap()
        .len();
    assert_eq!(deploys, 1, "one deployment ran");
}

#[tokio::test]
async fn destroy_with_erase_waits_for_the_release_before_deleting() {
    let fake = fake(1).await;
    let design = design(1);
    let config = common::config(fake.url(), fake.api_key().clone()).erase_on_destroy(true);
    let d = MaasDriver::new(config).unwrap();
    d.create_network_template(site(&design)).await.unwrap();
    let sid = identified(&d, &design, "n01").await;
    let n = job(&design, "n01");
    d.configure_hardware(n).await.unwrap();
    d.deploy(n).await.unwrap();
    d.destroy(n).await.unwrap();
    assert_eq!(fake.machine_status(&sid), None);
}
