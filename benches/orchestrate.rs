//! DeployNodes over 1,000 and 10,000 simulated nodes (four steps each).
//!
//! * `overhead`: drivers answer at once, so the time is the orchestrator's own cost (journal,
//!   events, scheduling) for `4 × nodes` steps.
//! * `latency_10ms`: every driver call takes 10 ms and concurrency is unbounded; the critical
//!   path is 4 × 10 ms = 40 ms whatever the number of nodes, so the makespan shows how close
//!   the orchestrator gets to the physical limit.
//! * `sim_floor_10ms`: the same four simulated calls per node, all nodes at once, made directly
//!   with nothing around them (no task, journal, timeouts or events). This is as fast as the
//!   simulated hardware answers on the machine at hand: the makespan of `latency_10ms` minus
//!   this one is what the orchestrator adds.

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::sync::Arc;
use std::time::Duration;

#[path = "common/sim_site.rs"]
mod sim_site;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use drydock::core::design::{CompiledDesign, Source, compile, ingest_str};
use drydock::core::driver::{NodeDriver, NodeJob};
use drydock::core::orchestrator::{Orchestrator, OrchestratorConfig};
use drydock::core::sim::{SimConfig, SimWorld};
use drydock::core::store::MemoryStore;
use drydock::core::task::{Action, ResultStatus, TaskId};
use futures::StreamExt;
use sim_site::site;

/// An orchestrator over commissioned simulated nodes, and a queued DeployNodes task.
fn setup(rt: &tokio::runtime::Runtime, text: &str, latency: Duration) -> (Orchestrator, TaskId) {
    let world = SimWorld::new(SimConfig {
        latency,
        commissioned: true,
        ..SimConfig::default()
    });
    let mut config = OrchestratorConfig::default();
    config.concurrency = 0; // unbounded
    let orch = Orchestrator::builder()
        .store(Arc::new(MemoryStore::new()))
        .oob_driver(Arc::new(world.oob_driver()))
        .node_driver(Arc::new(world.node_driver()))
        .config(config)
        .build()
        .expect("orchestrator");
    let task = rt.block_on(async {
        let design = orch
            .put_design(&[Source::new("bench.yaml", text)])
            .await
            .unwrap();
        // Compile and validate outside the measurement (both are cached per design).
        assert!(orch.validate(&design).await.unwrap().is_valid());
        orch.create_task(Action::DeployNodes, &design, None, "bench")
            .await
            .unwrap()
    });
    (orch, task.id)
}

/// A fresh simulated provisioner over commissioned nodes, answering after `latency`.
fn sim_driver(latency: Duration) -> Arc<dyn NodeDriver> {
    let world = SimWorld::new(SimConfig {
        latency,
        commissioned: true,
        ..SimConfig::default()
    });
    Arc::new(world.node_driver())
}

/// DeployNodes' four calls for every node, all nodes at once, with nothing around them.
async fn floor(driver: &dyn NodeDriver, design: &CompiledDesign) -> usize {
    let nodes = design.nodes.values().map(|node| async move {
        let job = NodeJob::new(node, design);
        driver.apply_networking(job).await.unwrap();
        driver.apply_storage(job).await.unwrap();
        driver.apply_platform(job).await.unwrap();
        driver.deploy(job).await.unwrap();
    });
    futures::stream::iter(nodes)
        .buffer_unordered(usize::MAX)
        .count()
        .await
}

fn deploy(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("deploy_nodes");
    group.sample_size(10);
    for n in [1_000usize, 10_000] {
        let text = site(n);
        group.throughput(Throughput::Elements((4 * n) as u64));
        for (label, latency) in [
            ("overhead", Duration::ZERO),
            ("latency_10ms", Duration::from_millis(10)),
        ] {
            group.bench_with_input(BenchmarkId::new(label, n), &text, |b, text| {
                b.iter_batched(
                    || setup(&rt, text, latency),
                    |(orch, task)| {
                        let done = rt.block_on(orch.run(task)).unwrap();
                        assert_eq!(
                            done.task.result.status,
                            ResultStatus::Success,
                            "{:?}",
                            done.task.result.messages.first()
                        );
                        assert_eq!(done.steps_executed, 4 * n);
                        // Dropped after the measurement: tearing down the orchestrator, its
                        // store, the compiled design and the simulated world (1 ms at 1,000
                        // nodes, 7-12 ms at 10,000) is not part of the run.
                        (orch, done)
                    },
                    BatchSize::PerIteration,
                )
            });
        }
        // The design does not change between iterations: compiled once.
        let design = compile(ingest_str(&text).unwrap()).unwrap();
        group.bench_with_input(
            BenchmarkId::new("sim_floor_10ms", n),
            &design,
            |b, design| {
                b.iter_batched(
                    || sim_driver(Duration::from_millis(10)),
                    |driver| {
                        assert_eq!(rt.block_on(floor(driver.as_ref(), design)), n);
                        driver
                    },
                    BatchSize::PerIteration,
                )
            },
        );
    }
    group.finish();
}

criterion_group!(benches, deploy);
criterion_main!(benches);
