//! The sled store: journal writes per second (flush per write vs group commit, one task vs 64
//! tasks writing at once), loading a 10,000-node task's journal (on an open store, and
//! reopening the directory as a restarted orchestrator does), and resuming such a task (a new
//! orchestrator loads the design and journal and skips every journaled step). Runs on a real directory under
//! the target directory, not on a RAM disk, so flushes cost what they cost.
//!
//! `store/journal_write` also measures what the acknowledgement mark (issue 15: detecting a
//! damaged store that lost acknowledged writes) costs: one more small synced write per flush.
//! Measured on the shared 2-core build machine under load (≈18), so noisy; journal writes/s,
//! before the mark → with it: flush per write, 1 task 733 → 220–290, 64 tasks 1,402 →
//! 430–720; group commit 2 ms, 1 task 219 → 90–95, 64 tasks 2,005 → 1,100–1,940 (one mark
//! write serves the whole group). `reopen_task_and_journal` (which now also reads every key to
//! compare it with the mark) did not change measurably: 469 ms → 447–458 ms.

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use drydock::core::store::{JournalEntry, Step, StepOutcome, Store};
use drydock::core::task::{Action, Task, TaskId};
use drydock::sled::{Durability, SledConfig, SledStore};
use sim_site::site;
use tokio::task::JoinSet;

#[path = "common/sim_site.rs"]
mod sim_site;

const LOAD_NODES: usize = 10_000;
const LOAD_STEPS: [Step; 3] = [Step::ApplyNetworking, Step::Deploy, Step::BootactionReport];

fn entry(task: TaskId, node: usize, step: Step) -> JournalEntry {
    JournalEntry {
        task,
        node: Some(format!("node{node:05}")),
        step,
        outcome: StepOutcome::Succeeded,
        attempts: 1,
        retry: 0,
        at: Utc::now(),
    }
}

fn scratch() -> tempfile::TempDir {
    tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("scratch directory")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn journal_writes(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("store/journal_write");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    for (label, durability) in [
        ("flush_every_write", Durability::FlushEveryWrite),
        (
            "group_commit_2ms",
            Durability::GroupCommit { max_delay_ms: 2 },
        ),
    ] {
        for tasks in [1usize, 64] {
            let dir = scratch();
            let config = SledConfig::new(dir.path()).with_durability(durability);
            let store = Arc::new(SledStore::open(config).unwrap());
            let tasks: Vec<Task> = (0..tasks)
                .map(|_| Task::new(Action::DeployNodes, "design", None, "bench"))
                .collect();
            rt.block_on(async {
                for t in &tasks {
                    store.create_task(t).await.unwrap();
                }
            });
            // One iteration: every task journals one step (with its task update) at once.
            group.throughput(Throughput::Elements(tasks.len() as u64));
            group.bench_function(
                BenchmarkId::new(label, format!("{}_tasks", tasks.len())),
                |b| {
                    b.iter_custom(|iters| {
                        rt.block_on(async {
                            let start = Instant::now();
                            for i in 0..iters {
                                let mut set = JoinSet::new();
                                for t in &tasks {
                                    let (store, t) = (Arc::clone(&store), t.clone());
                                    set.spawn(async move {
                                        let e = entry(t.id, i as usize, Step::Deploy);
                                        store.record_step(&e, Some(&t)).await.unwrap();
                                    });
                                }
                                set.join_all().await;
                            }
                            start.elapsed()
                        })
                    })
                },
            );
        }
    }
    group.finish();
}

/// A store holding one task whose journal covers `LOAD_NODES` nodes, three steps each.
fn loaded_store(rt: &tokio::runtime::Runtime, dir: &std::path::Path) -> TaskId {
    let config = SledConfig::new(dir).with_durability(Durability::GroupCommit { max_delay_ms: 0 });
    let store = Arc::new(SledStore::open(config).unwrap());
    let task = Task::new(Action::DeployNodes, "design", None, "bench");
    rt.block_on(async {
        store.create_task(&task).await.unwrap();
        for step in LOAD_STEPS {
            // Writers in parallel share flushes; order within the journal does not matter here.
            for chunk in (0..LOAD_NODES).collect::<Vec<_>>().chunks(256) {
                let mut set = JoinSet::new();
                for &n in chunk {
                    let store = Arc::clone(&store);
                    set.spawn(async move {
                        store
                            .record_step(&entry(task.id, n, step), None)
                            .await
                            .unwrap();
                    });
                }
                set.join_all().await;
            }
        }
    });
    task.id
}

fn load(c: &mut Criterion) {
    let rt = runtime();
    let dir = scratch();
    let id = loaded_store(&rt, dir.path());
    let entries = (LOAD_NODES * LOAD_STEPS.len()) as u64;
    let mut group = c.benchmark_group("store/load_10000_nodes");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(entries));
    {
        let store = SledStore::open(SledConfig::new(dir.path())).unwrap();
        group.bench_function("journal_open_store", |b| {
            b.iter(|| {
                let journal = rt.block_on(store.journal(id)).unwrap();
                assert_eq!(journal.len() as u64, entries);
            })
        });
    }
    group.bench_function("reopen_task_and_journal", |b| {
        b.iter(|| {
            let store = SledStore::open(SledConfig::new(dir.path())).unwrap();
            rt.block_on(async {
                assert!(store.get_task(id).await.unwrap().is_some());
                assert_eq!(store.journal(id).await.unwrap().len() as u64, entries);
            });
        })
    });
    group.finish();
}

/// Resuming a 10,000-node DeployNodes task whose every step is journaled: a new orchestrator on
/// the open store loads the design and the journal, skips the 40,000 steps and finishes.
fn resume(c: &mut Criterion) {
    use drydock::core::design::Source;
    use drydock::core::orchestrator::Orchestrator;
    use drydock::core::sim::{SimConfig, SimWorld};
    use drydock::core::task::TaskStatus;
    let rt = runtime();
    let dir = scratch();
    let config =
        SledConfig::new(dir.path()).with_durability(Durability::GroupCommit { max_delay_ms: 0 });
    let store: Arc<dyn Store> = Arc::new(SledStore::open(config).unwrap());
    let world = SimWorld::new(SimConfig {
        commissioned: true,
        ..SimConfig::default()
    });
    let orchestrator = || {
        Orchestrator::builder()
            .store(Arc::clone(&store))
            .oob_driver(Arc::new(world.oob_driver()))
            .node_driver(Arc::new(world.node_driver()))
            .build()
            .unwrap()
    };
    let steps = [
        Step::ApplyNetworking,
        Step::ApplyStorage,
        Step::ApplyPlatform,
        Step::Deploy,
    ];
    let id = rt.block_on(async {
        let orch = orchestrator();
        let design = orch
            .put_design(&[Source::new("bench.yaml", site(LOAD_NODES))])
            .await
            .unwrap();
        let task = orch
            .create_task(Action::DeployNodes, &design, None, "bench")
            .await
            .unwrap();
        for step in steps {
            for chunk in (0..LOAD_NODES).collect::<Vec<_>>().chunks(256) {
                let mut set = JoinSet::new();
                for &n in chunk {
                    let store = Arc::clone(&store);
                    set.spawn(async move {
                        store
                            .record_step(&entry(task.id, n, step), None)
                            .await
                            .unwrap()
                    });
                }
                set.join_all().await;
            }
        }
        task.id
    });
    let mut group = c.benchmark_group("store/resume_10000_nodes");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(5));
    group.bench_function("load_design_journal_and_skip_all", |b| {
        b.iter_batched(
            || {
                // Back to "running", as after a crash.
                rt.block_on(async {
                    let mut task = store.get_task(id).await.unwrap().unwrap();
                    task.status = TaskStatus::Running;
                    store.update_task(&task).await.unwrap();
                });
                orchestrator()
            },
            |orch| {
                let done = rt.block_on(orch.run(id)).unwrap();
                assert_eq!(done.steps_skipped, LOAD_NODES * steps.len());
                assert_eq!(done.steps_executed, 0);
            },
            criterion::BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, journal_writes, load, resume);
criterion_main!(benches);
