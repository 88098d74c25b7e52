//! The conformance suite every [`Store`] implementation runs: [`conformance`] runs every case,
//! each on a fresh store, and fails once with the list of the cases that failed.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! use drydock_core::store::{MemoryStore, Store};
//! drydock_core::testing::store::conformance("memory", || async {
//!     Box::new(MemoryStore::new()) as Box<dyn Store>
//! })
//! .await;
//! # });
//! ```

use std::future::Future;

use chrono::{Duration, TimeZone, Utc};

use crate::bootaction::{
    ActionId, BootActionDetail, BootActionRecord, BootActionStatus, IdentityKey,
};
use crate::design::Source;
use crate::driver::{BuildData, DriverErrorKind};
use crate::store::{
    BuildDataRecord, DesignSnapshot, JournalEntry, LeaseOutcome, Step, StepOutcome, Store,
    StoreErrorKind, StoreResult, TaskQuery,
};
use crate::task::{Action, ContextType, MessageLevel, Task, TaskId, TaskMessage, TaskStatus};

/// Asserts that `result` is an error of `kind` (`what` names the case in the failure message).
#[track_caller]
fn fails_with<T: std::fmt::Debug>(result: StoreResult<T>, kind: StoreErrorKind, what: &str) {
    match result {
        Ok(v) => panic!("{what}: expected a {kind:?} error, got Ok({v:?})"),
        Err(e) => assert_eq!(e.kind, kind, "{what}: {e}"),
    }
}

fn task(action: Action) -> Task {
    Task::new(action, "design-under-test", None, "conformance")
}

fn entry(task: TaskId, node: &str, step: Step, ok: bool) -> JournalEntry {
    JournalEntry {
        task,
        node: Some(node.to_owned()),
        step,
        outcome: if ok {
            StepOutcome::Succeeded
        } else {
            StepOutcome::Failed {
                kind: DriverErrorKind::Permanent,
                message: "boom".into(),
            }
        },
        attempts: 1,
        retry: 0,
        at: Utc::now(),
    }
}

type Case = for<'a> fn(&'a dyn Store) -> futures::future::BoxFuture<'a, ()>;

/// Every case of the suite, by name.
const CASES: [(&str, Case); 12] = [
    ("tasks_round_trip", |s| Box::pin(tasks_round_trip(s))),
    ("messages_are_kept_apart_from_updates", |s| {
        Box::pin(messages_are_kept_apart_from_updates(s))
    }),
    ("journal_and_task_update_together", |s| {
        Box::pin(journal_and_task_update_together(s))
    }),
    ("listing_filters_and_orders", |s| {
        Box::pin(listing_filters_and_orders(s))
    }),
    ("retention_deletes_old_tasks_and_their_records", |s| {
        Box::pin(retention_deletes_old_tasks_and_their_records(s))
    }),
    ("designs_are_content_addressed_and_lockable", |s| {
        Box::pin(designs_are_content_addressed_and_lockable(s))
    }),
    ("build_data_by_node", |s| Box::pin(build_data_by_node(s))),
    ("node_leases_exclude_other_tasks", |s| {
        Box::pin(node_leases_exclude_other_tasks(s))
    }),
    ("node_leases_in_batches_are_all_or_nothing", |s| {
        Box::pin(node_leases_in_batches_are_all_or_nothing(s))
    }),
    (
        "bootaction_records_are_created_once_per_task_and_node",
        |s| Box::pin(bootaction_records_are_created_once_per_task_and_node(s)),
    ),
    ("bootaction_final_status_is_final", |s| {
        Box::pin(bootaction_final_status_is_final(s))
    }),
    ("retention_deletes_bootaction_records", |s| {
        Box::pin(retention_deletes_bootaction_records(s))
    }),
];

/// Runs every case, each on a fresh store from `make`; when any fails, panics once naming the
/// store (`name`) and every failed case with its message (each case's own panic is printed
/// too, by the panic hook).
pub async fn conformance<F, Fut>(name: &str, mut make: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Box<dyn Store>>,
{
    use futures::FutureExt;
    let mut failed = Vec::new();
    for (case, run) in CASES {
        let store = make().await;
        if let Err(panic) = std::panic::AssertUnwindSafe(run(&*store))
            .catch_unwind()
            .await
        {
            let why = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            failed.push(format!("{case}: {why}"));
        }
    }
    assert!(
        failed.is_empty(),
        "store {name}: {} of {} conformance cases failed:\n  {}",
        failed.len(),
        CASES.len(),
        failed.join("\n  ")
    );
}

/// Create, get, update; duplicates and unknown ids are typed errors.
pub async fn tasks_round_trip(store: &dyn Store) {
    let mut t = task(Action::DeployNodes);
    store.create_task(&t).await.expect("create");
    assert_eq!(
        store.get_task(t.id).await.expect("get").as_ref(),
        Some(&t),
        "a task reads back as written"
    );
    fails_with(
        store.create_task(&t).await,
        StoreErrorKind::AlreadyExists,
        "creating the same id twice",
    );
    t.status = TaskStatus::Running;
    t.result.success(Some("n1"));
    store.update_task(&t).await.expect("update");
    assert_eq!(
        store.get_task(t.id).await.unwrap().unwrap(),
        t,
        "an update reads back"
    );
    let ghost = task(Action::VerifySite);
    assert!(
        store.get_task(ghost.id).await.unwrap().is_none(),
        "an unknown task is None"
    );
    fails_with(
        store.update_task(&ghost).await,
        StoreErrorKind::NotFound,
        "update unknown",
    );
}

/// Messages are appended and survive task updates that do not carry them.
pub async fn messages_are_kept_apart_from_updates(store: &dyn Store) {
    let mut t = task(Action::PrepareNodes);
    store.create_task(&t).await.unwrap();
    let m1 = TaskMessage::new(
        MessageLevel::Info,
        ContextType::Task,
        t.id.to_string(),
        "started",
    );
    let m2 = TaskMessage::new(MessageLevel::Error, ContextType::Node, "n1", "failed");
    store.add_message(t.id, &m1).await.unwrap();
    store.add_message(t.id, &m2).await.unwrap();
    t.status = TaskStatus::Running;
    store.update_task(&t).await.unwrap(); // t carries no messages
    let got = store.get_task(t.id).await.unwrap().unwrap();
    assert_eq!(
        got.result.messages,
        vec![m1, m2],
        "messages in order, kept across updates"
    );
    assert_eq!(got.status, TaskStatus::Running);
    let ghost = TaskId::new();
    let m = TaskMessage::new(MessageLevel::Info, ContextType::None, "", "x");
    fails_with(
        store.add_message(ghost, &m).await,
        StoreErrorKind::NotFound,
        "unknown task",
    );
}

/// A journal entry and its task update land together; sequence numbers count from 1.
pub async fn journal_and_task_update_together(store: &dyn Store) {
    let mut t = task(Action::DeployNodes);
    store.create_task(&t).await.unwrap();
    let e1 = entry(t.id, "n1", Step::ApplyNetworking, true);
    assert_eq!(store.record_step(&e1, None).await.unwrap(), 1);
    t.result.success(Some("n1"));
    let e2 = entry(t.id, "n2", Step::ApplyNetworking, false);
    assert_eq!(store.record_step(&e2, Some(&t)).await.unwrap(), 2);
    assert_eq!(
        store.journal(t.id).await.unwrap(),
        vec![e1, e2],
        "journal in order"
    );
    assert_eq!(
        store
            .get_task(t.id)
            .await
            .unwrap()
            .unwrap()
            .result
            .successes,
        ["n1"],
        "the task update landed"
    );
    let other = task(Action::DeployNodes);
    store.create_task(&other).await.unwrap();
    assert!(
        store
            .record_step(&entry(t.id, "n3", Step::Deploy, true), Some(&other))
            .await
            .is_err(),
        "mismatched task refused"
    );
    assert_eq!(
        store.journal(t.id).await.unwrap().len(),
        2,
        "a refused record leaves the journal unchanged"
    );
    let ghost = entry(TaskId::new(), "n1", Step::Deploy, true);
    fails_with(
        store.record_step(&ghost, None).await,
        StoreErrorKind::NotFound,
        "unknown task",
    );
    assert!(store.journal(other.id).await.unwrap().is_empty());
}

/// Listing filters by status, age and parent, oldest first.
pub async fn listing_filters_and_orders(store: &dyn Store) {
    let base = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let mut ids = Vec::new();
    for (i, status) in [
        TaskStatus::Queued,
        TaskStatus::Running,
        TaskStatus::Complete,
        TaskStatus::Queued,
    ]
    .into_iter()
    .enumerate()
    {
        let mut t = task(Action::DeployNodes);
        t.created = base + Duration::hours(i as i64);
        t.status = status;
        if i == 3 {
            t.parent = Some(ids[0]);
        }
        store.create_task(&t).await.unwrap();
        ids.push(t.id);
    }
    let all: Vec<TaskId> = store
        .list_tasks(&TaskQuery::default())
        .await
        .unwrap()
        .iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(all, ids, "oldest first");
    let queued = TaskQuery {
        statuses: vec![TaskStatus::Queued],
        ..TaskQuery::default()
    };
    let got: Vec<TaskId> = store
        .list_tasks(&queued)
        .await
        .unwrap()
        .iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(got, [ids[0], ids[3]]);
    let recent = TaskQuery {
        created_after: Some(base + Duration::hours(2)),
        ..TaskQuery::default()
    };
    assert_eq!(store.list_tasks(&recent).await.unwrap().len(), 2);
    let top = TaskQuery {
        top_level_only: true,
        ..TaskQuery::default()
    };
    assert_eq!(store.list_tasks(&top).await.unwrap().len(), 3);
}

/// Retention removes old tasks with their journals, messages, leases and build data only.
pub async fn retention_deletes_old_tasks_and_their_records(store: &dyn Store) {
    let mut old = task(Action::DeployNodes);
    old.created = Utc::now() - Duration::days(100);
    let new = task(Action::DeployNodes);
    for t in [&old, &new] {
        store.create_task(t).await.unwrap();
        store
            .add_message(
                t.id,
                &TaskMessage::new(MessageLevel::Info, ContextType::None, "", "m"),
            )
            .await
            .unwrap();
        store
            .record_step(&entry(t.id, "n1", Step::Deploy, true), None)
            .await
            .unwrap();
        let data = BuildData {
            generator: "test".into(),
            format: "text/plain".into(),
            data: t.id.to_string(),
        };
        store
            .put_build_data(&BuildDataRecord {
                node: "n1".into(),
                task: t.id,
                collected: Utc::now(),
                data,
            })
            .await
            .unwrap();
    }
    assert_eq!(
        store.acquire_node("n9", old.id).await.unwrap(),
        LeaseOutcome::Acquired
    );
    let deleted = store
        .delete_tasks_before(Utc::now() - Duration::days(90))
        .await
        .unwrap();
    assert_eq!(deleted, 1);
    assert!(store.get_task(old.id).await.unwrap().is_none());
    assert!(store.journal(old.id).await.unwrap().is_empty());
    assert_eq!(
        store.build_data("n1").await.unwrap().len(),
        1,
        "the newer task's build data stays"
    );
    assert_eq!(
        store.acquire_node("n9", new.id).await.unwrap(),
        LeaseOutcome::Acquired,
        "the old task's lease is gone"
    );
    let kept = store
        .get_task(new.id)
        .await
        .unwrap()
        .expect("the newer task stays");
    assert_eq!(kept.result.messages.len(), 1);
    assert_eq!(store.journal(new.id).await.unwrap().len(), 1);
}

/// Snapshots are stored once per content; a lock excludes other tasks until released.
pub async fn designs_are_content_addressed_and_lockable(store: &dyn Store) {
    let d = DesignSnapshot::new(&[Source::new("site.yaml", "schema: drydock/Region/v1\n")]);
    store.put_design(&d).await.unwrap();
    store.put_design(&d).await.unwrap();
    assert_eq!(store.get_design(&d.id).await.unwrap().as_ref(), Some(&d));
    let (a, b) = (TaskId::new(), TaskId::new());
    store.lock_design(&d.id, a).await.unwrap();
    store
        .lock_design(&d.id, a)
        .await
        .expect("re-locking by the holder is a no-op");
    fails_with(
        store.lock_design(&d.id, b).await,
        StoreErrorKind::Conflict,
        "held by a",
    );
    assert_eq!(store.design_lock(&d.id).await.unwrap(), Some(a));
    store.unlock_design(&d.id, b).await.unwrap();
    assert_eq!(
        store.design_lock(&d.id).await.unwrap(),
        Some(a),
        "only the holder unlocks"
    );
    store.unlock_design(&d.id, a).await.unwrap();
    store.lock_design(&d.id, b).await.expect("free again");
    let missing = DesignSnapshot::new(&[Source::new("other.yaml", "")]);
    assert!(store.get_design(&missing.id).await.unwrap().is_none());
    fails_with(
        store.lock_design(&missing.id, a).await,
        StoreErrorKind::NotFound,
        "no such design",
    );
}

/// Build data is kept per node, oldest first.
pub async fn build_data_by_node(store: &dyn Store) {
    let t = TaskId::new();
    for i in 0..3 {
        let data = BuildData {
            generator: format!("g{i}"),
            format: "text/plain".into(),
            data: i.to_string(),
        };
        let node = if i == 1 { "other" } else { "n1" };
        store
            .put_build_data(&BuildDataRecord {
                node: node.into(),
                task: t,
                collected: Utc::now(),
                data,
            })
            .await
            .unwrap();
    }
    let got: Vec<String> = store
        .build_data("n1")
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.data.generator)
        .collect();
    assert_eq!(got, ["g0", "g2"]);
    assert!(store.build_data("nobody").await.unwrap().is_empty());
}

/// A batch of leases is all or nothing.
pub async fn node_leases_in_batches_are_all_or_nothing(store: &dyn Store) {
    let (a, b) = (TaskId::new(), TaskId::new());
    let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        store.acquire_nodes(&names(&["x1", "x2"]), a).await.unwrap(),
        None
    );
    assert_eq!(
        store.acquire_nodes(&names(&["x1", "x2"]), a).await.unwrap(),
        None,
        "re-acquiring is a no-op"
    );
    let conflict = store.acquire_nodes(&names(&["x3", "x2"]), b).await.unwrap();
    assert_eq!(conflict, Some(("x2".to_owned(), a)));
    assert_eq!(
        store.acquire_node("x3", a).await.unwrap(),
        LeaseOutcome::Acquired,
        "a refused batch leases nothing"
    );
    store.release_nodes(a).await.unwrap();
    assert_eq!(
        store
            .acquire_nodes(&names(&["x1", "x2", "x3"]), b)
            .await
            .unwrap(),
        None
    );
}

/// A node leased to one task is refused to another until released.
pub async fn node_leases_exclude_other_tasks(store: &dyn Store) {
    let (a, b) = (TaskId::new(), TaskId::new());
    assert_eq!(
        store.acquire_node("n1", a).await.unwrap(),
        LeaseOutcome::Acquired
    );
    assert_eq!(
        store.acquire_node("n1", a).await.unwrap(),
        LeaseOutcome::Acquired,
        "re-acquiring is a no-op"
    );
    assert_eq!(
        store.acquire_node("n1", b).await.unwrap(),
        LeaseOutcome::HeldBy(a)
    );
    assert_eq!(
        store.acquire_node("n2", b).await.unwrap(),
        LeaseOutcome::Acquired
    );
    store.release_nodes(a).await.unwrap();
    assert_eq!(
        store.acquire_node("n1", b).await.unwrap(),
        LeaseOutcome::Acquired
    );
    assert_eq!(
        store.acquire_node("n2", a).await.unwrap(),
        LeaseOutcome::HeldBy(b),
        "b's lease survives a's release"
    );
}

fn records(task: TaskId, node: &str, names: &[(&str, bool)]) -> Vec<BootActionRecord> {
    let key = IdentityKey::generate();
    names
        .iter()
        .map(|(n, signaling)| {
            BootActionRecord::new(
                *n,
                node,
                task,
                crate::store::DesignId("design-under-test".into()),
                key.clone(),
                *signaling,
            )
        })
        .collect()
}

/// A task's boot action records for a node are stored once, read back by id and by node
/// (oldest first, keys intact); a second put for the same task and node returns the first
/// records unchanged; mixed tasks or nodes in one put are refused.
pub async fn bootaction_records_are_created_once_per_task_and_node(store: &dyn Store) {
    let (t1, t2) = (TaskId::new(), TaskId::new());
    let first = records(t1, "n1", &[("hello", true), ("quiet", false)]);
    let stored = store.put_bootactions(&first).await.expect("put");
    assert_eq!(stored, first, "new records read back as written");
    assert_eq!(first[1].status, BootActionStatus::Unreported);
    let again = records(t1, "n1", &[("hello", true), ("quiet", false)]);
    let kept = store.put_bootactions(&again).await.expect("put again");
    assert_eq!(kept, first, "a task's records for a node are created once");
    assert!(
        store
            .get_bootaction(again[0].action_id)
            .await
            .unwrap()
            .is_none(),
        "the second batch is not stored"
    );
    let got = store
        .get_bootaction(first[0].action_id)
        .await
        .unwrap()
        .expect("by id");
    assert!(
        got.identity_key
            .matches_hex(&first[0].identity_key.to_hex())
    );
    let later = records(t2, "n1", &[("hello", true)]);
    store.put_bootactions(&later).await.unwrap();
    store
        .put_bootactions(&records(t1, "n2", &[("hello", true)]))
        .await
        .unwrap();
    let n1: Vec<ActionId> = store
        .bootactions_for_node("n1")
        .await
        .unwrap()
        .iter()
        .map(|r| r.action_id)
        .collect();
    assert_eq!(
        n1,
        vec![first[0].action_id, first[1].action_id, later[0].action_id],
        "a node's records of every task, oldest first"
    );
    assert!(store.bootactions_for_node("n9").await.unwrap().is_empty());
    assert!(store.put_bootactions(&[]).await.unwrap().is_empty());
    let mut mixed = records(t2, "n3", &[("a", true)]);
    mixed.extend(records(t2, "n4", &[("b", true)]));
    fails_with(
        store.put_bootactions(&mixed).await,
        StoreErrorKind::Conflict,
        "records of two nodes in one put",
    );
    assert!(store.bootactions_for_node("n3").await.unwrap().is_empty());
}

/// Status changes append details; once `success` or `failure`, no change is accepted
/// (`Conflict`, nothing written); unknown ids are `NotFound`.
pub async fn bootaction_final_status_is_final(store: &dyn Store) {
    let rs = records(TaskId::new(), "n1", &[("hello", true)]);
    store.put_bootactions(&rs).await.unwrap();
    let id = rs[0].action_id;
    let running = store
        .set_bootaction_status(
            id,
            BootActionStatus::Running,
            &[BootActionDetail::new("starting", false)],
        )
        .await
        .expect("running");
    assert_eq!(running.status, BootActionStatus::Running);
    assert!(running.updated.is_some());
    let done = store
        .set_bootaction_status(
            id,
            BootActionStatus::Failure,
            &[BootActionDetail::new("boom", true)],
        )
        .await
        .expect("failure");
    assert_eq!(done.status, BootActionStatus::Failure);
    let texts: Vec<&str> = done.details.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(texts, ["starting", "boom"]);
    for status in [BootActionStatus::Success, BootActionStatus::Running] {
        fails_with(
            store
                .set_bootaction_status(id, status, &[BootActionDetail::new("late", false)])
                .await,
            StoreErrorKind::Conflict,
            "a final status is final",
        );
    }
    let stored = store.get_bootaction(id).await.unwrap().unwrap();
    assert_eq!(stored.status, BootActionStatus::Failure);
    assert_eq!(stored.details.len(), 2, "a refused update writes nothing");
    fails_with(
        store
            .set_bootaction_status(ActionId::new(), BootActionStatus::Success, &[])
            .await,
        StoreErrorKind::NotFound,
        "unknown boot action id",
    );
}

/// Retention deletes the boot action records of the tasks it deletes, and only those.
pub async fn retention_deletes_bootaction_records(store: &dyn Store) {
    let mut old = task(Action::DeployNodes);
    old.created = Utc::now() - Duration::days(100);
    let new = task(Action::DeployNodes);
    for t in [&old, &new] {
        store.create_task(t).await.unwrap();
        store
            .put_bootactions(&records(t.id, "n1", &[("hello", true)]))
            .await
            .unwrap();
    }
    store
        .delete_tasks_before(Utc::now() - Duration::days(90))
        .await
        .unwrap();
    let left = store.bootactions_for_node("n1").await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].task, new.id);
}
