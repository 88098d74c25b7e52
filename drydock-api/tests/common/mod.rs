//! Shared fixture of the API tests: an orchestrator over the simulated drivers and a memory
//! store, served on 127.0.0.1 (a free port), its simulated nodes fetching and reporting over HTTP.

#![allow(dead_code, unreachable_pub)]

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use drydock_api::ApiConfig;
use drydock_api::RunningServer;
use drydock_api::sim::HttpNodeAgent;
use drydock_core::orchestrator::{Orchestrator, OrchestratorConfig};
use drydock_core::sim::{SimConfig, SimWorld};
use drydock_core::store::MemoryStore;

/// A valid site: nodes n1 and n2 (tagged `signal`) and n3; boot action `hello` (signalling,
/// a templated file with mode 0555) applies to the tagged nodes; `quiet` (not signalling, a
/// unit with the default mode) to every node.
pub const SITE: &str = r#"
schema: drydock/Network/v1
metadata: {name: oob}
data: {cidr: 10.1.0.0/24}
---
schema: drydock/NetworkLink/v1
metadata: {name: oob}
data: {allowed_networks: [oob], trunking: {mode: disabled, default_network: oob}}
---
schema: drydock/HostProfile/v1
metadata: {name: base}
data:
  oob: {type: ipmi, network: oob, account: admin, credential: pw}
  interfaces:
    eth0: {device_link: oob, networks: [oob]}
  storage:
    physical_devices:
      sda:
        partitions:
          - {name: root, size: 30g, filesystem: {mountpoint: /}}
---
schema: drydock/BaremetalNode/v1
metadata: {name: n1}
data: {host_profile: base, addressing: [{network: oob, address: 10.1.0.11}], metadata: {tags: [signal], rack: r1}}
---
schema: drydock/BaremetalNode/v1
metadata: {name: n2}
data: {host_profile: base, addressing: [{network: oob, address: 10.1.0.12}], metadata: {tags: [signal], rack: r2}}
---
schema: drydock/BaremetalNode/v1
metadata: {name: n3}
data: {host_profile: base, addressing: [{network: oob, address: 10.1.0.13}], metadata: {rack: r2}}
---
schema: drydock/BootAction/v1
metadata: {name: hello}
data:
  node_filter:
    filter_set_type: union
    filter_set: [{filter_type: union, node_tags: [signal]}]
  assets:
    - {type: file, path: /var/tmp/hello.sh, permissions: '555', data: "echo hello from {{ node.hostname }}", data_pipeline: [utf8_decode, template]}
---
schema: drydock/BootAction/v1
metadata: {name: quiet}
data:
  signaling: false
  assets:
    - {type: unit, path: /etc/systemd/system/quiet.service, data: "[Unit]\nDescription=quiet\n"}
"#;

/// The same site with an error validation finds: a partition larger than any disk would
/// still compile, so use a network whose link does not allow it.
pub const INVALID_SITE: &str = r#"
schema: drydock/Network/v1
metadata: {name: oob}
data: {cidr: 10.1.0.0/24, mtu: 9000}
---
schema: drydock/NetworkLink/v1
metadata: {name: oob}
data: {mtu: 1500, allowed_networks: [oob], trunking: {mode: disabled, default_network: oob}}
---
schema: drydock/BaremetalNode/v1
metadata: {name: n1}
data:
  oob: {type: ipmi, network: oob, account: admin, credential: pw}
  interfaces:
    eth0: {device_link: oob, networks: [oob]}
  addressing: [{network: oob, address: 10.1.0.11}]
  storage:
    physical_devices:
      sda:
        partitions:
          - {name: root, size: 30g, filesystem: {mountpoint: /}}
"#;

pub struct Api {
    pub world: SimWorld,
    pub orch: Orchestrator,
    pub server: RunningServer,
    pub agent: HttpNodeAgent,
    pub http: reqwest::Client,
    pub dir: tempfile::TempDir,
}

impl Api {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url())
    }

    /// The JSON body of `GET path` (panics on a transport error or a body that is not JSON).
    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        let response = self.http.get(self.url(path)).send().await.unwrap();
        response.json().await.unwrap()
    }

    /// `file://` URL of the valid site, written to the fixture's directory.
    pub fn site_ref(&self) -> String {
        format!(
            "file://{}",
            self.dir.path().join("site/site.yaml").display()
        )
    }

    /// `file://` URL of the invalid site.
    pub fn invalid_ref(&self) -> String {
        format!(
            "file://{}",
            self.dir.path().join("invalid/site.yaml").display()
        )
    }
}

/// Starts the fixture. The boot action deadline is 10 minutes: a DeployNodes that ends within
/// seconds got its reports over HTTP.
pub async fn start(config: ApiConfig) -> Api {
    let world = SimWorld::new(SimConfig {
        preenlisted: true,
        ..SimConfig::default()
    });
    let mut cfg = OrchestratorConfig::default();
    cfg.timeouts.bootaction_final_status = Duration::from_secs(600);
    cfg.poll_interval = Duration::from_millis(20);
    let orch = Orchestrator::builder()
        .store(Arc::new(MemoryStore::new()))
        .oob_driver(Arc::new(world.oob_driver()))
        .node_driver(Arc::new(world.node_driver()))
        .config(cfg)
        .build()
        .unwrap();
    let app = drydock_api::router(orch.clone(), config);
    let server = drydock_api::spawn("127.0.0.1:0".parse().unwrap(), app)
        .await
        .unwrap();
    let agent = HttpNodeAgent::new(server.url()).keeping_assets();
    world.report_bootactions_via(orch.bootactions(), Arc::new(agent.clone()));
    let dir = tempfile::tempdir().unwrap();
    for (sub, text) in [("site", SITE), ("invalid", INVALID_SITE)] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        std::fs::write(dir.path().join(sub).join("site.yaml"), text).unwrap();
    }
    Api {
        world,
        orch,
        server,
        agent,
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap(),
        dir,
    }
}

/// The entries of a gzipped tar: (path, mode, content).
pub fn untar(gz: &[u8]) -> Vec<(String, u32, String)> {
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(gz));
    tar.entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let path = e.path().unwrap().display().to_string();
            let mode = e.header().mode().unwrap();
            let mut text = String::new();
            e.read_to_string(&mut text).unwrap();
            (path, mode, text)
        })
        .collect()
}
