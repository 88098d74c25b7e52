//! Progress events a consumer can count on: every planned step comes back once, a slow
//! subscriber is told what it missed, and every run ends with a last event — also when the
//! store fails under it or a driver panics, after which the task resumes with nothing lost.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use drydock_core::driver::Operation;
use drydock_core::orchestrator::{Event, OrchestratorError};
use drydock_core::sim::{SimConfig, SimWorld};
use drydock_core::store::{MemoryStore, StepOutcome, Store};
use drydock_core::task::{Action, ResultStatus, TaskId, TaskStatus};
use drydock_core::testing::FaultyStore;
use futures::StreamExt;

mod common;

use common::*;

/// What a consumer counts from a task's events.
#[derive(Debug, Default)]
struct Tally {
    planned: usize,
    journaled: usize,
    finished: usize,
    skipped: BTreeMap<String, usize>,
    lagged: u64,
    last: Option<Event>,
    received: usize,
}

impl Tally {
    fn accounted(&self) -> usize {
        self.finished + self.skipped.values().sum::<usize>()
    }
}

async fn tally(mut events: futures::stream::BoxStream<'static, Event>) -> Tally {
    let mut t = Tally::default();
    while let Some(e) = events.next().await {
        t.received += 1;
        match &e {
            Event::Planned {
                steps, journaled, ..
            } => {
                t.planned = *steps;
                t.journaled = *journaled;
            }
            Event::StepFinished { .. } => t.finished += 1,
            Event::StepSkipped { reason, .. } => {
                *t.skipped.entry(format!("{reason:?}")).or_default() += 1
            }
            Event::Lagged { missed, .. } => t.lagged += missed,
            _ => {}
        }
        t.last = Some(e);
    }
    t
}

async fn run_counted(f: &Fixture, action: Action) -> (Tally, TaskId) {
    let task = f.task(action, None).await;
    let events = f.orch.subscribe(task.id);
    let counting = tokio::spawn(tally(events));
    f.orch.run(task.id).await.unwrap();
    (counting.await.unwrap(), task.id)
}

#[tokio::test(start_paused = true)]
async fn counts_add_up_on_known_nodes_a_fresh_deploy_and_a_failing_node() {
    let f = fixture(3, preenlisted(), config()).await;
    // PrepareNodes on nodes the provisioner knows: 3 of the 6 steps are not needed.
    let (prep, _) = run_counted(&f, Action::PrepareNodes).await;
    assert_eq!(prep.planned, 18);
    assert_eq!(prep.accounted(), 18, "{prep:?}");
    assert_eq!(prep.skipped.get("NotNeeded"), Some(&9), "{prep:?}");
    assert!(matches!(prep.last, Some(Event::Finished { .. })));

    f.world
        .fail_permanently("n01", Operation::ApplyStorage, "no disk");
    let (deploy, _) = run_counted(&f, Action::DeployNodes).await;
    assert_eq!(deploy.planned, 12);
    // n01 fails its second step: its last two come back abandoned.
    assert_eq!(deploy.finished, 10, "{deploy:?}");
    assert_eq!(deploy.skipped.get("Abandoned"), Some(&2), "{deploy:?}");
    assert_eq!(deploy.accounted(), deploy.planned);

    // Site actions plan their steps too.
    let (site, _) = run_counted(&f, Action::PrepareSite).await;
    assert_eq!((site.planned, site.accounted()), (3, 3), "{site:?}");
}

#[tokio::test(start_paused = true)]
async fn counts_add_up_on_a_resumed_run() {
    let sim = SimConfig {
        preenlisted: true,
        latency: Duration::from_secs(1),
        ..SimConfig::default()
    };
    let mut cfg = config();
    cfg.concurrency = 2;
    let f = fixture(4, sim, cfg).await;
    f.run(Action::PrepareNodes, None).await;
    let task = f.task(Action::DeployNodes, None).await;
    // A crash: the run is dropped mid-way.
    let crashed = tokio::time::timeout(Duration::from_millis(4500), f.orch.run(task.id)).await;
    assert!(crashed.is_err());
    let journaled = f.store.journal(task.id).await.unwrap().len();
    assert!(journaled > 0 && journaled < 16);
    let events = f.orch.subscribe(task.id);
    let counting = tokio::spawn(tally(events));
    let done = f.orch.run(task.id).await.unwrap();
    let t = counting.await.unwrap();
    assert_eq!(done.task.result.status, ResultStatus::Success);
    assert_eq!(t.planned, 16);
    assert_eq!(t.journaled, journaled);
    assert_eq!(t.skipped.get("Journaled"), Some(&journaled), "{t:?}");
    assert_eq!(t.accounted(), 16, "{t:?}");
}

#[tokio::test(start_paused = true)]
async fn a_slow_subscriber_is_told_how_many_events_it_missed() {
    let sim = SimConfig {
        preenlisted: true,
        latency: Duration::from_millis(5),
        ..SimConfig::default()
    };
    let mut cfg = config();
    cfg.event_capacity = 64;
    let f = fixture(12, sim, cfg).await;
    f.run(Action::PrepareNodes, None).await;
    let task = f.task(Action::DeployNodes, None).await;
    let fast = tokio::spawn(tally(f.orch.subscribe(task.id)));
    // The slow one reads nothing until the task has ended.
    let slow = f.orch.subscribe(task.id);
    let done = f.orch.run(task.id).await.unwrap();
    assert_eq!(done.task.result.status, ResultStatus::Success);
    let fast = fast.await.unwrap();
    let slow = tally(slow).await;
    assert_eq!(fast.lagged, 0, "the fast subscriber keeps up");
    assert_eq!(fast.accounted(), 48);
    assert!(slow.lagged > 0, "{slow:?}");
    // What the slow one received, less its Lagged notices, plus what it missed, is everything.
    assert_eq!(slow.received - 1 + slow.lagged as usize, fast.received);
    assert!(matches!(slow.last, Some(Event::Finished { .. })));
    // A subscriber arriving after the end learns it at once.
    let late = tally(f.orch.subscribe(task.id)).await;
    assert_eq!(late.received, 1);
    assert!(matches!(
        late.last,
        Some(Event::Finished {
            status: TaskStatus::Complete,
            result: ResultStatus::Success,
            ..
        })
    ));
}

#[tokio::test(start_paused = true)]
async fn progress_is_readable_while_the_task_runs() {
    let sim = SimConfig {
        preenlisted: true,
        latency: Duration::from_secs(1),
        ..SimConfig::default()
    };
    let f = fixture(2, sim, config()).await;
    f.run(Action::PrepareNodes, None).await;
    let task = f.task(Action::DeployNodes, None).await;
    assert_eq!(f.orch.progress(task.id), None, "not running yet");
    let handle = f.orch.spawn(task.id);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let now = f.orch.progress(task.id).expect("running");
    assert_eq!(now.planned, 8);
    assert_eq!(now.succeeded, 4, "two steps of each node are done: {now:?}");
    handle.await.unwrap().unwrap();
    assert_eq!(f.orch.progress(task.id), None);
}

#[tokio::test(start_paused = true)]
async fn a_full_disk_interrupts_the_run_which_resumes_once_space_returns() {
    let world = SimWorld::new(preenlisted());
    let memory = Arc::new(MemoryStore::new());
    let faulty = Arc::new(FaultyStore::new(memory.clone()));
    let orch = orchestrator(&world, faulty.clone(), config());
    let design = orch
        .put_design(&[drydock_core::design::Source::new("site.yaml", site(3))])
        .await
        .unwrap();
    let prep = orch
        .create_task(Action::PrepareNodes, &design, None, "t")
        .await
        .unwrap();
    orch.run(prep.id).await.unwrap();
    let task = orch
        .create_task(Action::DeployNodes, &design, None, "t")
        .await
        .unwrap();
    let events = orch.subscribe(task.id);
    let counting = tokio::spawn(tally(events));
    // The disk fills up after a few journal entries.
    faulty.fill_after_writes(6);
    let err = orch.run(task.id).await.unwrap_err();
    assert!(
        matches!(&err, OrchestratorError::Store(e) if e.is_retryable()),
        "{err}"
    );
    assert!(err.to_string().contains("No space left"), "{err}");
    let t = counting.await.unwrap();
    assert!(
        matches!(&t.last, Some(Event::Interrupted { error, .. }) if error.contains("No space left")),
        "the stream ends with the error: {:?}",
        t.last
    );
    // The leases are released: another task may have the nodes while space is short.
    let other = TaskId::new();
    let free = memory.acquire_nodes(&["n00".into()], other).await.unwrap();
    assert_eq!(free, None, "n00 is free");
    memory.release_nodes(other).await.unwrap();
    let journaled = faulty.journal(task.id).await.unwrap();
    let stored = faulty.get_task(task.id).await.unwrap().unwrap();
    assert_eq!(stored.status, TaskStatus::Running, "left resumable");

    faulty.set_full(false);
    let done = orch.run(task.id).await.unwrap();
    assert_eq!(done.task.result.status, ResultStatus::Success);
    assert_eq!(done.steps_skipped, journaled.len());
    for n in ["n00", "n01", "n02"] {
        assert_eq!(world.machine(n).unwrap().deploys, 1, "{n} deployed once");
    }
    let after = faulty.journal(task.id).await.unwrap();
    assert_eq!(
        &after[..journaled.len()],
        &journaled[..],
        "nothing journaled was lost"
    );
    let steps: std::collections::HashSet<_> =
        after.iter().map(|e| (e.node.clone(), e.step)).collect();
    assert_eq!(steps.len(), after.len(), "no step journaled twice");
}

#[tokio::test(start_paused = true)]
async fn a_panicking_driver_interrupts_the_run_and_the_task_resumes() {
    let f = fixture(2, preenlisted(), config()).await;
    f.run(Action::PrepareNodes, None).await;
    f.world.panic_once("n01", Operation::ApplyPlatform);
    let task = f.task(Action::DeployNodes, None).await;
    let counting = tokio::spawn(tally(f.orch.subscribe(task.id)));
    let err = f.orch.run(task.id).await.unwrap_err();
    assert!(
        matches!(&err, OrchestratorError::Panicked(m) if m.contains("simulated driver bug")),
        "{err}"
    );
    assert!(err.is_retryable());
    let t = counting.await.unwrap();
    assert!(
        matches!(t.last, Some(Event::Interrupted { .. })),
        "{:?}",
        t.last
    );
    let done = f.orch.run(task.id).await.unwrap();
    assert_eq!(done.task.result.status, ResultStatus::Success);
    assert_eq!(f.world.machine("n00").unwrap().deploys, 1);
    assert_eq!(f.world.machine("n01").unwrap().deploys, 1);
    let journal = f.store.journal(task.id).await.unwrap();
    assert!(journal.iter().all(|e| e.outcome == StepOutcome::Succeeded));
    assert_eq!(journal.len(), 8);
}

#[tokio::test(start_paused = true)]
async fn a_filter_naming_unknown_nodes_fails_and_names_them() {
    let f = fixture(2, preenlisted(), config()).await;
    let filter = drydock_core::design::NodeFilterSet::for_nodes(["n00", "n7", "ghost"]);
    let done = f.run(Action::VerifyNodes, Some(filter)).await;
    assert_eq!(done.task.result.status, ResultStatus::Failure);
    assert!(
        done.task
            .result
            .messages
            .iter()
            .any(|m| m.message.ends_with("does not have: n7, ghost")),
        "{:?}",
        done.task.result.messages
    );
    assert!(f.world.calls().is_empty(), "no driver was called");
    assert_eq!(done.steps_executed, 0);
}
