//! The little site, settings and fixture the orchestrator tests share.
#![allow(dead_code, unreachable_pub)]

use std::sync::Arc;
use std::time::Duration;

use drydock_core::design::{NodeFilterSet, Source};
use drydock_core::driver::Operation;
use drydock_core::orchestrator::RunSummary;
use drydock_core::orchestrator::{Orchestrator, OrchestratorConfig, RetryPolicy, Timeouts};
use drydock_core::sim::{SimConfig, SimWorld};
use drydock_core::store::{DesignId, MemoryStore, Store};
use drydock_core::task::{Action, Task};

/// A valid little site: `n` nodes n00.. with IPMI BMCs on the oob network.
pub fn site(n: usize) -> String {
    let mut s = String::from(
        "schema: drydock/Network/v1\nmetadata: {name: oob}\ndata: {cidr: 10.0.0.0/24}\n---\n\
         schema: drydock/NetworkLink/v1\nmetadata: {name: oob}\ndata: {allowed_networks: [oob], trunking: {mode: disabled, default_network: oob}}\n---\n\
         schema: drydock/HostProfile/v1\nmetadata: {name: base}\ndata:\n  oob: {type: ipmi, network: oob, account: admin, credential: pw}\n  interfaces:\n    eth0: {device_link: oob, networks: [oob]}\n  storage:\n    physical_devices:\n      sda:\n        partitions:\n          - {name: root, size: 30g, filesystem: {mountpoint: /}}\n          - {name: boot, size: 1g, filesystem: {mountpoint: /boot}}\n",
    );
    for i in 0..n {
        s.push_str(&format!(
            "---\nschema: drydock/BaremetalNode/v1\nmetadata: {{name: n{i:02}}}\ndata:\n  host_profile: base\n  addressing: [{{network: oob, address: 10.0.0.{}}}]\n  metadata: {{tags: [{}]}}\n",
            10 + i,
            if i % 2 == 0 { "even" } else { "odd" }
        ));
    }
    s
}

pub fn config() -> OrchestratorConfig {
    let mut c = OrchestratorConfig::default();
    c.retry = RetryPolicy {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        jitter: true,
    };
    c.poll_interval = Duration::from_millis(20);
    c.timeouts = Timeouts::all(Duration::from_secs(5));
    c
}

/// A simulated world whose machines the provisioner already knows.
pub fn preenlisted() -> SimConfig {
    SimConfig {
        preenlisted: true,
        ..SimConfig::default()
    }
}

pub struct Fixture {
    pub world: SimWorld,
    pub store: Arc<MemoryStore>,
    pub orch: Orchestrator,
    pub design: DesignId,
}

pub async fn fixture(nodes: usize, sim: SimConfig, cfg: OrchestratorConfig) -> Fixture {
    let world = SimWorld::new(sim);
    let store = Arc::new(MemoryStore::new());
    let orch = orchestrator(&world, store.clone(), cfg);
    let design = orch
        .put_design(&[Source::new("site.yaml", site(nodes))])
        .await
        .unwrap();
    Fixture {
        world,
        store,
        orch,
        design,
    }
}

pub fn orchestrator(
    world: &SimWorld,
    store: Arc<dyn Store>,
    cfg: OrchestratorConfig,
) -> Orchestrator {
    Orchestrator::builder()
        .store(store)
        .oob_driver(Arc::new(world.oob_driver()))
        .node_driver(Arc::new(world.node_driver()))
        .config(cfg)
        .build()
        .unwrap()
}

impl Fixture {
    pub async fn run(
        &self,
        action: Action,
        filter: Option<NodeFilterSet>,
    ) -> drydock_core::orchestrator::RunSummary {
        let task = self
            .orch
            .create_task(action, &self.design, filter, "test")
            .await
            .unwrap();
        self.orch.run(task.id).await.unwrap()
    }
}

pub fn calls(world: &SimWorld, op: Operation, node: &str) -> usize {
    world
        .calls()
        .iter()
        .filter(|c| c.operation == op && c.node.as_deref() == Some(node))
        .count()
}

/// A simulated world of known machines whose every call takes `latency_ms`.
pub fn slow(latency_ms: u64) -> SimConfig {
    SimConfig {
        preenlisted: true,
        latency: Duration::from_millis(latency_ms),
        ..SimConfig::default()
    }
}

impl Fixture {
    /// A new task of `action` over `filter` (all nodes when `None`).
    pub async fn task(&self, action: Action, filter: Option<NodeFilterSet>) -> Task {
        self.orch
            .create_task(action, &self.design, filter, "test")
            .await
            .unwrap()
    }

    /// A new task running in the background, 100 ms (of the test's clock) after it started.
    pub async fn start(
        &self,
        action: Action,
        filter: Option<NodeFilterSet>,
    ) -> (
        Task,
        tokio::task::JoinHandle<drydock_core::orchestrator::Result<RunSummary>>,
    ) {
        let task = self.task(action, filter).await;
        let handle = self.orch.spawn(task.id);
        tokio::time::sleep(Duration::from_millis(100)).await;
        (task, handle)
    }
}
