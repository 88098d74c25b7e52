//! Shared setup of the driver tests: a small design and a fake MAAS whose machines match it.
#![allow(dead_code, unreachable_pub)]

pub mod expect;

use std::time::Duration;

use drydock_core::design::{CompiledDesign, compile, ingest_str};
use drydock_core::driver::{NodeJob, SiteJob};
use drydock_driver_maas::fake::FakeMaas;
use drydock_driver_maas::{MaasApiKey, MaasDriver, MaasDriverConfig};

const HEAD: &str = r#"
---
schema: drydock/Region/v1
metadata: {schema: metadata/Document/v1, name: test-site}
data:
  authorized_keys:
    - ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB8fS7mZ2vQ3x0n9y6uQ1rj8Yd6b0cNn3kKx2WlYp9Ta ops@test
  repositories:
    remove_unlisted: true
    mirror:
      repo_type: apt
      url: http://mirror.example/ubuntu
      distributions: [jammy]
      components: [main, universe]
      subrepos: [security]
---
schema: drydock/NetworkLink/v1
metadata: {schema: metadata/Document/v1, name: oob}
data:
  bonding: {mode: disabled}
  trunking: {mode: disabled, default_network: oob}
  allowed_networks: [oob]
---
schema: drydock/NetworkLink/v1
metadata: {schema: metadata/Document/v1, name: pxe}
data:
  bonding: {mode: disabled}
  mtu: 1500
  trunking: {mode: disabled, default_network: pxe}
  allowed_networks: [pxe]
---
schema: drydock/NetworkLink/v1
metadata: {schema: metadata/Document/v1, name: data}
data:
  bonding: {mode: 802.3ad, hash: layer3+4, peer_rate: fast, mon_rate: 100, up_delay: 200, down_delay: 200}
  mtu: 9000
  trunking: {mode: 802.1q, default_network: mgmt}
  allowed_networks: [mgmt, storage]
---
schema: drydock/NetworkLink/v1
metadata: {schema: metadata/Document/v1, name: ignored}
data:
  trunking: {mode: disabled, default_network: ignored}
  allowed_networks: [ignored]
  labels: {noconfig: 'true'}
---
schema: drydock/Network/v1
metadata: {schema: metadata/Document/v1, name: oob}
data:
  cidr: 10.40.0.0/24
  ranges:
    - {type: reserved, start: 10.40.0.1, end: 10.40.0.9}
  dns: {domain: oob.test, servers: 10.40.0.2}
---
schema: drydock/Network/v1
metadata: {schema: metadata/Document/v1, name: pxe}
data:
  cidr: 10.0.0.0/24
  ranges:
    - {type: reserved, start: 10.0.0.1, end: 10.0.0.9}
    - {type: static, start: 10.0.0.10, end: 10.0.0.99}
    - {type: dhcp, start: 10.0.0.100, end: 10.0.0.200}
  dns: {domain: pxe.test, servers: 10.0.0.2}
---
schema: drydock/Network/v1
metadata: {schema: metadata/Document/v1, name: mgmt}
data:
  vlan: '110'
  cidr: 10.42.0.0/24
  routes:
    - {subnet: 0.0.0.0/0, gateway: 10.42.0.1, metric: 10}
    - {subnet: 10.40.0.0/24, gateway: 10.42.0.1, metric: 50}
  dns: {domain: mgmt.test, servers: '10.42.0.2,10.42.0.3'}
---
schema: drydock/Network/v1
metadata: {schema: metadata/Document/v1, name: storage}
data:
  vlan: '120'
  mtu: 9000
  cidr: 10.43.0.0/24
---
schema: drydock/Network/v1
metadata: {schema: metadata/Document/v1, name: ignored}
data:
  cidr: 10.99.0.0/24
  labels: {noconfig: 'true'}
---
schema: drydock/HostProfile/v1
metadata: {schema: metadata/Document/v1, name: base}
data:
  primary_network: mgmt
  oob: {type: ipmi, network: oob, account: admin, credential: secret-bmc-pass}
  storage:
    physical_devices:
      sda:
        partitions:
          - {name: root, size: 30g, bootable: true, filesystem: {mountpoint: /, fstype: ext4}}
          - {name: boot, size: 1g, filesystem: {mountpoint: /boot, fstype: ext4, fs_label: boot}}
          - {name: pv, size: '>10g', volume_group: data}
    volume_groups:
      data:
        logical_volumes:
          - {name: var, size: 50%, filesystem: {mountpoint: /var, fstype: xfs}}
          - {name: log, size: '>1g', filesystem: {mountpoint: /var/log, fstype: ext4}}
  interfaces:
    pxe: {device_link: pxe, slaves: [eth0], networks: [pxe]}
    bond0: {device_link: data, slaves: [eth1], networks: [mgmt, storage]}
  platform:
    image: jammy
    kernel: ga-22.04
    kernel_params: {console: 'ttyS1,115200', quiet: true}
  metadata:
    tags: [compute]
    owner_data: {role: compute}
"#;

/// BMC address of node `i` (1-based).
pub fn bmc(i: usize) -> String {
    format!("10.40.0.{}", 10 + i)
}

/// The design with `n` nodes `n01`…
pub fn design(n: usize) -> CompiledDesign {
    compile(ingest_str(&design_text(n)).expect("design ingests")).expect("design compiles")
}

/// The YAML documents of [`design`]`(n)`.
pub fn design_text(n: usize) -> String {
    let mut text = HEAD.to_owned();
    for i in 1..=n {
        text.push_str(&format!(
            r#"---
schema: drydock/BaremetalNode/v1
metadata: {{schema: metadata/Document/v1, name: n{i:02}}}
data:
  host_profile: base
  addressing:
    - {{network: oob, address: {bmc}}}
    - {{network: pxe, address: dhcp}}
    - {{network: mgmt, address: 10.42.0.{a}}}
    - {{network: storage, address: 10.43.0.{a}}}
"#,
            bmc = bmc(i),
            a = 10 + i
        ));
    }
    text
}

/// A fake with machines for nodes 1..=`machines` (BMC addresses matching), ticking by itself.
pub async fn fake(machines: usize) -> FakeMaas {
    let fake = FakeMaas::builder()
        .auto_tick(Duration::from_millis(5))
        .start()
        .await
        .expect("fake starts");
    for i in 1..=machines {
        fake.add_machine(&format!("enlisted-{i}"), &bmc(i));
    }
    fake
}

/// A fake with machines for nodes 1..=`machines` whose clock moves only when the test ticks it.
pub async fn fake_manual_clock(machines: usize) -> FakeMaas {
    let fake = FakeMaas::builder().start().await.expect("fake starts");
    for i in 1..=machines {
        fake.add_machine(&format!("enlisted-{i}"), &bmc(i));
    }
    fake
}

/// Test configuration: fast polls, no retry waits.
pub fn config(url: String, key: MaasApiKey) -> MaasDriverConfig {
    MaasDriverConfig::new(url, key)
        .poll_interval(Duration::from_millis(10))
        .deadlines(Duration::from_secs(20))
        .max_retry_wait(Duration::ZERO)
}

/// A driver for `fake`.
pub fn driver(fake: &FakeMaas) -> MaasDriver {
    MaasDriver::new(config(fake.url(), fake.api_key().clone())).expect("driver builds")
}

/// The job of node `name`.
pub fn job<'a>(design: &'a CompiledDesign, name: &str) -> NodeJob<'a> {
    NodeJob::new(design.node(name).expect("node in design"), design)
}

/// The site job.
pub fn site(design: &CompiledDesign) -> SiteJob<'_> {
    SiteJob { design }
}
