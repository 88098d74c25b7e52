//! Test support: sushy-tools' Redfish emulator (fake systems) on a free loopback port,
//! killed on drop; targets pointing at it; a tiny blocking HTTP GET to look at the emulator's
//! own view.

#![allow(dead_code, unreachable_pub)]

pub mod mockup;

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use drydock_core::design::{OobParameters, OobType, Secret};
use drydock_core::driver::OobTarget;

pub const USER: &str = "admin";
pub const PASSWORD: &str = "s3cret-Passw0rd";

/// A free TCP port on 127.0.0.1 (bound then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One fake system of the emulator.
#[derive(Clone, Debug)]
pub struct FakeSystem {
    pub uuid: &'static str,
    pub name: &'static str,
    pub mac: &'static str,
}

pub const NODE1: FakeSystem = FakeSystem {
    uuid: "8c5e1f0a-1d9b-4e57-9a55-1f6f2b9d0001",
    name: "node1",
    mac: "52:54:00:d1:00:01",
};
pub const NODE2: FakeSystem = FakeSystem {
    uuid: "8c5e1f0a-1d9b-4e57-9a55-1f6f2b9d0002",
    name: "node2",
    mac: "52:54:00:d1:00:02",
};

/// How to start the emulator.
#[derive(Clone, Debug)]
pub struct Options {
    /// Basic authentication with [`USER`] and [`PASSWORD`] (an htpasswd file).
    pub auth: bool,
    /// The systems.
    pub systems: Vec<FakeSystem>,
    /// HTTPS with this certificate and key.
    pub tls: Option<(PathBuf, PathBuf)>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            auth: true,
            systems: vec![NODE1],
            tls: None,
        }
    }
}

/// A running `sushy-emulator --fake`.
pub struct Sushy {
    child: Child,
    dir: tempfile::TempDir,
    pub port: u16,
    pub https: bool,
}

impl Sushy {
    /// Starts an emulator, or `None` (visible skip) when sushy-tools is not installed.
    pub fn start(test: &str, options: Options) -> Option<Sushy> {
        let python = drydock_core::testing::python(test, &["sushy_tools", "bcrypt"])?;
        for _ in 0..5 {
            if let Some(s) = Sushy::try_start(&python, &options) {
                return Some(s);
            }
        }
        panic!("sushy-emulator did not start");
    }

    fn try_start(python: &Path, options: &Options) -> Option<Sushy> {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let systems: Vec<String> = options
            .systems
            .iter()
            .map(|s| {
                format!(
                    "{{'uuid': '{}', 'name': '{}', 'power_state': 'Off', \
                     'nics': [{{'mac': '{}', 'ip': '192.0.2.10'}}]}}",
                    s.uuid, s.name, s.mac
                )
            })
            .collect();
        let mut config = format!(
            "SUSHY_EMULATOR_LISTEN_IP = '127.0.0.1'\n\
             SUSHY_EMULATOR_LISTEN_PORT = {port}\n\
             SUSHY_EMULATOR_FAKE_DRIVER = True\n\
             SUSHY_EMULATOR_STATE_DIR = '{}'\n\
             SUSHY_EMULATOR_FAKE_SYSTEMS = [{}]\n",
            dir.path().join("state").display(),
            systems.join(", ")
        );
        if options.auth {
            let out = Command::new(python)
                .args([
                    "-c",
                    "import bcrypt, sys; \
                     print(bcrypt.hashpw(sys.argv[1].encode(), bcrypt.gensalt(4)).decode())",
                    PASSWORD,
                ])
                .output()
                .unwrap();
            assert!(out.status.success(), "bcrypt: {out:?}");
            let hash = String::from_utf8(out.stdout).unwrap();
            let file = dir.path().join("htpasswd");
            std::fs::write(&file, format!("{USER}:{}\n", hash.trim())).unwrap();
            config.push_str(&format!(
                "SUSHY_EMULATOR_AUTH_FILE = '{}'\n",
                file.display()
            ));
        }
        if let Some((cert, key)) = &options.tls {
            config.push_str(&format!(
                "SUSHY_EMULATOR_SSL_CERT = '{}'\nSUSHY_EMULATOR_SSL_KEY = '{}'\n",
                cert.display(),
                key.display()
            ));
        }
        let config_file = dir.path().join("emulator.conf");
        std::fs::write(&config_file, config).unwrap();
        let log = std::fs::File::create(dir.path().join("emulator.log")).unwrap();
        let child = Command::new(python)
            .args(["-m", "sushy_tools.emulator.main", "--config"])
            .arg(&config_file)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut s = Sushy {
            child,
            dir,
            port,
            https: options.tls.is_some(),
        };
        if s.wait_ready() { Some(s) } else { None }
    }

    /// Polls until the port accepts connections (at most ~15 s) or the process exits.
    fn wait_ready(&mut self) -> bool {
        for _ in 0..150 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    /// The emulator's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("emulator.log")).unwrap_or_default()
    }

    /// Stops the emulator (the port then refuses connections).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The emulator's own view of `path` (plain HTTP with basic auth), parsed.
    pub fn get(&self, path: &str) -> serde_json::Value {
        assert!(!self.https, "Sushy::get speaks plain HTTP only");
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let auth = base64_basic(USER, PASSWORD);
        write!(
            stream,
            "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nAuthorization: Basic {auth}\r\n\r\n"
        )
        .unwrap();
        let mut out = String::new();
        stream.read_to_string(&mut out).unwrap();
        let body = out.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        serde_json::from_str(body).unwrap_or_else(|e| panic!("GET {path}: {e}: {out}"))
    }

    /// The emulator's view of a system.
    pub fn system(&self, uuid: &str) -> serde_json::Value {
        self.get(&format!("/redfish/v1/Systems/{uuid}"))
    }
}

impl Drop for Sushy {
    fn drop(&mut self) {
        self.stop();
    }
}

fn base64_basic(user: &str, password: &str) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let input = format!("{user}:{password}").into_bytes();
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A Redfish target on 127.0.0.1:`port` with `password` and extra OOB `params`
/// (`scheme: http` unless `params` says otherwise).
pub fn target(port: u16, password: &str, params: &[(&str, &str)]) -> OobTarget {
    let mut parameters = OobParameters::default();
    parameters.0.insert("scheme".into(), "http".into());
    for (k, v) in params {
        parameters.0.insert((*k).into(), (*v).into());
    }
    OobTarget {
        node: "n1".into(),
        kind: OobType::Redfish,
        address: Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        port: Some(port),
        account: Some(USER.into()),
        credential: Some(Secret::new(password)),
        parameters,
        boot_mode: None,
    }
}

/// Driver settings for tests: short polls, a deadline the emulator's 1-11 s delays fit in.
pub fn config() -> drydock_driver_redfish::RedfishDriverConfig {
    serde_json::from_value(serde_json::json!({
        "power_poll_interval_ms": 250,
        "power_deadline_ms": 30_000,
        "request_timeout_ms": 5_000,
        "task_poll_interval_ms": 100,
    }))
    .unwrap()
}
