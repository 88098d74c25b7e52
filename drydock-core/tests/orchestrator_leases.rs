//! Node leases at the orchestrator's level: waiting, giving up and hand-over; partial overlap;
//! racing tasks on a multi-thread runtime; release by every way a task ends; different actions
//! and retries over the same nodes; leases of a task whose process is gone.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use drydock_core::design::{NodeFilterSet, Source};
use drydock_core::driver::Operation;
use drydock_core::orchestrator::{LeaseConflict, OrchestratorConfig, Timeouts};
use drydock_core::store::Store;
use drydock_core::task::{Action, ResultStatus, TaskId, TaskStatus};

mod common;

use common::*;

fn nodes(names: &[&str]) -> Option<NodeFilterSet> {
    Some(NodeFilterSet::for_nodes(names.iter().copied()))
}

fn waiting(cfg: OrchestratorConfig) -> OrchestratorConfig {
    let mut cfg = cfg;
    cfg.lease_conflict = LeaseConflict::Wait;
    cfg
}

fn says(task: &drydock_core::task::Task, text: &str) -> bool {
    task.result
        .messages
        .iter()
        .any(|m| m.message.contains(text))
}

#[tokio::test(start_paused = true)]
async fn a_waiting_task_gets_the_nodes_when_the_holder_finishes() {
    let f = fixture(2, slow(500), waiting(config())).await;
    let (_, holder) = f.start(Action::PrepareNodes, None).await;
    let second = f.task(Action::PrepareNodes, nodes(&["n01"])).await;
    let started = tokio::time::Instant::now();
    let waited = f.orch.run(second.id).await.unwrap();
    let held = holder.await.unwrap().unwrap();
    assert_eq!(held.task.result.status, ResultStatus::Success);
    assert_eq!(waited.task.result.status, ResultStatus::Success);
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "it waited for the holder"
    );
    // The second task found the node known and commissioned: commissioning changed nothing.
    assert_eq!(f.world.machine("n01").unwrap().commissions, 1);
}

#[tokio::test(start_paused = true)]
async fn a_waiting_task_gives_up_at_its_deadline_naming_the_holder() {
    let mut cfg = waiting(config());
    cfg.timeouts = Timeouts::all(Duration::from_secs(2));
    cfg.timeouts.deploy_node = Duration::from_secs(3600);
    let f = fixture(2, preenlisted(), cfg).await;
    f.run(Action::PrepareNodes, None).await;
    f.world.hang("n00", Operation::Deploy);
    let (deploy, holder) = f.start(Action::DeployNodes, None).await;
    let started = tokio::time::Instant::now();
    let gave_up = f.run(Action::VerifyNodes, nodes(&["n00"])).await;
    assert_eq!(gave_up.task.result.status, ResultStatus::Failure);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(2) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
    assert!(
        says(
            &gave_up.task,
            &format!("in use by deploy_nodes task {}", deploy.id)
        ),
        "{:?}",
        gave_up.task.result.messages
    );
    holder.abort();
}

#[tokio::test(start_paused = true)]
async fn partial_overlap_fails_the_second_task_and_leaves_the_other_nodes_alone() {
    let f = fixture(3, slow(200), config()).await;
    let a = f.task(Action::VerifyNodes, nodes(&["n00", "n01"])).await;
    let ha = f.orch.spawn(a.id);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let b = f.run(Action::VerifyNodes, nodes(&["n01", "n02"])).await;
    assert_eq!(b.task.result.status, ResultStatus::Failure);
    assert!(says(&b.task, "node n01 is in use by verify_nodes task"));
    // All or nothing: n02 was not leased to b, and b drove no node.
    assert_eq!(calls(&f.world, Operation::InterrogateOob, "n02"), 0);
    let ra = ha.await.unwrap().unwrap();
    assert_eq!(ra.task.result.successes, ["n00", "n01"]);
    // Everything is free afterwards.
    let c = f.run(Action::VerifyNodes, None).await;
    assert_eq!(c.task.result.status, ResultStatus::Success);
}

#[tokio::test(start_paused = true)]
async fn deploy_and_destroy_of_one_node_never_overlap() {
    let mut cfg = config();
    cfg.timeouts.deploy_node = Duration::from_secs(3600);
    let f = fixture(2, preenlisted(), cfg).await;
    f.run(Action::PrepareNodes, None).await;
    f.world.hang("n00", Operation::Deploy);
    let (deploy, holder) = f.start(Action::DeployNodes, None).await;
    let destroy = f.run(Action::DestroyNodes, nodes(&["n00"])).await;
    assert_eq!(destroy.task.result.status, ResultStatus::Failure);
    assert!(says(
        &destroy.task,
        &format!("deploy_nodes task {}", deploy.id)
    ));
    assert_eq!(calls(&f.world, Operation::Destroy, "n00"), 0);
    // Cancelling the deployment releases the node: DestroyNodes goes through.
    f.orch.cancel(deploy.id, "operator").await.unwrap();
    f.world.clear_faults();
    let ended = holder.await.unwrap().unwrap();
    assert_eq!(ended.task.status, TaskStatus::Terminated);
    let destroy = f.run(Action::DestroyNodes, nodes(&["n00"])).await;
    assert_eq!(destroy.task.result.status, ResultStatus::Success);
}

#[tokio::test(start_paused = true)]
async fn a_retry_meets_the_leases_of_a_task_that_took_its_failed_node() {
    let mut cfg = config();
    cfg.timeouts.default = Duration::from_secs(3600);
    let f = fixture(2, preenlisted(), cfg).await;
    f.run(Action::PrepareNodes, None).await;
    f.world
        .fail_permanently("n01", Operation::ApplyPlatform, "bad image");
    let first = f.run(Action::DeployNodes, None).await;
    assert_eq!(first.task.result.failures, ["n01"]);
    f.world.clear_faults();
    f.world.hang("n01", Operation::InterrogateOob);
    let (verify, holder) = f.start(Action::VerifyNodes, nodes(&["n01"])).await;
    let refused = f.orch.retry(first.task.id).await.unwrap();
    // n00's success is kept; the retry itself could not have n01.
    assert_eq!(refused.task.result.status, ResultStatus::PartialSuccess);
    assert!(says(
        &refused.task,
        &format!("verify_nodes task {}", verify.id)
    ));
    holder.abort();
    // The holder's process is "gone" (its run was dropped): the retry takes the lease over.
    tokio::task::yield_now().await;
    let retried = f.orch.retry(first.task.id).await.unwrap();
    assert_eq!(
        retried.task.result.status,
        ResultStatus::Success,
        "{:?}",
        retried.task.result.messages
    );
    assert_eq!(f.world.machine("n01").unwrap().deploys, 1);
    assert_eq!(f.world.machine("n00").unwrap().deploys, 1);
}

#[tokio::test(start_paused = true)]
async fn an_orphans_leases_go_to_a_task_on_a_changed_design() {
    let f = fixture(2, slow(1000), config()).await;
    f.run(Action::PrepareNodes, None).await;
    let orphan = f.task(Action::DeployNodes, None).await;
    // The process dies mid-run: the task stays Running and keeps its leases in the store.
    let crashed = tokio::time::timeout(Duration::from_millis(1500), f.orch.run(orphan.id)).await;
    assert!(crashed.is_err());
    assert_eq!(
        f.store.get_task(orphan.id).await.unwrap().unwrap().status,
        TaskStatus::Running
    );
    // The site is read again from another path: another design.
    let moved = f
        .orch
        .put_design(&[Source::new("elsewhere/site.yaml", site(2))])
        .await
        .unwrap();
    assert_ne!(moved, f.design);
    let task = f
        .orch
        .create_task(Action::DeployNodes, &moved, None, "rerun")
        .await
        .unwrap();
    let done = f.orch.run(task.id).await.unwrap();
    assert_eq!(
        done.task.result.status,
        ResultStatus::Success,
        "{:?}",
        done.task.result.messages
    );
    assert!(says(
        &done.task,
        &format!("took over the node leases of task {}", orphan.id)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_tasks_on_overlapping_nodes_never_share_a_node() {
    let f = fixture(6, slow(300), config()).await;
    let sets: [&[&str]; 8] = [
        &["n00", "n01"],
        &["n01", "n02"],
        &["n02", "n03"],
        &["n03", "n04"],
        &["n04", "n05"],
        &["n05", "n00"],
        &["n00", "n03"],
        &["n01", "n04"],
    ];
    let mut tasks = Vec::new();
    for set in sets {
        let task = f.task(Action::VerifyNodes, nodes(set)).await;
        tasks.push((set, task.id));
    }
    // Started together; each holds its nodes for 300 ms, far longer than all take to start.
    let handles: Vec<_> = tasks
        .into_iter()
        .map(|(set, id)| (set, f.orch.spawn(id)))
        .collect();
    let mut winners: Vec<BTreeSet<&str>> = Vec::new();
    for (set, h) in handles {
        let done = h.await.unwrap().unwrap();
        match done.task.result.status {
            ResultStatus::Success => winners.push(set.iter().copied().collect()),
            ResultStatus::Failure => assert!(says(&done.task, "is in use by")),
            other => panic!("{other}: {:?}", done.task.result.messages),
        }
    }
    assert!(!winners.is_empty());
    // Winners overlapping on a node would have driven it at once.
    for (i, a) in winners.iter().enumerate() {
        for b in &winners[i + 1..] {
            assert!(a.is_disjoint(b), "{a:?} and {b:?} both ran");
        }
    }
    // Every lease was released.
    let all = f.run(Action::VerifyNodes, None).await;
    assert_eq!(all.task.result.status, ResultStatus::Success);
}

#[tokio::test(start_paused = true)]
async fn every_way_a_task_ends_releases_its_leases() {
    let f = fixture(1, preenlisted(), config()).await;
    let free = |store: Arc<drydock_core::store::MemoryStore>| async move {
        let probe = TaskId::new();
        let held = store.acquire_nodes(&["n00".into()], probe).await.unwrap();
        store.release_nodes(probe).await.unwrap();
        held.is_none()
    };
    // Success.
    f.run(Action::VerifyNodes, None).await;
    assert!(free(f.store.clone()).await);
    // Failure.
    f.world
        .fail_permanently("n00", Operation::InterrogateOob, "no BMC");
    let failed = f.run(Action::VerifyNodes, None).await;
    assert_eq!(failed.task.result.status, ResultStatus::Failure);
    assert!(free(f.store.clone()).await);
    f.world.clear_faults();
    // Cancellation while running.
    f.world.hang("n00", Operation::InterrogateOob);
    let (task, h) = f.start(Action::VerifyNodes, None).await;
    f.orch.cancel(task.id, "op").await.unwrap();
    f.world.clear_faults();
    assert_eq!(
        h.await.unwrap().unwrap().task.status,
        TaskStatus::Terminated
    );
    assert!(free(f.store.clone()).await);
    // A panic (errors are covered by the full-disk test of orchestrator_events).
    f.world.panic_once("n00", Operation::InterrogateOob);
    let task = f.task(Action::VerifyNodes, None).await;
    assert!(f.orch.run(task.id).await.is_err());
    assert!(free(f.store.clone()).await);
}
