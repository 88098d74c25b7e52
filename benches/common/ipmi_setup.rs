//! Part 1 of `benches/ipmi.rs`: session set-up time, drydock against `ipmitool -I lanplus`, on
//! one `ipmi_sim` and one pyghmi BMC. Both clients choose the cipher suite themselves, except
//! ipmitool against `ipmi_sim` (see [`run`]).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use criterion::Criterion;
use drydock::ipmi::{IpmiClient, IpmiConfig};

use super::{Sim, start_sim};

const PYGHMI_BMC: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/drydock-driver-ipmi/tests/peers/pyghmi_bmc.py"
);
const ROUNDS: u32 = 10;

/// A pyghmi BMC process, killed on drop.
struct Pyghmi {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Pyghmi {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn python() -> Option<PathBuf> {
    let venv = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/target/drydock-venv/bin/python"
    ));
    let python = std::env::var_os("DRYDOCK_PYTHON")
        .map(PathBuf::from)
        .unwrap_or(venv);
    python.is_file().then_some(python)
}

fn start_pyghmi(python: &Path) -> Option<Pyghmi> {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(python)
        .arg(PYGHMI_BMC)
        .arg(port.to_string())
        .arg(dir.path())
        .args(["admin", "password"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut line = String::new();
    BufReader::new(child.stdout.take()?)
        .read_line(&mut line)
        .ok()?;
    let bmc = Pyghmi {
        child,
        port,
        _dir: dir,
    };
    line.starts_with("ready").then_some(bmc)
}

async fn drydock_setup(port: u16) {
    let config = IpmiConfig::new("127.0.0.1", "admin", "password").with_port(port);
    let client = IpmiClient::connect(&config).await.expect("connect");
    client.device_id().await.expect("Get Device ID");
    client.close().await.expect("close");
}

fn ipmitool_setup(ipmitool: &Path, port: u16, extra: &[&str]) {
    let out = Command::new(ipmitool)
        .args(["-I", "lanplus", "-H", "127.0.0.1", "-p", &port.to_string()])
        .args(extra)
        .args(["-U", "admin", "-P", "password", "raw", "0x06", "0x01"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("ipmitool");
    assert!(out.success(), "ipmitool failed against port {port}");
}

/// Mean over [`ROUNDS`] of `f`.
fn mean(mut f: impl FnMut()) -> Duration {
    f();
    let start = Instant::now();
    for _ in 0..ROUNDS {
        f();
    }
    start.elapsed() / ROUNDS
}

/// Measures and prints the set-up times per BMC, then runs them under criterion.
pub(crate) fn run(sim: &Path, ipmitool: &Path) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim: Sim = start_sim(sim);
    // Wait (bounded) for the simulator.
    let ready = (0..50).any(|_| {
        let config = IpmiConfig::new("127.0.0.1", "admin", "password")
            .with_port(sim.port)
            .with_timeout(Duration::from_millis(300))
            .with_retries(0);
        let ok = rt.block_on(IpmiClient::connect(&config)).is_ok();
        if !ok {
            std::thread::sleep(Duration::from_millis(200));
        }
        ok
    });
    assert!(ready, "ipmi_sim did not come up");
    // ipmitool's automatic suite choice sends its probe RMCP+-framed, which ipmi_sim never
    // answers (12 s of timeouts): against ipmi_sim it is told the suite (`-C 3`).
    let mut bmcs: Vec<(&str, u16, &[&str])> = vec![("ipmi_sim", sim.port, &["-C", "3"])];
    let pyghmi = python().and_then(|p| start_pyghmi(&p));
    match &pyghmi {
        Some(p) => bmcs.push(("pyghmi", p.port, &[])),
        None => eprintln!(
            "SKIPPED pyghmi part of bench ipmi: no Python environment with pyghmi (run scripts/test)"
        ),
    }
    for (name, port, extra) in &bmcs {
        let ours = mean(|| rt.block_on(drydock_setup(*port)));
        let theirs = mean(|| ipmitool_setup(ipmitool, *port, extra));
        println!(
            "session set-up + Get Device ID + close against {name}: drydock {ours:?}, \
             ipmitool -I lanplus {} {theirs:?}, ratio ipmitool/drydock = {:.2}",
            extra.join(" "),
            theirs.as_secs_f64() / ours.as_secs_f64()
        );
    }
    let mut c = Criterion::default().sample_size(10).configure_from_args();
    let mut group = c.benchmark_group("session_setup");
    for (name, port, extra) in &bmcs {
        group.bench_function(format!("drydock_{name}"), |b| {
            b.iter(|| rt.block_on(drydock_setup(*port)))
        });
        group.bench_function(format!("ipmitool_{name}"), |b| {
            b.iter(|| ipmitool_setup(ipmitool, *port, extra))
        });
    }
    group.finish();
    drop(pyghmi);
}
