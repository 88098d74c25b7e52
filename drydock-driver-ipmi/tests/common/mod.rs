//! Test support: `ipmi_sim` processes on free loopback ports, configured from the project's
//! templates in `tests/ipmi_sim/`, killed on drop.

#![allow(dead_code, unreachable_pub)]

pub mod fake_bmc;
pub mod pyghmi;

use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use drydock_driver_ipmi::IpmiConfig;
use drydock_driver_ipmi::message::Request;
use drydock_driver_ipmi::packet::V15Packet;

/// The simulator's configuration templates (`lan.conf`, `sim.emu`, `chassis.sh`).
const CONFIG: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../drydock-driver-ipmi/tests/ipmi_sim"
);

/// Returns the paths of `ipmi_sim` and `ipmitool`, or `None` (visible skip) when missing.
pub fn tools(test: &str) -> Option<(PathBuf, PathBuf)> {
    let sim = drydock_core::testing::require_tool(test, "ipmi_sim", "apt-get install -y openipmi")?;
    let tool =
        drydock_core::testing::require_tool(test, "ipmitool", "apt-get install -y ipmitool")?;
    Some((sim, tool))
}

/// A free UDP port on 127.0.0.1 (bound then released).
pub fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running `ipmi_sim`.
pub struct Sim {
    child: Child,
    dir: tempfile::TempDir,
    /// UDP port on 127.0.0.1.
    pub port: u16,
    ipmitool: PathBuf,
    sim: PathBuf,
}

impl Sim {
    /// Starts a simulator, or returns `None` when the tools are missing (skip).
    pub fn start(test: &str) -> Option<Sim> {
        let (sim, ipmitool) = tools(test)?;
        // The port may be taken between probing and binding: retry a few times.
        for _ in 0..5 {
            if let Some(s) = Sim::try_start(&sim, &ipmitool) {
                return Some(s);
            }
        }
        panic!("ipmi_sim did not start");
    }

    fn try_start(sim: &Path, ipmitool: &Path) -> Option<Sim> {
        let dir = tempfile::tempdir().unwrap();
        let port = free_udp_port();
        let script = dir.path().join("chassis.sh");
        std::fs::copy(Path::new(CONFIG).join("chassis.sh"), &script).unwrap();
        let lan = std::fs::read_to_string(Path::new(CONFIG).join("lan.conf"))
            .unwrap()
            .replace("@CHASSIS@", script.to_str().unwrap())
            .replace("@PORT@", &port.to_string());
        assert!(
            lan.contains(&format!("127.0.0.1 {port}")),
            "template changed: {lan}"
        );
        std::fs::write(dir.path().join("lan.conf"), lan).unwrap();
        std::fs::copy(
            Path::new(CONFIG).join("sim.emu"),
            dir.path().join("sim.emu"),
        )
        .unwrap();
        std::fs::create_dir(dir.path().join("state")).unwrap();
        std::fs::create_dir(dir.path().join("chassis-state")).unwrap();
        let child = launch(sim, dir.path());
        let mut s = Sim {
            child,
            dir,
            port,
            ipmitool: ipmitool.to_path_buf(),
            sim: sim.to_path_buf(),
        };
        if s.wait_ready() { Some(s) } else { None }
    }

    /// Kills the simulator and starts it again on the same port with the same files: the BMC
    /// forgets every session.
    pub fn restart(&mut self) {
        for _ in 0..20 {
            let _ = self.child.kill();
            let _ = self.child.wait();
            self.child = launch(&self.sim, self.dir.path());
            if self.wait_ready() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("ipmi_sim did not restart on port {}", self.port);
    }

    /// Sessions the BMC has active, not counting the one `ipmitool` opens to ask.
    pub fn active_sessions(&self) -> usize {
        let out = self.ipmitool(&["session", "info", "active"]);
        let n: usize = out
            .lines()
            .find_map(|l| l.strip_prefix("active sessions")?.split(':').nth(1))
            .unwrap_or_else(|| panic!("no active session count in {out}"))
            .trim()
            .parse()
            .unwrap();
        n - 1
    }

    /// Polls [`Sim::active_sessions`] (at most ~3 s) until it is `n`; returns the last count.
    pub fn wait_active_sessions(&self, n: usize) -> usize {
        let mut last = usize::MAX;
        for _ in 0..30 {
            last = self.active_sessions();
            if last == n {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        last
    }

    /// Polls with a session-less Get Channel Authentication Capabilities (bounded).
    fn wait_ready(&mut self) -> bool {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let msg = Request::to_bmc(0x06, 0x38, 0, &[0x8E, 0x04]).encode();
        let pkt = V15Packet {
            sequence: 0,
            session_id: 0,
            message: msg,
        }
        .encode()
        .unwrap();
        let mut buf = [0u8; 256];
        for _ in 0..50 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            let _ = sock.send_to(&pkt, ("127.0.0.1", self.port));
            if sock.recv(&mut buf).is_ok() {
                return true;
            }
        }
        false
    }

    /// Directory holding the chassis state files.
    pub fn state_dir(&self) -> PathBuf {
        self.dir.path().join("chassis-state")
    }

    /// The chassis state file `key` (`power`, `boot`), trimmed; `None` if never written.
    pub fn state(&self, key: &str) -> Option<String> {
        std::fs::read_to_string(self.state_dir().join(key))
            .ok()
            .map(|s| s.trim().to_string())
    }

    /// Writes the chassis state file `key` (injects the machine's state).
    pub fn set_state(&self, key: &str, value: &str) {
        std::fs::write(self.state_dir().join(key), format!("{value}\n")).unwrap();
    }

    /// Every call of the chassis control script, one per line.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.state_dir().join("log")).unwrap_or_default()
    }

    /// Client configuration for user `admin`, cipher suite chosen automatically.
    pub fn config(&self) -> IpmiConfig {
        IpmiConfig::new("127.0.0.1", "admin", "password")
            .with_port(self.port)
            .with_timeout(Duration::from_millis(500))
            .with_retries(4)
    }

    /// Runs `ipmitool -I lanplus -C 3` with `args`; returns stdout.
    pub fn ipmitool(&self, args: &[&str]) -> String {
        let port = self.port.to_string();
        let out = Command::new(&self.ipmitool)
            .args([
                "-I",
                "lanplus",
                "-C",
                "3",
                "-H",
                "127.0.0.1",
                "-p",
                &port,
                "-U",
                "admin",
                "-P",
                "password",
            ])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "ipmitool {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}

fn launch(sim: &Path, dir: &Path) -> Child {
    Command::new(sim)
        .current_dir(dir)
        .args(["-c", "lan.conf", "-f", "sim.emu", "-s", "state", "-n", "-p"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `f` every 100 ms, at most `tries` times, until it returns `Some`.
pub async fn poll<T, F: std::future::Future<Output = Option<T>>>(
    tries: u32,
    mut f: impl FnMut() -> F,
) -> Option<T> {
    for _ in 0..tries {
        if let Some(v) = f().await {
            return Some(v);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}
