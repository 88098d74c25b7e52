//! Machine lifecycle on the fake's test-controlled clock, and fault injection, via the client.
#![cfg(feature = "fake")]

use drydock_driver_maas::fake::{Durations, FakeMaas, Fault, FaultAction, Outcome, Script};
use drydock_driver_maas::{
    AllocateOptions, DeployOptions, MaasError, MachineStatus as S, PowerState, ReleaseOptions,
};

fn durations() -> Durations {
    Durations {
        commissioning: 3,
        testing: 2,
        deploying: 4,
        releasing: 1,
        disk_erasing: 2,
        timeout: 10,
    }
}

async fn fake(n: usize) -> FakeMaas {
    FakeMaas::builder()
        .machines(n)
        .durations(durations())
        .start()
        .await
        .unwrap()
}

/// A fake with one machine, commissioned (Ready), and its system id.
async fn commissioned() -> (FakeMaas, String) {
    let fake = fake(1).await;
    let sid = fake.machine_ids()[0].clone();
    fake.client()
        .machines()
        .commission(&sid, &Default::default())
        .await
        .unwrap();
    fake.advance(5);
    (fake, sid)
}

#[tokio::test]
async fn commission_reaches_ready_only_as_the_clock_advances() {
    let fake = fake(1).await;
    let c = fake.client();
    let sid = fake.machine_ids()[0].clone();
    let m = c
        .machines()
        .commission(&sid, &Default::default())
        .await
        .unwrap();
    assert_eq!(
        m.status,
        S::Commissioning,
        "the answer already shows Commissioning"
    );
    assert_eq!(m.power_state, PowerState::On);
    fake.advance(2);
    assert_eq!(
        c.machines().get(&sid).await.unwrap().status,
        S::Commissioning
    );
    fake.tick();
    assert_eq!(c.machines().get(&sid).await.unwrap().status, S::Testing);
    fake.advance(2);
    let m = c.machines().get(&sid).await.unwrap();
    assert_eq!(m.status, S::Ready);
    assert_eq!(m.status_name, "Ready");
    assert_eq!(m.power_state, PowerState::Off);
    let results = c.commissioning_results(&sid, Some(0)).await.unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].script_result, 0);
    assert!(results[0].output().is_some_and(|o| !o.is_empty()));
}

#[tokio::test]
async fn allocate_deploy_release_follow_the_table() {
    let (fake, sid) = commissioned().await;
    let c = fake.client();
    let opts = AllocateOptions {
        system_id: Some(sid.clone()),
        ..Default::default()
    };
    let m = c.machines().allocate(&opts).await.unwrap();
    assert_eq!(
        (m.status, m.owner.as_deref()),
        (S::Allocated, Some("admin"))
    );
    let annotations = [("drydock".to_owned(), "site1".to_owned())].into();
    c.machines()
        .set_workload_annotations(&sid, &annotations)
        .await
        .unwrap();
    let deploy = DeployOptions {
        distro_series: Some("ubuntu/jammy".into()),
        user_data: Some("I2Nsb3VkLWNvbmZpZw==".into()),
        ..Default::default()
    };
    let m = c.machines().deploy(&sid, &deploy).await.unwrap();
    assert_eq!(m.status, S::Deploying);
    assert_eq!(m.workload_annotations["drydock"], "site1");
    assert_eq!(
        fake.machine_user_data(&sid).as_deref(),
        Some("I2Nsb3VkLWNvbmZpZw==")
    );
    fake.advance(3);
    assert_eq!(fake.machine_status(&sid), Some(S::Deploying));
    fake.tick();
    let m = c.machines().get(&sid).await.unwrap();
    assert_eq!((m.status, m.distro_series.as_str()), (S::Deployed, "jammy"));
    // Powered on ⇒ Releasing until power-off is confirmed.
    let m = c
        .machines()
        .release(&sid, &ReleaseOptions::default())
        .await
        .unwrap();
    assert_eq!(m.status, S::Releasing);
    fake.tick();
    let m = c.machines().get(&sid).await.unwrap();
    assert_eq!((m.status, m.owner), (S::Ready, None));
    assert_eq!(
        fake.machine_user_data(&sid),
        None,
        "released with its machine"
    );
}

#[tokio::test]
async fn deploy_takes_user_data_as_sent_like_maas() {
    // MAAS hands `user_data` to the machine as received, without decoding it: raw text and
    // line-wrapped base64 are both accepted.
    for user_data in [
        "#cloud-config: not base64 {key: s3cr3t}",
        "I2Nsb3VkLWNvbmZpZwpydW5jbWQ6IFtlY2hvIG9uZSwgZWNobyB0d28sIGVjaG8gdGhyZWUsIGVj\naG8K\n",
    ] {
        let (fake, sid) = commissioned().await;
        let c = fake.client();
        let deploy = DeployOptions {
            user_data: Some(user_data.into()),
            ..Default::default()
        };
        let m = c.machines().deploy(&sid, &deploy).await.unwrap();
        assert_eq!(m.status, S::Deploying);
        assert_eq!(fake.machine_user_data(&sid).as_deref(), Some(user_data));
    }
}

#[tokio::test]
async fn invalid_transitions_are_409_with_maas_text() {
    let fake = fake(1).await;
    let c = fake.client();
    let sid = fake.machine_ids()[0].clone();
    let err = c
        .machines()
        .deploy(&sid, &Default::default())
        .await
        .unwrap_err();
    match &err {
        MaasError::InvalidTransition { body, .. } => {
            assert_eq!(body, "Can't deploy a machine that is in the 'New' state")
        }
        other => panic!("{other:?}"),
    }
    let err = c
        .machines()
        .release(&sid, &Default::default())
        .await
        .unwrap_err();
    assert_eq!(
        err.body(),
        Some("Machine cannot be released in its current state ('New').")
    );
    // Commission → Ready → allocate → deploy → Deployed, then commission is forbidden.
    c.machines()
        .commission(&sid, &Default::default())
        .await
        .unwrap();
    fake.advance(5);
    c.machines()
        .deploy(&sid, &Default::default())
        .await
        .unwrap();
    fake.advance(4);
    let err = c
        .machines()
        .commission(&sid, &Default::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, MaasError::InvalidTransition { .. }),
        "{err:?}"
    );
    assert_eq!(
        err.body(),
        Some("Invalid transition: Deployed -> Commissioning.")
    );
    assert!(!err.is_retryable());
    assert_eq!(
        fake.machine_status(&sid),
        Some(S::Deployed),
        "a refused op changes nothing"
    );
    let opts = AllocateOptions {
        system_id: Some(sid.clone()),
        ..Default::default()
    };
    let err = c.machines().allocate(&opts).await.unwrap_err();
    assert_eq!(
        err.body(),
        Some(format!("No machine with system ID {sid} available.").as_str())
    );
}

#[tokio::test]
async fn scripted_failures_and_hangs_end_in_failed_states() {
    let fake = fake(2).await;
    let c = fake.client();
    let ids = fake.machine_ids();
    fake.script(
        &ids[0],
        Script {
            commissioning: Outcome::Fail,
            ..Default::default()
        },
    );
    c.machines()
        .commission(&ids[0], &Default::default())
        .await
        .unwrap();
    fake.advance(3);
    let m = c.machines().get(&ids[0]).await.unwrap();
    assert_eq!(m.status, S::FailedCommissioning);
    assert!(m.status.is_failed() && m.status.is_settled());

    c.machines()
        .commission(&ids[1], &Default::default())
        .await
        .unwrap();
    fake.advance(5);
    fake.script(
        &ids[1],
        Script {
            deploying: Outcome::Hang,
            ..Default::default()
        },
    );
    c.machines()
        .deploy(&ids[1], &Default::default())
        .await
        .unwrap();
    fake.advance(9);
    assert_eq!(
        fake.machine_status(&ids[1]),
        Some(S::Deploying),
        "slow deployment still running"
    );
    fake.tick();
    let m = c.machines().get(&ids[1]).await.unwrap();
    assert_eq!(m.status, S::FailedDeployment);
    assert!(
        m.status_message.contains("timed out"),
        "{}",
        m.status_message
    );
    // A failed deployment can be released (erase ⇒ Disk erasing → Releasing → Ready).
    let m = c
        .machines()
        .release(
            &ids[1],
            &ReleaseOptions {
                erase: true,
                quick_erase: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(m.status, S::DiskErasing);
    fake.advance(2);
    assert_eq!(fake.machine_status(&ids[1]), Some(S::Releasing));
    fake.tick();
    assert_eq!(fake.machine_status(&ids[1]), Some(S::Ready));
}

#[tokio::test]
async fn a_503_with_retry_after_is_retried_to_success() {
    let fake = fake(1).await;
    let c = fake.client();
    fake.inject(
        Fault::on("GET", "machines/", None)
            .action(FaultAction::Unavailable {
                retry_after: Some(10),
            })
            .times(2),
    );
    let before = fake.request_count();
    let list = c.machines().list(&Default::default()).await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(fake.request_count() - before, 3, "two 503s then success");
}

#[tokio::test]
async fn a_transient_409_on_a_post_is_retried_and_applied_once() {
    let fake = fake(1).await;
    let c = fake.client();
    fake.inject(
        Fault::on("POST", "tags/", None).action(FaultAction::TransientConflict { retry_after: 5 }),
    );
    let spec = drydock_driver_maas::TagSpec {
        name: "gpu".into(),
        ..Default::default()
    };
    c.tags().create(&spec).await.unwrap();
    assert_eq!(c.tags().list().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_504_after_an_applied_write_is_not_retried() {
    let (fake, sid) = commissioned().await;
    let c = fake.client();
    fake.inject(
        Fault::on("POST", "machines/", Some("allocate"))
            .action(FaultAction::GatewayTimeoutAfterWrite),
    );
    let before = fake.request_count();
    let opts = AllocateOptions {
        system_id: Some(sid.clone()),
        ..Default::default()
    };
    let err = c.machines().allocate(&opts).await.unwrap_err();
    assert!(
        matches!(err, MaasError::Unavailable { status: 504, .. }),
        "{err:?}"
    );
    assert!(err.outcome_unknown());
    assert_eq!(fake.request_count() - before, 1, "the POST was sent once");
    // The write was applied: re-reading shows the machine allocated to us.
    let m = c.machines().get(&sid).await.unwrap();
    assert_eq!(
        (m.status, m.owner.as_deref()),
        (S::Allocated, Some("admin"))
    );
}

#[tokio::test]
async fn dropped_connections_surface_as_transport_errors() {
    let (fake, sid) = commissioned().await;
    let c = fake.client();
    fake.inject(Fault::on("POST", "machines/", Some("deploy")).action(FaultAction::DropAfterWrite));
    let err = c
        .machines()
        .deploy(&sid, &Default::default())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            MaasError::Transport {
                maybe_sent: true,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.outcome_unknown());
    assert_eq!(
        fake.machine_status(&sid),
        Some(S::Deploying),
        "applied before the drop"
    );

    // A GET whose connection drops before anything is applied is retried.
    fake.inject(Fault::on("GET", "machines/", None).action(FaultAction::DropConnection));
    let fast = drydock_driver_maas::MaasClient::builder(fake.url(), fake.api_key().clone())
        .max_retry_wait(std::time::Duration::ZERO)
        .build()
        .unwrap();
    assert_eq!(
        fast.machines().get(&sid).await.unwrap().status,
        S::Deploying
    );
}

#[tokio::test]
async fn a_slow_answer_hits_the_read_timeout() {
    let fake = fake(1).await;
    fake.inject(
        Fault::on("GET", "version/", None)
            .action(FaultAction::Delay(std::time::Duration::from_secs(5))),
    );
    let c = drydock_driver_maas::MaasClient::builder(fake.url(), fake.api_key().clone())
        .read_timeout(std::time::Duration::from_millis(100))
        .max_retries(0)
        .build()
        .unwrap();
    let err = c.version().await.unwrap_err();
    assert!(matches!(err, MaasError::Timeout { .. }), "{err:?}");
}
