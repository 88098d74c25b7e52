//! Two measurements, each printed with its ratio, then run again under criterion:
//!
//! 1. Session set-up against each of two BMC implementations, `ipmi_sim` and pyghmi's BMC
//!    server (`drydock-driver-ipmi/tests/peers/pyghmi_bmc.py`): one new session with the cipher
//!    suite chosen automatically, Get Device ID, Close Session; drydock's client against
//!    `ipmitool -I lanplus` doing the same (`raw 0x06 0x01`).
//! 2. Power status of 64 BMCs at once: drydock's IPMI client (64 concurrent sessions on one
//!    tokio runtime) against `ipmitool -I lanplus -C 3` run 64-way in parallel, on the same 64
//!    `ipmi_sim` processes on 127.0.0.1.
//!
//! `cargo bench --bench ipmi` (needs `ipmi_sim` and `ipmitool`, and for pyghmi the Python
//! environment `scripts/test` makes; each part is skipped with a message otherwise).

use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use criterion::Criterion;

#[path = "common/ipmi_setup.rs"]
mod setup;
use drydock::ipmi::{IpmiClient, IpmiConfig, PowerState};

const BMCS: usize = 64;
/// The IPMI tests' `ipmi_sim` configuration templates.
const CONFIG: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/drydock-driver-ipmi/tests/ipmi_sim"
);

/// One `ipmi_sim` process, killed on drop.
struct Sim {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn start_sim(sim: &Path) -> Sim {
    let dir = tempfile::tempdir().unwrap();
    let port = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let script = dir.path().join("chassis.sh");
    std::fs::copy(Path::new(CONFIG).join("chassis.sh"), &script).unwrap();
    let lan = std::fs::read_to_string(Path::new(CONFIG).join("lan.conf"))
        .unwrap()
        .replace("@CHASSIS@", script.to_str().unwrap())
        .replace("@PORT@", &port.to_string());
    std::fs::write(dir.path().join("lan.conf"), lan).unwrap();
    std::fs::copy(
        Path::new(CONFIG).join("sim.emu"),
        dir.path().join("sim.emu"),
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("state")).unwrap();
    let child = Command::new(sim)
        .current_dir(dir.path())
        .args(["-c", "lan.conf", "-f", "sim.emu", "-s", "state", "-n", "-p"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Sim {
        child,
        port,
        _dir: dir,
    }
}

fn config(port: u16) -> IpmiConfig {
    IpmiConfig::new("127.0.0.1", "admin", "password")
        .with_port(port)
        .with_cipher_suite(3)
}

/// One status round over every BMC with drydock: connect, Get Chassis Status, close.
async fn drydock_round(ports: &[u16]) -> usize {
    let mut set = tokio::task::JoinSet::new();
    for &port in ports {
        set.spawn(async move {
            let client = IpmiClient::connect(&config(port)).await?;
            let power = client.power_state().await?;
            client.close().await?;
            Ok::<PowerState, drydock::ipmi::Error>(power)
        });
    }
    let mut ok = 0;
    while let Some(result) = set.join_next().await {
        result.expect("task").expect("power status");
        ok += 1;
    }
    ok
}

/// One status round over every BMC with 64 parallel `ipmitool` processes.
fn ipmitool_round(ipmitool: &Path, ports: &[u16]) -> usize {
    let children: Vec<Child> = ports
        .iter()
        .map(|port| {
            Command::new(ipmitool)
                .args([
                    "-I",
                    "lanplus",
                    "-C",
                    "3",
                    "-H",
                    "127.0.0.1",
                    "-p",
                    &port.to_string(),
                ])
                .args([
                    "-U", "admin", "-P", "password", "chassis", "power", "status",
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .filter(|o| o.status.success())
        .count()
}

fn main() {
    let (Some(sim), Some(ipmitool)) = (which("ipmi_sim"), which("ipmitool")) else {
        eprintln!(
            "SKIPPED bench ipmi: needs ipmi_sim and ipmitool (apt-get install -y openipmi ipmitool)"
        );
        return;
    };
    setup::run(&sim, &ipmitool);
    let sims: Vec<Sim> = (0..BMCS).map(|_| start_sim(&sim)).collect();
    let ports: Vec<u16> = sims.iter().map(|s| s.port).collect();
    let rt = tokio::runtime::Runtime::new().unwrap();
    // Wait (bounded) until every simulator answers.
    let ready = (0..50).any(|_| {
        let ok = rt.block_on(drydock_round_lenient(&ports));
        if ok < BMCS {
            std::thread::sleep(Duration::from_millis(200));
        }
        ok == BMCS
    });
    assert!(ready, "not all {BMCS} ipmi_sim processes came up");

    let rounds = 5;
    let start = Instant::now();
    for _ in 0..rounds {
        assert_eq!(rt.block_on(drydock_round(&ports)), BMCS);
    }
    let ours = start.elapsed() / rounds;
    let start = Instant::now();
    for _ in 0..rounds {
        assert_eq!(ipmitool_round(&ipmitool, &ports), BMCS);
    }
    let theirs = start.elapsed() / rounds;
    println!(
        "power status of {BMCS} BMCs: drydock {ours:?}, ipmitool x{BMCS} {theirs:?}, ratio ipmitool/drydock = {:.1}",
        theirs.as_secs_f64() / ours.as_secs_f64()
    );

    let mut c = Criterion::default().sample_size(10).configure_from_args();
    let mut group = c.benchmark_group("power_status_64_bmcs");
    group.bench_function("drydock", |b| b.iter(|| rt.block_on(drydock_round(&ports))));
    group.bench_function("ipmitool_parallel", |b| {
        b.iter(|| ipmitool_round(&ipmitool, &ports))
    });
    group.finish();
    c.final_summary();
}

/// Like [`drydock_round`] but counts failures instead of panicking (start-up probe).
async fn drydock_round_lenient(ports: &[u16]) -> usize {
    let mut set = tokio::task::JoinSet::new();
    for &port in ports {
        set.spawn(async move {
            let config = config(port)
                .with_timeout(Duration::from_millis(300))
                .with_retries(0);
            let client = IpmiClient::connect(&config).await.ok()?;
            let _ = client.close().await;
            Some(())
        });
    }
    let mut ok = 0;
    while let Some(result) = set.join_next().await {
        ok += usize::from(matches!(result, Ok(Some(()))));
    }
    ok
}
