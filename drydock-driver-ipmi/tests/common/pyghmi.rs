//! A second, independent BMC: pyghmi's BMC server (`pyghmi.ipmi.bmc.Bmc`, the base of
//! VirtualBMC), run by `tests/peers/pyghmi_bmc.py` on a free loopback port. Its chassis is a pair
//! of files (`power`, `boot`) and a `log`, like the `ipmi_sim` tests'.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use drydock_driver_ipmi::IpmiConfig;

use super::free_udp_port;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/peers/pyghmi_bmc.py");

/// The one user of the pyghmi BMC.
pub const USER: &str = "admin";
/// Its password.
pub const PASSWORD: &str = "password";

/// A running pyghmi BMC, killed on drop.
pub struct PyghmiBmc {
    child: Child,
    dir: tempfile::TempDir,
    /// UDP port on 127.0.0.1.
    pub port: u16,
}

impl PyghmiBmc {
    /// Starts a pyghmi BMC, or returns `None` (visible skip) when the Python peer is missing.
    pub fn start(test: &str) -> Option<PyghmiBmc> {
        let python = drydock_core::testing::python(test, &["pyghmi.ipmi.bmc"])?;
        // The port may be taken between probing and binding: retry a few times.
        for _ in 0..5 {
            if let Some(bmc) = PyghmiBmc::try_start(&python) {
                return Some(bmc);
            }
        }
        panic!("the pyghmi BMC did not start");
    }

    fn try_start(python: &Path) -> Option<PyghmiBmc> {
        let dir = tempfile::tempdir().unwrap();
        let port = free_udp_port();
        let mut child = Command::new(python)
            .arg(SCRIPT)
            .arg(port.to_string())
            .arg(dir.path())
            .args([USER, PASSWORD])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let ready = rx
            .recv_timeout(Duration::from_secs(30))
            .is_ok_and(|l| l.trim() == format!("ready {port}"));
        let bmc = PyghmiBmc { child, dir, port };
        ready.then_some(bmc)
    }

    /// The directory of the chassis files.
    pub fn dir(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    /// The chassis file `key` (`power`: "0"/"1", `boot`: pyghmi's device name), trimmed.
    pub fn state(&self, key: &str) -> Option<String> {
        std::fs::read_to_string(self.dir.path().join(key))
            .ok()
            .map(|s| s.trim().to_owned())
    }

    /// Writes the chassis file `key`.
    pub fn set_state(&self, key: &str, value: &str) {
        std::fs::write(self.dir.path().join(key), format!("{value}\n")).unwrap();
    }

    /// Every chassis change, one per line.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }

    /// Client configuration for its user, cipher suite chosen automatically.
    pub fn config(&self) -> IpmiConfig {
        IpmiConfig::new("127.0.0.1", USER, PASSWORD)
            .with_port(self.port)
            .with_timeout(Duration::from_millis(500))
            .with_retries(4)
    }
}

impl Drop for PyghmiBmc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
