//! DeployNodes over 1,000 and 10,000 simulated nodes (four steps each).
//!
//! * `overhead`: drivers answer at once, so the time is the orchestrator's own cost (journal,
//!   events, scheduling) for `4 × nodes` steps.
//! * `latency_10ms`: every driver call takes 10 ms and concurrency is unbounded; the critical
//!   path is 4 × 10 ms = 40 ms whatever the number of nodes, so the makespan shows how close
//!   the orchestrator gets to the physical limit.

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::sync::Arc;
use std::time::Duration;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use drydock::core::design::Source;
use drydock::core::orchestrator::{Orchestrator, OrchestratorConfig};
use drydock::core::sim::{SimConfig, SimWorld};
use drydock::core::store::MemoryStore;
use drydock::core::task::{Action, ResultStatus, TaskId};

fn site(n: usize) -> String {
    let mut s = String::from(
        "schema: drydock/Network/v1\nmetadata: {name: oob}\ndata: {cidr: 10.0.0.0/8}\n",
    );
    for i in 0..n {
        s.push_str(&format!(
            "---\nschema: drydock/BaremetalNode/v1\nmetadata: {{name: node{i:05}}}\ndata:\n  addressing: [{{network: oob, address: 10.{}.{}.{}}}]\n  oob: {{type: ipmi, network: oob}}\n",
            i >> 16,
            (i >> 8) & 255,
            i & 255
        ));
    }
    s
}

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
        orch.design(&design).await.unwrap(); // compile outside the measurement
        orch.create_task(Action::DeployNodes, &design, None, "bench")
            .await
            .unwrap()
    });
    (orch, task.id)
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
    }
    group.finish();
}

criterion_group!(benches, deploy);
criterion_main!(benches);
