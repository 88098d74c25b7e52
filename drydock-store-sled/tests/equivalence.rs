//! Property: random sequences of store operations give the same observable results on
//! `SledStore` and on `MemoryStore`, the reference implementation.

use std::fmt::Debug;

use chrono::{DateTime, Duration, TimeZone, Utc};
use drydock_core::design::Source;
use drydock_core::driver::{BuildData, DriverErrorKind};
use drydock_core::store::{
    BuildDataRecord, DesignSnapshot, JournalEntry, MemoryStore, Step, StepOutcome, Store,
    StoreErrorKind, StoreResult, TaskQuery,
};
use drydock_core::task::{
    Action, ContextType, MessageLevel, Task, TaskId, TaskMessage, TaskStatus,
};
use drydock_store_sled::{Durability, SledConfig, SledStore};
use proptest::prelude::*;

const TASKS: usize = 4;
const DESIGNS: usize = 2;
const NODES: u8 = 3;

const STATUSES: [TaskStatus; 4] = [
    TaskStatus::Requested,
    TaskStatus::Queued,
    TaskStatus::Running,
    TaskStatus::Complete,
];

#[derive(Clone, Debug)]
enum Op {
    Create {
        t: usize,
        hours: i64,
        status: usize,
        parent: Option<usize>,
    },
    Update {
        t: usize,
        status: usize,
        success: Option<u8>,
        message: bool,
    },
    Get {
        t: usize,
    },
    AddMessage {
        t: usize,
        text: u8,
    },
    Record {
        t: usize,
        node: u8,
        ok: bool,
        with_task: Option<usize>,
    },
    Journal {
        t: usize,
    },
    List {
        statuses: Vec<usize>,
        after: Option<i64>,
        top: bool,
    },
    Delete {
        hours: i64,
    },
    PutDesign {
        d: usize,
    },
    GetDesign {
        d: usize,
    },
    LockDesign {
        d: usize,
        t: usize,
    },
    UnlockDesign {
        d: usize,
        t: usize,
    },
    DesignLock {
        d: usize,
    },
    PutBuild {
        node: u8,
        t: usize,
        generator: u8,
    },
    Build {
        node: u8,
    },
    Acquire {
        node: u8,
        t: usize,
    },
    Release {
        t: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let t = 0..TASKS;
    let d = 0..DESIGNS;
    let node = 0..NODES;
    let status = 0..STATUSES.len();
    prop_oneof![
        3 => (t.clone(), 0..48i64, status.clone(), proptest::option::of(t.clone()))
            .prop_map(|(t, hours, status, parent)| Op::Create { t, hours, status, parent }),
        2 => (t.clone(), status.clone(), proptest::option::of(node.clone()), any::<bool>())
            .prop_map(|(t, status, success, message)| Op::Update { t, status, success, message }),
        1 => t.clone().prop_map(|t| Op::Get { t }),
        2 => (t.clone(), any::<u8>()).prop_map(|(t, text)| Op::AddMessage { t, text }),
        3 => (t.clone(), node.clone(), any::<bool>(), proptest::option::of(t.clone()))
            .prop_map(|(t, node, ok, with_task)| Op::Record { t, node, ok, with_task }),
        1 => t.clone().prop_map(|t| Op::Journal { t }),
        1 => (proptest::collection::vec(status, 0..3), proptest::option::of(0..48i64), any::<bool>())
            .prop_map(|(statuses, after, top)| Op::List { statuses, after, top }),
        1 => (0..60i64).prop_map(|hours| Op::Delete { hours }),
        1 => d.clone().prop_map(|d| Op::PutDesign { d }),
        1 => d.clone().prop_map(|d| Op::GetDesign { d }),
        2 => (d.clone(), t.clone()).prop_map(|(d, t)| Op::LockDesign { d, t }),
        1 => (d.clone(), t.clone()).prop_map(|(d, t)| Op::UnlockDesign { d, t }),
        1 => d.prop_map(|d| Op::DesignLock { d }),
        2 => (node.clone(), t.clone(), any::<u8>())
            .prop_map(|(node, t, generator)| Op::PutBuild { node, t, generator }),
        1 => node.clone().prop_map(|node| Op::Build { node }),
        2 => (node, t.clone()).prop_map(|(node, t)| Op::Acquire { node, t }),
        1 => t.prop_map(|t| Op::Release { t }),
    ]
}

/// Fixed inputs of one case, shared by both stores.
struct World {
    ids: Vec<TaskId>,
    designs: Vec<DesignSnapshot>,
    base: DateTime<Utc>,
}

impl World {
    fn new() -> Self {
        World {
            ids: (0..TASKS).map(|_| TaskId::new()).collect(),
            designs: (0..DESIGNS)
                .map(|i| DesignSnapshot::new(&[Source::new("site.yaml", format!("n: {i}\n"))]))
                .collect(),
            base: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        }
    }

    fn task(&self, t: usize, hours: i64, status: usize) -> Task {
        let mut task = Task::new(Action::DeployNodes, "design", None, "prop");
        task.id = self.ids[t];
        task.created = self.base + Duration::hours(hours);
        task.status = STATUSES[status];
        task
    }

    fn at(&self, minutes: i64) -> DateTime<Utc> {
        self.base + Duration::minutes(minutes)
    }
}

/// An operation's observable result: its value, or its error's kind.
type Seen = Result<String, StoreErrorKind>;

fn seen<T: Debug>(r: StoreResult<T>) -> Seen {
    r.map(|v| format!("{v:?}")).map_err(|e| e.kind)
}

async fn apply(store: &dyn Store, w: &World, op: &Op, step: i64) -> Seen {
    let node = |n: &u8| format!("n{n}");
    match op {
        Op::Create {
            t,
            hours,
            status,
            parent,
        } => {
            let mut task = w.task(*t, *hours, *status);
            task.parent = parent.map(|p| w.ids[p]);
            let mut m = TaskMessage::new(MessageLevel::Info, ContextType::Task, "created", "hello");
            m.ts = w.at(step);
            task.result.add_message(m);
            seen(store.create_task(&task).await)
        }
        Op::Update {
            t,
            status,
            success,
            message,
        } => {
            let mut task = w.task(*t, step, *status);
            if let Some(n) = success {
                task.result.success(Some(&node(n)));
            }
            if *message {
                // Updates never carry messages into the store.
                task.result.add_message(TaskMessage::new(
                    MessageLevel::Error,
                    ContextType::None,
                    "",
                    "x",
                ));
            }
            seen(store.update_task(&task).await)
        }
        Op::Get { t } => seen(store.get_task(w.ids[*t]).await),
        Op::AddMessage { t, text } => {
            let mut m = TaskMessage::new(
                MessageLevel::Info,
                ContextType::Node,
                "n1",
                text.to_string(),
            );
            m.ts = w.at(step);
            seen(store.add_message(w.ids[*t], &m).await)
        }
        Op::Record {
            t,
            node: n,
            ok,
            with_task,
        } => {
            let entry = JournalEntry {
                task: w.ids[*t],
                node: Some(node(n)),
                step: Step::ApplyStorage,
                outcome: if *ok {
                    StepOutcome::Succeeded
                } else {
                    StepOutcome::Failed {
                        kind: DriverErrorKind::Transient,
                        message: "no".into(),
                    }
                },
                attempts: 2,
                retry: 0,
                at: w.at(step),
            };
            let task = with_task.map(|u| {
                let mut task = w.task(u, step, 2);
                task.result.failure(Some(&node(n)));
                task
            });
            seen(store.record_step(&entry, task.as_ref()).await)
        }
        Op::Journal { t } => seen(store.journal(w.ids[*t]).await),
        Op::List {
            statuses,
            after,
            top,
        } => {
            let query = TaskQuery {
                statuses: statuses.iter().map(|s| STATUSES[*s]).collect(),
                created_after: after.map(|h| w.base + Duration::hours(h)),
                top_level_only: *top,
            };
            seen(store.list_tasks(&query).await)
        }
        Op::Delete { hours } => seen(
            store
                .delete_tasks_before(w.base + Duration::hours(*hours))
                .await,
        ),
        Op::PutDesign { d } => seen(store.put_design(&w.designs[*d]).await),
        Op::GetDesign { d } => seen(store.get_design(&w.designs[*d].id).await),
        Op::LockDesign { d, t } => seen(store.lock_design(&w.designs[*d].id, w.ids[*t]).await),
        Op::UnlockDesign { d, t } => seen(store.unlock_design(&w.designs[*d].id, w.ids[*t]).await),
        Op::DesignLock { d } => seen(store.design_lock(&w.designs[*d].id).await),
        Op::PutBuild {
            node: n,
            t,
            generator,
        } => {
            let record = BuildDataRecord {
                node: node(n),
                task: w.ids[*t],
                collected: w.at(step),
                data: BuildData {
                    generator: generator.to_string(),
                    format: "text/plain".into(),
                    data: "facts".into(),
                },
            };
            seen(store.put_build_data(&record).await)
        }
        Op::Build { node: n } => seen(store.build_data(&node(n)).await),
        Op::Acquire { node: n, t } => seen(store.acquire_node(&node(n), w.ids[*t]).await),
        Op::Release { t } => seen(store.release_nodes(w.ids[*t]).await),
    }
}

/// Everything a store shows, read through the trait.
async fn snapshot(store: &dyn Store, w: &World) -> Vec<Seen> {
    let mut out = vec![seen(store.list_tasks(&TaskQuery::default()).await)];
    for id in &w.ids {
        out.push(seen(store.get_task(*id).await));
        out.push(seen(store.journal(*id).await));
    }
    for d in &w.designs {
        out.push(seen(store.get_design(&d.id).await));
        out.push(seen(store.design_lock(&d.id).await));
    }
    for n in 0..NODES {
        out.push(seen(store.build_data(&format!("n{n}")).await));
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 64,
        // Failures print their minimal input; no regression files next to the tests.
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn sled_matches_memory(ops in proptest::collection::vec(op(), 1..40), group in any::<bool>()) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let w = World::new();
        let dir = tempfile::tempdir().unwrap();
        let durability = if group {
            Durability::GroupCommit { max_delay_ms: 0 }
        } else {
            Durability::FlushEveryWrite
        };
        let sled = SledStore::open(SledConfig::new(dir.path()).with_durability(durability)).unwrap();
        let memory = MemoryStore::new();
        runtime.block_on(async {
            for (step, op) in ops.iter().enumerate() {
                let got = apply(&sled, &w, op, step as i64).await;
                let want = apply(&memory, &w, op, step as i64).await;
                prop_assert_eq!(got, want, "step {}: {:?}", step, op);
            }
            prop_assert_eq!(snapshot(&sled, &w).await, snapshot(&memory, &w).await);
            Ok(())
        })?;
        // And the same again after reopening the directory.
        drop(sled);
        let sled = SledStore::open(SledConfig::new(dir.path())).unwrap();
        runtime.block_on(async {
            prop_assert_eq!(snapshot(&sled, &w).await, snapshot(&memory, &w).await);
            Ok(())
        })?;
    }
}
