//! End to end: the orchestrator with `MaasDriver` against the fake MAAS and the simulated OOB
//! driver prepares and deploys a 10-node site; every machine ends as its design asks, also
//! when the deployment is killed half-way and resumed by a new orchestrator.
#![cfg(feature = "fake")]

mod common;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use common::{design_text, driver, expect, fake_manual_clock};
use drydock_core::design::Source;
use drydock_core::orchestrator::{Orchestrator, OrchestratorConfig, RetryPolicy, Timeouts};
use drydock_core::sim::{SimConfig, SimWorld};
use drydock_core::store::{DesignId, MemoryStore, Store};
use drydock_core::task::{Action, ResultStatus, TaskStatus};
use drydock_driver_maas::MachineStatus;
use drydock_driver_maas::fake::FakeMaas;

const NODES: usize = 10;
/// Upper bound of the fake's clock ticks any single wait below may take.
const MAX_TICKS: u32 = 20_000;

fn orchestrator(
    fake: &FakeMaas,
    world: &SimWorld,
    store: Arc<dyn Store>,
    concurrency: usize,
) -> Orchestrator {
    let mut config = OrchestratorConfig::default();
    config.concurrency = concurrency;
    config.poll_interval = Duration::from_millis(10);
    config.timeouts = Timeouts::all(Duration::from_secs(60));
    config.retry = RetryPolicy {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        jitter: false,
    };
    Orchestrator::builder()
        .store(store)
        .oob_driver(Arc::new(world.oob_driver()))
        .node_driver(Arc::new(driver(fake)))
        .config(config)
        .build()
        .expect("orchestrator builds")
}

fn sim() -> SimWorld {
    SimWorld::new(SimConfig {
        latency: Duration::from_millis(1),
        ..SimConfig::default()
    })
}

/// Awaits `fut` while ticking the fake's clock, one tick per couple of milliseconds (bounded).
async fn ticking<F: Future>(fake: &FakeMaas, fut: F) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    for _ in 0..MAX_TICKS {
        tokio::select! {
            out = &mut fut => return out,
            () = tokio::time::sleep(Duration::from_millis(2)) => fake.tick(),
        }
    }
    panic!("not done after {MAX_TICKS} ticks of the fake's clock")
}

async fn run_ok(fake: &FakeMaas, orch: &Orchestrator, design: &DesignId, action: Action) {
    let task = orch.create_task(action, design, None, "e2e").await.unwrap();
    let done = ticking(fake, orch.run(task.id)).await.unwrap();
    assert_eq!(
        done.task.result.status,
        ResultStatus::Success,
        "{action}: {:#?}",
        done.task
    );
    if action != Action::PrepareSite {
        assert_eq!(done.task.result.successes.len(), NODES, "{action}");
    }
}

/// The system id of node `n{i:02}`'s machine (renamed by the driver when identified).
fn machine_of(fake: &FakeMaas, i: usize) -> String {
    let name = format!("n{i:02}");
    let found: Vec<_> = fake
        .machines()
        .into_iter()
        .filter(|m| m.hostname == name)
        .collect();
    assert_eq!(found.len(), 1, "{name}: {found:?}");
    found[0].system_id.clone()
}

fn deploy_requests(fake: &FakeMaas, sid: &str) -> u64 {
    fake.op_requests("POST", &format!("machines/{sid}/"), "deploy")
}

async fn assert_site_deployed_once(fake: &FakeMaas) {
    let c = fake.client();
    for i in 1..=NODES {
        let sid = machine_of(fake, i);
        expect::deployed_as_designed(&c, &sid, i).await;
        assert_eq!(deploy_requests(fake, &sid), 1, "n{i:02} ({sid}) deploys");
    }
}

async fn prepared_site(fake: &FakeMaas, orch: &Orchestrator) -> DesignId {
    let design = orch
        .put_design(&[Source::new("site.yaml", design_text(NODES))])
        .await
        .unwrap();
    run_ok(fake, orch, &design, Action::PrepareSite).await;
    run_ok(fake, orch, &design, Action::PrepareNodes).await;
    for m in fake.machines() {
        assert_eq!(m.status, MachineStatus::Ready, "{m:?} after PrepareNodes");
    }
    design
}

#[tokio::test]
async fn the_orchestrator_prepares_and_deploys_a_ten_node_site_through_maas() {
    let fake = fake_manual_clock(NODES).await;
    let world = sim();
    let orch = orchestrator(&fake, &world, Arc::new(MemoryStore::new()), 64);
    let design = prepared_site(&fake, &orch).await;
    run_ok(&fake, &orch, &design, Action::DeployNodes).await;
    assert_site_deployed_once(&fake).await;

    // Deploying again changes nothing in MAAS.
    let writes = fake.write_count();
    run_ok(&fake, &orch, &design, Action::DeployNodes).await;
    assert_eq!(fake.write_count(), writes, "a second DeployNodes wrote");
    assert_site_deployed_once(&fake).await;
}

#[tokio::test]
async fn a_deployment_killed_half_way_resumes_without_deploying_any_machine_twice() {
    let fake = fake_manual_clock(NODES).await;
    let world = sim();
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    // Few pipelines at once, so that machines finish deploying a few at a time.
    let orch = orchestrator(&fake, &world, store.clone(), 3);
    let design = prepared_site(&fake, &orch).await;
    let task = orch
        .create_task(Action::DeployNodes, &design, None, "e2e")
        .await
        .unwrap();

    // "Crash": the fake's clock stops once more than half the machines are Deployed or
    // Deploying, with at least one of them still Deploying, and the run is dropped there, as
    // when the process dies (the last machine's deployment at the latest meets this).
    let count = |s: MachineStatus| fake.machines().iter().filter(|m| m.status == s).count();
    {
        let mut run = std::pin::pin!(orch.run(task.id));
        let mut ticks = 0;
        loop {
            assert!(ticks < MAX_TICKS, "half the site never deployed");
            tokio::select! {
                out = &mut run => panic!("the run ended before the crash: {out:?}"),
                () = tokio::time::sleep(Duration::from_millis(2)) => {}
            }
            let deploying = count(MachineStatus::Deploying);
            if deploying > 0 && count(MachineStatus::Deployed) + deploying > NODES / 2 {
                break;
            }
            fake.tick();
            ticks += 1;
        }
    }
    drop(orch);
    let deployed = count(MachineStatus::Deployed);
    let deploying = count(MachineStatus::Deploying);
    assert!(deploying > 0 && deployed < NODES);
    eprintln!("crash: {deployed} Deployed, {deploying} Deploying");
    let crashed = store.get_task(task.id).await.unwrap().unwrap();
    assert!(!crashed.status.is_final(), "{:?}", crashed.status);

    // A new orchestrator on the same store and MAAS picks the task up.
    let restarted = orchestrator(&fake, &world, store.clone(), 3);
    let resumed = restarted.resume_all().await.unwrap();
    assert_eq!(resumed.len(), 1);
    let (id, handle) = resumed.into_iter().next().unwrap();
    assert_eq!(id, task.id);
    let done = ticking(&fake, handle).await.unwrap().unwrap();
    assert_eq!(done.task.status, TaskStatus::Complete);
    assert_eq!(
        done.task.result.status,
        ResultStatus::Success,
        "{:#?}",
        done.task
    );
    assert_eq!(done.task.result.successes.len(), NODES);
    assert!(done.steps_skipped > 0, "nothing journaled before the crash");
    assert_site_deployed_once(&fake).await;
}
