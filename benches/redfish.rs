//! Power status of 64 Redfish systems at once: drydock's `RedfishDriver` (64 concurrent
//! requests on one tokio runtime) against the `sushy` Python client (what Ironic uses) in 64
//! threads, on the same sushy-tools emulator serving 64 fake systems on 127.0.0.1. Each side
//! starts from nothing (service root, system, power state for each system). Prints both times
//! and their ratio, then runs the same two cases under criterion.
//!
//! `cargo bench --bench redfish` (needs the Python venv of `scripts/test` with sushy-tools and
//! sushy; skipped with a message otherwise).

use std::net::{IpAddr, Ipv4Addr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use criterion::Criterion;
use drydock::core::design::{OobParameters, OobType, Secret};
use drydock::core::driver::{OobDriver, OobTarget, PowerState};
use drydock::redfish::{RedfishDriver, RedfishDriverConfig};

const SYSTEMS: usize = 64;

struct Emulator {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn python() -> Option<PathBuf> {
    let p = std::env::var_os("DRYDOCK_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/target/drydock-venv/bin/python"
            ))
        });
    let ok = Command::new(&p)
        .args(["-c", "import sushy, sushy_tools"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    ok.then_some(p)
}

fn uuid(i: usize) -> String {
    format!("6d1e0000-0000-4000-8000-{i:012}")
}

fn start(python: &PathBuf) -> Emulator {
    let dir = tempfile::tempdir().unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let systems: Vec<String> = (0..SYSTEMS)
        .map(|i| {
            format!(
                "{{'uuid': '{}', 'name': 'n{i}', 'power_state': 'On', 'nics': []}}",
                uuid(i)
            )
        })
        .collect();
    let config = dir.path().join("emulator.conf");
    std::fs::write(
        &config,
        format!(
            "SUSHY_EMULATOR_LISTEN_IP = '127.0.0.1'\nSUSHY_EMULATOR_LISTEN_PORT = {port}\n\
             SUSHY_EMULATOR_FAKE_DRIVER = True\nSUSHY_EMULATOR_STATE_DIR = '{}'\n\
             SUSHY_EMULATOR_FAKE_SYSTEMS = [{}]\n",
            dir.path().join("state").display(),
            systems.join(", ")
        ),
    )
    .unwrap();
    let child = Command::new(python)
        .args(["-m", "sushy_tools.emulator.main", "--config"])
        .arg(&config)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..150 {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Emulator {
        child,
        port,
        _dir: dir,
    }
}

fn targets(port: u16) -> Vec<OobTarget> {
    (0..SYSTEMS)
        .map(|i| {
            let mut parameters = OobParameters::default();
            parameters.0.insert("scheme".into(), "http".into());
            parameters.0.insert("system".into(), uuid(i));
            OobTarget {
                node: format!("n{i}"),
                kind: OobType::Redfish,
                address: Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
                port: Some(port),
                account: Some("admin".into()),
                credential: Some(Secret::new("password")),
                parameters,
                boot_mode: None,
            }
        })
        .collect()
}

async fn drydock_round(targets: &[OobTarget]) {
    let driver = RedfishDriver::new(RedfishDriverConfig::default());
    let states = futures::future::join_all(targets.iter().map(|t| driver.power_state(t))).await;
    for s in states {
        assert_eq!(s.expect("power state"), PowerState::On);
    }
}

const SUSHY_SCRIPT: &str = r#"
import sys, time
from concurrent.futures import ThreadPoolExecutor
import sushy
port, n, rounds = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
url = "http://127.0.0.1:%d/redfish/v1" % port
def one(i):
    conn = sushy.Sushy(url, auth=sushy.auth.BasicAuth("admin", "password"))
    s = conn.get_system("/redfish/v1/Systems/6d1e0000-0000-4000-8000-%012d" % i)
    assert s.power_state == sushy.PowerState.ON, s.power_state
with ThreadPoolExecutor(max_workers=n) as pool:
    for _ in range(rounds):
        t = time.perf_counter()
        list(pool.map(one, range(n)))
        print(time.perf_counter() - t, flush=True)
"#;

/// Runs `rounds` 64-way rounds of the sushy client; returns the time of each.
fn sushy_rounds(python: &PathBuf, port: u16, rounds: usize) -> Vec<Duration> {
    let out = Command::new(python)
        .args(["-c", SUSHY_SCRIPT, &port.to_string(), &SYSTEMS.to_string()])
        .arg(rounds.to_string())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "sushy: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| Duration::from_secs_f64(l.trim().parse().unwrap()))
        .collect()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let Some(python) = python() else {
        eprintln!(
            "redfish bench skipped: no Python venv with sushy and sushy-tools (run scripts/test)"
        );
        return;
    };
    let emulator = start(&python);
    let targets = targets(emulator.port);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(drydock_round(&targets)); // warm-up
    let ours = median(
        (0..5)
            .map(|_| {
                let t = Instant::now();
                rt.block_on(drydock_round(&targets));
                t.elapsed()
            })
            .collect(),
    );
    let theirs = median(sushy_rounds(&python, emulator.port, 5));
    println!(
        "power status of {SYSTEMS} Redfish systems: drydock {ours:?}, sushy {theirs:?}, \
         ratio {:.2}",
        theirs.as_secs_f64() / ours.as_secs_f64()
    );
    let mut c = Criterion::default().sample_size(10).configure_from_args();
    c.bench_function("redfish_power_status_64/drydock", |b| {
        b.iter(|| rt.block_on(drydock_round(&targets)))
    });
    c.bench_function("redfish_power_status_64/sushy_python", |b| {
        b.iter_custom(|iters| {
            sushy_rounds(&python, emulator.port, iters as usize)
                .into_iter()
                .sum()
        })
    });
    c.final_summary();
}
