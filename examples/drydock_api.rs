//! Runs drydock's HTTP API (the Python Drydock's v1.0 API, for Shipyard, and the boot action
//! endpoints) over the sled store and the simulated drivers.
//!
//! ```text
//! cargo run --release --example drydock_api -- --listen 127.0.0.1:PORT [--store DIR]
//!     [--auth none|token-env:VAR|keystone-headers] [--latency-ms N]
//! ```
//!
//! Prints `listening on http://ADDR` once it accepts requests (port 0 picks a free port).
//! Designs are posted by reference (`file:///path/to/site-dir-or-file`, `http(s)://...`). The
//! simulated nodes, once deployed, fetch their boot action units and files from this server
//! with their key and report each action over HTTP, so a DeployNodes task started through the
//! API finishes on its own. Unfinished tasks of the store are resumed at start. Ctrl-C or
//! SIGTERM shuts the server down gracefully.
//!
//! `--auth`: `none` (default), `token-env:VAR` (callers send `Authorization: Bearer <token>` or
//! `X-Auth-Token: <token>`, the token read from the environment variable `VAR`), or
//! `keystone-headers` (a Keystone middleware in front sets `X-Identity-Status`/`X-Roles`; the
//! `admin` role may do everything, as the reference's default policy).
//!
//! ```text
//! cargo run --release --example drydock_api -- --listen 127.0.0.1:9000 --store /tmp/dd-api &
//! curl -s -XPOST -H 'Content-Type: application/json' http://127.0.0.1:9000/api/v1.0/tasks \
//!   -d "{\"action\": \"prepare_nodes\", \"design_ref\": \"file://$PWD/examples/sites/demo-site\"}"
//! ```
//!
//! Set `RUST_LOG` (e.g. `RUST_LOG=debug`) for the libraries' logs on stderr.

#[path = "support/logging.rs"]
mod logging;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use drydock::api::ApiConfig;
use drydock::api::auth::{Auth, Policy, Token};
use drydock::core::orchestrator::{Orchestrator, OrchestratorConfig};
use drydock::core::sim::{SimConfig, SimWorld};
use drydock::sled::{SledConfig, SledStore};
use drydock_api::sim::HttpNodeAgent;

struct Args {
    listen: SocketAddr,
    store: PathBuf,
    auth: Auth,
    latency: Duration,
}

const USAGE: &str = "usage: drydock_api --listen ADDR:PORT [--store DIR] \
                     [--auth none|token-env:VAR|keystone-headers] [--latency-ms N]";

fn parse() -> Result<Args, String> {
    let mut listen = None;
    let mut store = PathBuf::from("drydock-api-state");
    let mut auth = Auth::None;
    let mut latency = Duration::ZERO;
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--listen" => {
                let v = value("--listen")?;
                listen = Some(v.parse().map_err(|e| format!("--listen {v}: {e}"))?);
            }
            "--store" => store = PathBuf::from(value("--store")?),
            "--latency-ms" => {
                let v = value("--latency-ms")?;
                let ms: u64 = v.parse().map_err(|e| format!("--latency-ms {v}: {e}"))?;
                latency = Duration::from_millis(ms);
            }
            "--auth" => {
                let v = value("--auth")?;
                auth = match v.as_str() {
                    "none" => Auth::None,
                    "keystone-headers" => Auth::KeystoneHeaders(Policy::default()),
                    other => match other.strip_prefix("token-env:") {
                        Some(var) => {
                            let token = std::env::var(var)
                                .map_err(|e| format!("--auth token-env:{var}: {e}"))?;
                            Auth::BearerToken(Token::new(token).ok_or_else(|| {
                                format!("--auth token-env:{var}: the token is empty")
                            })?)
                        }
                        None => return Err(format!("--auth {other}: unknown")),
                    },
                };
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(Args {
        listen: listen.ok_or("--listen is required")?,
        store,
        auth,
        latency,
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    logging::init();
    let args = match parse() {
        Ok(a) => a,
        Err(msg) => {
            if !msg.is_empty() {
                eprintln!("drydock_api: {msg}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("drydock_api: {e}");
            ExitCode::from(1)
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

async fn run(args: Args) -> Result<(), String> {
    std::fs::create_dir_all(&args.store).map_err(|e| format!("{}: {e}", args.store.display()))?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("--listen {}: {e}", args.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let base = format!("http://{addr}");
    let world = SimWorld::persistent(
        SimConfig {
            latency: args.latency,
            ..SimConfig::default()
        },
        args.store.join("sim"),
    )
    .map_err(|e| format!("simulated world: {e}"))?;
    let store =
        SledStore::open(SledConfig::new(args.store.join("db"))).map_err(|e| e.to_string())?;
    let mut config = OrchestratorConfig::default();
    config.poll_interval = Duration::from_millis(200);
    // What the nodes' templates see as `action.report_url`: this server.
    config.bootaction_report_url = format!("{base}/api/v1.0/bootactions/");
    let orch = Orchestrator::builder()
        .store(Arc::new(store))
        .oob_driver(Arc::new(world.oob_driver()))
        .node_driver(Arc::new(world.node_driver()))
        .config(config)
        .build()
        .map_err(|e| e.to_string())?;
    // Deployed simulated nodes fetch their assets and report over HTTP, to this server.
    world.report_bootactions_via(orch.bootactions(), Arc::new(HttpNodeAgent::new(&base)));
    let app = drydock::api::router(
        orch.clone(),
        ApiConfig {
            auth: args.auth,
            ..ApiConfig::default()
        },
    );
    // The listener accepts (into its backlog) already: resumed tasks' nodes can report.
    let resumed = orch.resume_all().await.map_err(|e| e.to_string())?;
    if !resumed.is_empty() {
        eprintln!("resuming {} unfinished task(s)", resumed.len());
    }
    println!("listening on {base}");
    drydock::api::serve(listener, app, shutdown_signal())
        .await
        .map_err(|e| e.to_string())?;
    eprintln!("shut down");
    Ok(())
}
