//! drydock-api under load on 127.0.0.1, 64 concurrent clients:
//!
//! * `get_task_1000_nodes`: `GET /api/v1.0/tasks/{id}` of a finished DeployNodes task over
//!   1,000 simulated nodes (the task JSON with its messages).
//! * `bootaction_units`: `GET /api/v1.0/bootactions/nodes/{host}/units` with the node's key
//!   (render the node's units, tar and gzip them).
//!
//! Criterion reports requests per second (throughput in elements); before each, one batch of
//! 6,400 requests is timed request by request and its p50/p99 latency printed.

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "common/sim_site.rs"]
mod sim_site;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use drydock::api::{ApiConfig, RunningServer};
use drydock::core::design::Source;
use drydock::core::orchestrator::{Orchestrator, OrchestratorConfig};
use drydock::core::sim::{SimConfig, SimWorld};
use drydock::core::store::MemoryStore;
use drydock::core::task::{Action, ResultStatus};

const CLIENTS: usize = 64;
const BATCH: usize = 640;

/// Boot action of every node: two units and a file, one of them templated.
const BOOTACTION: &str = "---\nschema: drydock/BootAction/v1\nmetadata: {name: bench}\ndata:\n  \
    signaling: false\n  assets:\n    \
    - {type: unit, path: /etc/systemd/system/a.service, data: \"[Unit]\\nDescription=a on {{ node.hostname }}\\n\", data_pipeline: [utf8_decode, template]}\n    \
    - {type: unit, path: /etc/systemd/system/b.service, data: \"[Unit]\\nDescription=b\\n\"}\n    \
    - {type: file, path: /etc/bench, permissions: '444', data: \"x\"}\n";

struct Fixture {
    server: RunningServer,
    task_url: String,
    units_url: String,
    key: String,
}

fn setup(rt: &tokio::runtime::Runtime) -> Fixture {
    rt.block_on(async {
        let world = SimWorld::new(SimConfig {
            commissioned: true,
            ..SimConfig::default()
        });
        let mut config = OrchestratorConfig::default();
        config.concurrency = 0;
        let orch = Orchestrator::builder()
            .store(Arc::new(MemoryStore::new()))
            .oob_driver(Arc::new(world.oob_driver()))
            .node_driver(Arc::new(world.node_driver()))
            .config(config)
            .build()
            .unwrap();
        let text = sim_site::site(1000) + BOOTACTION;
        let design = orch
            .put_design(&[Source::new("bench.yaml", text)])
            .await
            .unwrap();
        let task = orch
            .create_task(Action::DeployNodes, &design, None, "bench")
            .await
            .unwrap();
        let done = orch.run(task.id).await.unwrap();
        assert_eq!(done.task.result.status, ResultStatus::Success);
        assert_eq!(done.task.result.successes.len(), 1000);
        let key = orch
            .bootactions()
            .records_for_node("node00500")
            .await
            .unwrap()[0]
            .identity_key
            .to_hex();
        let app = drydock::api::router(orch, ApiConfig::default());
        let server = drydock::api::spawn("127.0.0.1:0".parse().unwrap(), app)
            .await
            .unwrap();
        Fixture {
            task_url: format!("{}/api/v1.0/tasks/{}", server.url(), task.id),
            units_url: format!(
                "{}/api/v1.0/bootactions/nodes/node00500/units",
                server.url()
            ),
            server,
            key,
        }
    })
}

/// Sends `n` GETs of `url` from `CLIENTS` concurrent clients; the latency of each.
async fn load(client: &reqwest::Client, url: &str, key: Option<&str>, n: usize) -> Vec<Duration> {
    let per = n.div_ceil(CLIENTS);
    let workers = (0..CLIENTS).map(|_| {
        let (client, url, key) = (client.clone(), url.to_owned(), key.map(str::to_owned));
        tokio::spawn(async move {
            let mut lat = Vec::with_capacity(per);
            for _ in 0..per {
                let started = Instant::now();
                let mut req = client.get(&url);
                if let Some(k) = &key {
                    req = req.header("X-Bootaction-Key", k);
                }
                let resp = req.send().await.expect("request");
                assert!(resp.status().is_success(), "{}", resp.status());
                let body = resp.bytes().await.expect("body");
                assert!(!body.is_empty());
                lat.push(started.elapsed());
            }
            lat
        })
    });
    let mut all = Vec::with_capacity(n);
    for w in futures::future::join_all(workers).await {
        all.extend(w.expect("worker"));
    }
    all
}

fn report(
    name: &str,
    rt: &tokio::runtime::Runtime,
    client: &reqwest::Client,
    url: &str,
    key: Option<&str>,
) {
    let n = 100 * CLIENTS;
    let started = Instant::now();
    let mut lat = rt.block_on(load(client, url, key, n));
    let elapsed = started.elapsed();
    lat.sort();
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    eprintln!(
        "{name}: {} requests, {CLIENTS} clients: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms",
        lat.len(),
        lat.len() as f64 / elapsed.as_secs_f64(),
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
    );
}

fn api(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let f = setup(&rt);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CLIENTS)
        .build()
        .unwrap();
    let mut group = c.benchmark_group("api");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Elements(BATCH as u64));
    for (name, url, key) in [
        ("get_task_1000_nodes", f.task_url.as_str(), None),
        (
            "bootaction_units",
            f.units_url.as_str(),
            Some(f.key.as_str()),
        ),
    ] {
        report(name, &rt, &client, url, key);
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let started = Instant::now();
                for _ in 0..iters {
                    rt.block_on(load(&client, url, key, BATCH));
                }
                started.elapsed()
            })
        });
    }
    group.finish();
    rt.block_on(f.server.shutdown()).unwrap();
}

criterion_group!(benches, api);
criterion_main!(benches);
