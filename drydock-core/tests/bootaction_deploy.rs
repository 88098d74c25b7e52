//! DeployNodes with boot actions over the simulated drivers: the BootactionReport step waits
//! for the nodes' reports; a failure or silence (until `bootaction_final_status`) fails the node.

use std::sync::Arc;
use std::time::Duration;

use drydock_core::bootaction::{BootActionStatus, ReportStatus};
use drydock_core::design::Source;
use drydock_core::orchestrator::{Orchestrator, OrchestratorConfig, Timeouts};
use drydock_core::sim::{SimBootAction, SimConfig, SimWorld};
use drydock_core::store::{DesignId, MemoryStore, Step, StepOutcome, Store};
use drydock_core::task::{Action, ResultStatus, Task};

/// Nodes n1, n2 (tagged `signal`) and n3; boot action `hello` (signalling) applies to the
/// tagged nodes, `quiet` (not signalling) to every node.
/// The design is valid (node actions refuse an invalid one).
const SITE: &str = r#"
schema: drydock/Network/v1
metadata: {name: oob}
data: {cidr: 10.0.0.0/24}
---
schema: drydock/NetworkLink/v1
metadata: {name: oob}
data: {allowed_networks: [oob], trunking: {mode: disabled, default_network: oob}}
---
schema: drydock/HostProfile/v1
metadata: {name: base}
data:
  oob: {type: ipmi, network: oob, account: admin, credential: pw}
  interfaces:
    eth0: {device_link: oob, networks: [oob]}
  storage:
    physical_devices:
      sda:
        partitions:
          - {name: root, size: 30g, filesystem: {mountpoint: /}}
---
schema: drydock/BaremetalNode/v1
metadata: {name: n1}
data: {host_profile: base, addressing: [{network: oob, address: 10.0.0.11}], metadata: {tags: [signal]}}
---
schema: drydock/BaremetalNode/v1
metadata: {name: n2}
data: {host_profile: base, addressing: [{network: oob, address: 10.0.0.12}], metadata: {tags: [signal]}}
---
schema: drydock/BaremetalNode/v1
metadata: {name: n3}
data: {host_profile: base, addressing: [{network: oob, address: 10.0.0.13}]}
---
schema: drydock/BootAction/v1
metadata: {name: hello}
data:
  node_filter:
    filter_set_type: union
    filter_set: [{filter_type: union, node_tags: [signal]}]
  assets:
    - {type: file, path: /var/tmp/hello.sh, permissions: '555', data: "echo {{ node.hostname }}", data_pipeline: [utf8_decode, template]}
---
schema: drydock/BootAction/v1
metadata: {name: quiet}
data:
  signaling: false
  assets:
    - {type: unit, path: /etc/systemd/system/quiet.service, data: "[Unit]"}
"#;

struct Fixture {
    world: SimWorld,
    store: Arc<MemoryStore>,
    orch: Orchestrator,
    design: DesignId,
}

async fn fixture(cfg: OrchestratorConfig) -> Fixture {
    let world = SimWorld::new(SimConfig {
        preenlisted: true,
        ..SimConfig::default()
    });
    let store = Arc::new(MemoryStore::new());
    let orch = Orchestrator::builder()
        .store(store.clone())
        .oob_driver(Arc::new(world.oob_driver()))
        .node_driver(Arc::new(world.node_driver()))
        .config(cfg)
        .build()
        .unwrap();
    // The simulated nodes report through the orchestrator's boot action API.
    world.report_bootactions(orch.bootactions());
    let design = orch
        .put_design(&[Source::new("site.yaml", SITE)])
        .await
        .unwrap();
    let prep = orch
        .create_task(Action::PrepareNodes, &design, None, "test")
        .await
        .unwrap();
    let done = orch.run(prep.id).await.unwrap();
    assert_eq!(done.task.result.status, ResultStatus::Success);
    Fixture {
        world,
        store,
        orch,
        design,
    }
}

async fn deploy(f: &Fixture) -> Task {
    let task = f
        .orch
        .create_task(Action::DeployNodes, &f.design, None, "test")
        .await
        .unwrap();
    f.orch.run(task.id).await.unwrap().task
}

fn texts(task: &Task) -> Vec<(String, bool)> {
    task.result
        .messages
        .iter()
        .map(|m| (m.message.clone(), m.is_error()))
        .collect()
}

fn has(task: &Task, text: &str, error: bool) -> bool {
    texts(task).contains(&(text.to_owned(), error))
}

/// An error message containing `text` (the step's failure, as the journal words it).
fn has_error(task: &Task, text: &str) -> bool {
    texts(task).iter().any(|(m, e)| *e && m.contains(text))
}

async fn report_steps(f: &Fixture, task: &Task) -> Vec<(String, bool)> {
    f.store
        .journal(task.id)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.step == Step::BootactionReport)
        .map(|e| (e.node.unwrap(), e.outcome == StepOutcome::Succeeded))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn deployed_nodes_report_success() {
    let f = fixture(OrchestratorConfig::default()).await;
    let task = deploy(&f).await;
    assert_eq!(
        task.result.status,
        ResultStatus::Success,
        "{:?}",
        texts(&task)
    );
    assert_eq!(task.result.successes.len(), 3);
    assert!(has(
        &task,
        "Boot action hello on node n1 completed with status success",
        false
    ));
    assert!(has(
        &task,
        "Boot action hello on node n2 completed with status success",
        false
    ));
    // The reports' details are task messages too.
    assert!(has(&task, "Bootaction starting execution.", false));
    let mut steps = report_steps(&f, &task).await;
    steps.sort();
    assert_eq!(
        steps,
        [("n1".to_owned(), true), ("n2".to_owned(), true)],
        "n3 has no signalling action: no BootactionReport step"
    );
    let n3 = f.orch.bootactions().records_for_node("n3").await.unwrap();
    assert_eq!(
        n3.len(),
        1,
        "a non-signalling action still gets an id and key"
    );
    assert_eq!(n3[0].status, BootActionStatus::Unreported);
    let n1 = f.orch.bootactions().records_for_node("n1").await.unwrap();
    let status: Vec<_> = n1
        .iter()
        .map(|r| (r.action_name.as_str(), r.status))
        .collect();
    assert_eq!(
        status,
        [
            ("hello", BootActionStatus::Success),
            ("quiet", BootActionStatus::Unreported)
        ]
    );
    // The embedder's asset endpoint serves the node its files with its key.
    let key = n1[0].identity_key.to_hex();
    let tar = f
        .orch
        .bootaction_tarball(
            "n1",
            drydock_core::design::AssetType::File,
            Some(&key),
            None,
        )
        .await
        .unwrap();
    assert!(!tar.is_empty());
    let e = f
        .orch
        .bootaction_tarball("n1", drydock_core::design::AssetType::File, None, None)
        .await
        .unwrap_err();
    assert_eq!(e.http_status(), 401);
}

#[tokio::test(start_paused = true)]
async fn a_failed_boot_action_fails_its_node_only() {
    let f = fixture(OrchestratorConfig::default()).await;
    f.world.set_bootaction_outcome("n2", SimBootAction::Failure);
    let task = deploy(&f).await;
    assert_eq!(task.result.status, ResultStatus::PartialSuccess);
    assert_eq!(task.result.failures, ["n2"]);
    let mut ok = task.result.successes.clone();
    ok.sort();
    assert_eq!(ok, ["n1", "n3"]);
    assert!(has(
        &task,
        "Boot action hello on node n2 completed with status failure",
        true
    ));
    assert!(has_error(&task, "boot actions on node n2: hello failed"));
    assert!(has(&task, "Bootaction failed (simulated).", true));
    assert_eq!(
        f.world.machine("n2").unwrap().deploys,
        1,
        "the node itself deployed"
    );
}

#[tokio::test(start_paused = true)]
async fn a_silent_node_times_out_after_bootaction_final_status() {
    let f = fixture(OrchestratorConfig::default()).await;
    assert_eq!(
        Timeouts::default().bootaction_final_status,
        Duration::from_secs(15 * 60)
    );
    f.world.set_bootaction_outcome("n2", SimBootAction::Silent);
    let start = tokio::time::Instant::now();
    let task = deploy(&f).await;
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_secs(15 * 60) && waited < Duration::from_secs(16 * 60),
        "waited {waited:?}"
    );
    assert_eq!(task.result.status, ResultStatus::PartialSuccess);
    assert_eq!(task.result.failures, ["n2"]);
    assert!(has(&task, "Boot action hello on node n2 timed out.", true));
    assert!(has_error(&task, "boot actions on node n2: hello timed out"));

    // A late report, then a retry: the retry reuses the task's records (same id and key) and
    // finds the final status; Deploy is not repeated.
    let records = f.orch.bootactions().records_for_node("n2").await.unwrap();
    let hello = records.iter().find(|r| r.action_name == "hello").unwrap();
    f.orch
        .bootactions()
        .report(
            hello.action_id,
            Some(&hello.identity_key.to_hex()),
            ReportStatus::Success,
            &[],
        )
        .await
        .unwrap();
    let retried = f.orch.retry(task.id).await.unwrap();
    assert_eq!(retried.task.result.status, ResultStatus::Success);
    assert_eq!(
        f.orch
            .bootactions()
            .records_for_node("n2")
            .await
            .unwrap()
            .len(),
        2,
        "no new records on retry"
    );
    assert_eq!(f.world.machine("n2").unwrap().deploys, 1);
}

#[tokio::test(start_paused = true)]
async fn without_a_reporter_signalling_nodes_fail_at_the_configured_deadline() {
    let mut cfg = OrchestratorConfig::default();
    cfg.timeouts.bootaction_final_status = Duration::from_secs(60);
    let world = SimWorld::new(SimConfig {
        preenlisted: true,
        bootaction_outcome: SimBootAction::Success,
        ..SimConfig::default()
    });
    let store = Arc::new(MemoryStore::new());
    let orch = Orchestrator::builder()
        .store(store)
        .oob_driver(Arc::new(world.oob_driver()))
        .node_driver(Arc::new(world.node_driver()))
        .config(cfg)
        .build()
        .unwrap();
    let design = orch
        .put_design(&[Source::new("site.yaml", SITE)])
        .await
        .unwrap();
    for action in [Action::PrepareNodes, Action::DeployNodes] {
        let task = orch.create_task(action, &design, None, "t").await.unwrap();
        let start = tokio::time::Instant::now();
        let done = orch.run(task.id).await.unwrap().task;
        if action == Action::DeployNodes {
            assert!(start.elapsed() >= Duration::from_secs(60));
            assert!(start.elapsed() < Duration::from_secs(90));
            let mut failed = done.result.failures.clone();
            failed.sort();
            assert_eq!(failed, ["n1", "n2"]);
            assert_eq!(done.result.successes, ["n3"]);
        }
    }
}
