//! Deploys a site with the simulated drivers (or a MAAS): the README's main job.
//!
//! ```text
//! cargo run --release --example deploy_site -- [--site PATH] [--store DIR]
//!     [--action ACTION|full] [--latency-ms N] [--fail-rate F] [--concurrency N] [--json]
//!     [--cancel TASK_ID] [--bootaction-listen ADDR]
//!     [--maas-url URL --maas-key-env VAR [--maas-poll-ms N] [--fake-bootaction-reports]]
//! ```
//!
//! `ACTION` is any action's name (`validate_design`, `verify_site`, `prepare_site`,
//! `verify_nodes`, `prepare_nodes`, `deploy_nodes`, `destroy_nodes`); `full` (the default) is
//! `prepare_site`, `prepare_nodes` and `deploy_nodes`. A task that ended with failed nodes is
//! retried when run again (only what failed or never ran); `--cancel TASK_ID` ends a task and
//! releases its nodes. Set `RUST_LOG` (e.g. `RUST_LOG=drydock_core=info`) for logs on stderr.
//!
//! Defaults: the bundled `examples/sites/demo-site`, the store and the simulated world in
//! `./drydock-state`, the full sequence (PrepareSite, PrepareNodes, DeployNodes). Run it again on
//! the same directory after killing it: it resumes the unfinished task, skipping the steps the
//! journal says are done, and says how many it skipped. The boot action endpoints of
//! drydock-api are served on `--bootaction-listen` (default `127.0.0.1:0`, printed): deployed
//! simulated nodes fetch their units and files there with their key and report each boot
//! action over HTTP, and DeployNodes ends on their reports.
//!
//! # Against a MAAS
//!
//! With `--maas-url URL --maas-key-env VAR`, the node driver is `MaasDriver` talking to the MAAS
//! at `URL` (`http://host:5240/MAAS`) with the API key (`consumer:token:secret`) read from the
//! environment variable `VAR` (the key is never printed); the machines must already be enlisted
//! in MAAS with the BMC addresses of the site's nodes, by which they are identified. MAAS waits
//! are polled every `--maas-poll-ms` (default 1000). The OOB driver stays simulated, so power and
//! boot-device steps go to the simulated BMCs. The boot action endpoints are served on
//! `--bootaction-listen` (default `127.0.0.1:0`, printed); machines that cannot reach that address
//! cannot report their signalling boot actions, and DeployNodes waits for them until its
//! deadline; with `--fake-bootaction-reports` (for demos against the fake MAAS) a stand-in agent
//! reports each of a node's pending signalling boot actions as succeeded once MAAS shows its
//! machine Deployed. The fake
//! MAAS serves as such a MAAS (its machines' NICs sit at the PCI addresses the demo site's
//! hardware profile aliases, so bonds are built from the NICs lshw lists there):
//!
//! ```text
//! cargo run --example fake_maas -- --listen 127.0.0.1:5240 --tick-ms 100 --api-key-file key \
//!     --bmc-addresses 10.40.0.11,10.40.0.12,10.40.0.13,10.40.0.21,10.40.0.22,10.40.0.23
//! MAAS_KEY=$(cat key) cargo run --example deploy_site -- --store /tmp/dd \
//!     --maas-url http://127.0.0.1:5240/MAAS --maas-key-env MAAS_KEY --fake-bootaction-reports
//! ```

#[path = "support/logging.rs"]
mod logging;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use drydock::core::bootaction::{BootActions, ReportStatus};
use drydock::core::design::{ingest_sources, read_sources};
use drydock::core::driver::{NodeDriver, Operation};
use drydock::core::orchestrator::{Event, Orchestrator, OrchestratorConfig, RetryPolicy};
use drydock::core::sim::{SimConfig, SimWorld};
use drydock::core::store::{DesignId, StepOutcome, Store, TaskQuery};
use drydock::core::task::{Action, MessageLevel, ResultStatus, Task, TaskStatus};
use drydock::sled::{SledConfig, SledStore};
use drydock_driver_maas::{
    MaasApiKey, MaasClient, MaasDriver, MaasDriverConfig, MachineQuery, MachineStatus,
};
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};

struct Args {
    cancel: Option<String>,
    site: PathBuf,
    store: PathBuf,
    actions: Vec<Action>,
    latency: Duration,
    fail_rate: f64,
    concurrency: usize,
    json: bool,
    maas_url: Option<String>,
    maas_key_env: Option<String>,
    maas_poll: Duration,
    fake_bootaction_reports: bool,
    bootaction_listen: std::net::SocketAddr,
}

const USAGE: &str = "usage: deploy_site [--site PATH] [--store DIR] [--action ACTION|full] \
[--latency-ms N] [--fail-rate F] [--concurrency N] [--json] [--cancel TASK_ID] \
[--bootaction-listen ADDR] [--maas-url URL --maas-key-env VAR [--maas-poll-ms N] [--fake-bootaction-reports]]
ACTION: validate_design, verify_site, prepare_site, verify_nodes, prepare_nodes, deploy_nodes, \
destroy_nodes; full (the default) = prepare_site, prepare_nodes, deploy_nodes";

/// `--help` prints the usage and exits 0; a usage error prints it with the error and exits 2.
fn usage(msg: &str) -> ExitCode {
    if msg.is_empty() {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    eprintln!("deploy_site: {msg}\n{USAGE}");
    ExitCode::from(2)
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        cancel: None,
        site: PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/sites/demo-site"
        )),
        store: PathBuf::from("drydock-state"),
        actions: vec![
            Action::PrepareSite,
            Action::PrepareNodes,
            Action::DeployNodes,
        ],
        latency: Duration::from_millis(10),
        fail_rate: 0.0,
        concurrency: 64,
        json: false,
        maas_url: None,
        maas_key_env: None,
        maas_poll: Duration::from_secs(1),
        fake_bootaction_reports: false,
        bootaction_listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--site" => a.site = PathBuf::from(value()?),
            "--store" => a.store = PathBuf::from(value()?),
            "--action" => {
                a.actions = match value()?.as_str() {
                    "full" => vec![
                        Action::PrepareSite,
                        Action::PrepareNodes,
                        Action::DeployNodes,
                    ],
                    other => vec![other.parse().map_err(|e| format!("--action: {e}, full"))?],
                }
            }
            "--cancel" => a.cancel = Some(value()?),
            "--latency-ms" => {
                a.latency = Duration::from_millis(
                    value()?.parse().map_err(|e| format!("--latency-ms: {e}"))?,
                )
            }
            "--fail-rate" => {
                a.fail_rate = value()?.parse().map_err(|e| format!("--fail-rate: {e}"))?;
                if !(0.0..1.0).contains(&a.fail_rate) {
                    return Err("--fail-rate must be in [0, 1)".into());
                }
            }
            "--concurrency" => {
                a.concurrency = value()?
                    .parse()
                    .map_err(|e| format!("--concurrency: {e}"))?
            }
            "--json" => a.json = true,
            "--maas-url" => a.maas_url = Some(value()?),
            "--maas-key-env" => a.maas_key_env = Some(value()?),
            "--fake-bootaction-reports" => a.fake_bootaction_reports = true,
            "--bootaction-listen" => {
                let v = value()?;
                a.bootaction_listen = v
                    .parse()
                    .map_err(|e| format!("--bootaction-listen {v}: {e}"))?;
            }
            "--maas-poll-ms" => {
                a.maas_poll = Duration::from_millis(
                    value()?
                        .parse()
                        .map_err(|e| format!("--maas-poll-ms: {e}"))?,
                )
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument '{other}'")),
        }
    }
    if a.maas_url.is_some() != a.maas_key_env.is_some() {
        return Err("--maas-url and --maas-key-env go together".into());
    }
    Ok(a)
}

/// The MAAS node driver, when `--maas-url` is given; the key comes from the environment and is
/// never printed (errors name the variable, not its value).
fn maas_driver(args: &Args) -> Result<Option<Arc<dyn NodeDriver>>, String> {
    let (Some(url), Some(var)) = (&args.maas_url, &args.maas_key_env) else {
        return Ok(None);
    };
    let key: MaasApiKey = std::env::var(var)
        .map_err(|e| format!("--maas-key-env {var}: {e}"))?
        .parse()
        .map_err(|e| format!("--maas-key-env {var}: {e}"))?;
    let config = MaasDriverConfig::new(url.clone(), key).poll_interval(args.maas_poll);
    let driver = MaasDriver::new(config).map_err(|e| format!("--maas-url {url}: {e}"))?;
    Ok(Some(Arc::new(driver)))
}

/// Stands in for the boot-action agent of nodes deployed through MAAS: every `poll`, each of
/// `nodes` with pending signalling boot actions whose machine MAAS shows Deployed gets them
/// reported as succeeded.
fn spawn_bootaction_agent(
    actions: BootActions,
    client: MaasClient,
    nodes: Vec<String>,
    poll: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            for node in &nodes {
                let Ok(records) = actions.records_for_node(node).await else {
                    continue;
                };
                let pending: Vec<_> = records
                    .iter()
                    .filter(|r| r.signaling && !r.status.is_final())
                    .collect();
                if pending.is_empty() {
                    continue;
                }
                let query = MachineQuery {
                    hostname: vec![node.clone()],
                    ..MachineQuery::default()
                };
                let deployed = matches!(
                    client.machines().list(&query).await.as_deref(),
                    Ok([m, ..]) if m.status == MachineStatus::Deployed
                );
                if !deployed {
                    continue;
                }
                for r in pending {
                    let key = r.identity_key.to_hex();
                    let details = [(
                        "Bootaction completed (deploy_site stand-in agent).".to_owned(),
                        false,
                    )];
                    if let Err(e) = actions
                        .report(r.action_id, Some(&key), ReportStatus::Success, &details)
                        .await
                    {
                        eprintln!("stand-in agent: {node} {}: {e}", r.action_name);
                    }
                }
            }
            tokio::time::sleep(poll).await;
        }
    })
}

/// A client for the MAAS of `--maas-url` (the key as for [`maas_driver`]).
fn maas_client(args: &Args) -> Result<Option<MaasClient>, String> {
    let (Some(url), Some(var)) = (&args.maas_url, &args.maas_key_env) else {
        return Ok(None);
    };
    let key: MaasApiKey = std::env::var(var)
        .map_err(|e| format!("--maas-key-env {var}: {e}"))?
        .parse()
        .map_err(|e| format!("--maas-key-env {var}: {e}"))?;
    MaasClient::builder(url.clone(), key)
        .build()
        .map(Some)
        .map_err(|e| format!("--maas-url {url}: {e}"))
}

/// Aborts a background task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// What one action did in this run.
struct Outcome {
    task: Task,
    executed: usize,
    skipped: usize,
}

/// Runs the task for `action` on `design`: resumes the unfinished one, retries the one that
/// ended with failed nodes (only what failed or never ran), says so when one already
/// succeeded, or creates one.
async fn run_action(
    orch: &Orchestrator,
    design: &DesignId,
    action: Action,
    args: &Args,
) -> Result<Outcome, String> {
    let tasks = orch
        .store()
        .list_tasks(&TaskQuery {
            top_level_only: true,
            ..TaskQuery::default()
        })
        .await
        .map_err(|e| e.to_string())?;
    let latest = tasks
        .iter()
        .rfind(|t| t.action == action && &t.design_id == design);
    let task = match latest {
        Some(t) if !t.status.is_final() => {
            note(
                args,
                format!("{action}: resuming task {} ({})", t.id, t.status),
            );
            t.clone()
        }
        Some(t) if t.result.status == ResultStatus::Success => {
            note(args, format!("{action}: already done by task {}", t.id));
            return Ok(Outcome {
                task: t.clone(),
                executed: 0,
                skipped: 0,
            });
        }
        // Ended with failures (nodes, or the task itself), or terminated: retried.
        Some(t) if t.status.is_final() => {
            note(
                args,
                format!(
                    "{action}: retrying task {} ({}: {} failed node(s); successful steps are kept)",
                    t.id,
                    t.result.status,
                    t.result.failures.len()
                ),
            );
            orch.reopen(t.id).await.map_err(|e| e.to_string())?
        }
        _ => orch
            .create_task(action, design, None, "deploy_site")
            .await
            .map_err(|e| e.to_string())?,
    };
    let progress = (!args.json).then(|| progress_for(action));
    let mut events = orch.subscribe(task.id);
    let run = orch.spawn(task.id);
    let mut retries = 0usize;
    let mut waits_shown = std::collections::HashSet::new();
    while let Some(event) = events.next().await {
        let Some(p) = &progress else { continue };
        match event {
            Event::Planned {
                nodes,
                steps,
                journaled,
                ..
            } => {
                p.set_length(steps as u64);
                let done = match journaled {
                    0 => String::new(),
                    n => format!(" ({n} done in an earlier run)"),
                };
                say(p, format!("{action}: {nodes} nodes, {steps} steps{done}"));
            }
            Event::StepFinished {
                node,
                step,
                outcome,
                ..
            } => {
                p.inc(1);
                if let StepOutcome::Failed { message, .. } = outcome {
                    let node = node.unwrap_or_else(|| "site".into());
                    say(p, format!("  {node} {step} failed: {message}"));
                }
            }
            Event::StepSkipped { .. } => p.inc(1),
            Event::StepRetrying {
                node, step, error, ..
            } => {
                retries += 1;
                let node = node.unwrap_or_else(|| "site".into());
                p.set_message(format!("retrying {node} {step}: {error}"));
            }
            Event::Waiting {
                step, what, until, ..
            } => {
                p.set_message(format!("waiting for {what}"));
                if waits_shown.insert(step) {
                    say(
                        p,
                        format!(
                            "  {step}: waiting for {what} (giving up at {})",
                            until.format("%H:%M:%S UTC")
                        ),
                    );
                }
            }
            Event::Lagged { task, .. } => {
                if let Some(now) = orch.progress(task) {
                    p.set_position(now.accounted() as u64);
                }
            }
            Event::Interrupted { error, .. } => {
                say(p, format!("{action}: interrupted: {error}"));
                break;
            }
            Event::Finished { .. } => break,
            _ => {}
        }
    }
    let summary = run
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("{action}: {e} (run deploy_site again to resume)"))?;
    if let Some(p) = progress {
        p.finish_and_clear();
        let t = &summary.task;
        let retried = match retries {
            0 => String::new(),
            n => format!("; {n} transient failures retried"),
        };
        println!(
            "{action}: {} / {}: {} succeeded, {} failed; {} steps executed, {} skipped (journaled){retried}",
            t.status,
            t.result.status,
            t.result.successes.len(),
            t.result.failures.len(),
            summary.steps_executed,
            summary.steps_skipped
        );
        print_reasons(t);
    }
    Ok(Outcome {
        task: summary.task,
        executed: summary.steps_executed,
        skipped: summary.steps_skipped,
    })
}

/// Says why a task did not succeed: its reason and its error messages (the first 20).
fn print_reasons(t: &Task) {
    if t.result.status == ResultStatus::Success {
        return;
    }
    if !t.result.reason.is_empty() {
        println!("  reason: {}", t.result.reason);
    }
    let errors: Vec<_> = t
        .result
        .messages
        .iter()
        .filter(|m| m.level == MessageLevel::Error)
        .collect();
    for m in errors.iter().take(20) {
        match m.context.as_str() {
            "" => println!("  error: {}", m.message),
            ctx => println!("  error: {ctx}: {}", m.message),
        }
    }
    if errors.len() > 20 {
        println!("  ... and {} more errors", errors.len() - 20);
    }
}

/// Prints a line unless the output is JSON.
fn note(args: &Args, line: String) {
    if !args.json {
        println!("{line}");
    }
}

/// Prints a line above the progress bar, or plainly when there is no bar (not a terminal).
fn say(p: &ProgressBar, line: String) {
    if p.is_hidden() {
        println!("{line}");
    } else {
        p.println(line);
    }
}

fn progress_for(action: Action) -> ProgressBar {
    if std::io::stderr().is_terminal() {
        let p = ProgressBar::new(0);
        p.set_style(
            ProgressStyle::with_template(
                "{prefix} [{bar:40}] {pos}/{len} steps ({elapsed}) {wide_msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        p.set_prefix(action.to_string());
        p
    } else {
        ProgressBar::hidden()
    }
}

/// Successful mutating driver calls beyond the first, per node and operation.
fn repeated_calls(world: &SimWorld) -> usize {
    [
        Operation::ConfigureHardware,
        Operation::ApplyNetworking,
        Operation::ApplyStorage,
        Operation::ApplyPlatform,
        Operation::Deploy,
    ]
    .into_iter()
    .map(|op| {
        world
            .successful_calls(op)
            .values()
            .map(|n| n.saturating_sub(1))
            .sum::<usize>()
    })
    .sum()
}

/// `url` without the password (or whole user part) it may carry, for printing.
fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
        None => url.to_owned(),
    }
}

/// Ends unfinished tasks left by earlier runs on another version of the site (its files
/// changed or moved): their process is gone, and the site they describe is no longer the one
/// being deployed. Their node leases are released.
async fn end_superseded(orch: &Orchestrator, design: &DesignId, args: &Args) -> Result<(), String> {
    let unfinished = orch
        .store()
        .list_tasks(&TaskQuery {
            top_level_only: true,
            statuses: vec![
                TaskStatus::Queued,
                TaskStatus::Running,
                TaskStatus::Terminating,
            ],
            ..TaskQuery::default()
        })
        .await
        .map_err(|e| e.to_string())?;
    for t in unfinished.iter().filter(|t| &t.design_id != design) {
        orch.cancel(t.id, "deploy_site: superseded by a changed site")
            .await
            .map_err(|e| e.to_string())?;
        let ended = orch.run(t.id).await.map_err(|e| e.to_string())?;
        note(
            args,
            format!(
                "ended {} task {} left by an earlier run on another version of the site ({})",
                t.action, t.id, ended.task.status
            ),
        );
    }
    Ok(())
}

/// `--cancel TASK_ID`: ends the task (it starts nothing more) and releases its nodes.
async fn cancel_task(orch: &Orchestrator, id: &str) -> Result<bool, String> {
    let id = id
        .parse::<uuid::Uuid>()
        .map(drydock::core::task::TaskId)
        .map_err(|e| format!("--cancel {id}: {e}"))?;
    orch.cancel(id, "deploy_site --cancel")
        .await
        .map_err(|e| e.to_string())?;
    let ended = orch.run(id).await.map_err(|e| e.to_string())?;
    println!(
        "task {id}: {} / {}",
        ended.task.status, ended.task.result.status
    );
    Ok(true)
}

#[tokio::main]
async fn main() -> ExitCode {
    logging::init();
    let args = match parse() {
        Ok(a) => a,
        Err(msg) => return usage(&msg),
    };
    match run(&args).await {
        Ok(ok) => {
            if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("deploy_site: {e}");
            ExitCode::from(2)
        }
    }
}

async fn run(args: &Args) -> Result<bool, String> {
    // The design: every YAML file of the site, stored as a snapshot.
    let sources =
        read_sources(&[&args.site]).map_err(|d| format!("the site does not read:\n{d}"))?;
    let site = ingest_sources(&sources).map_err(|d| format!("the site does not read:\n{d}"))?;
    std::fs::create_dir_all(&args.store).map_err(|e| format!("{}: {e}", args.store.display()))?;
    let sim = SimConfig {
        latency: args.latency,
        transient_rate: args.fail_rate,
        seed: 42,
        ..SimConfig::default()
    };
    let world = SimWorld::persistent(sim, args.store.join("sim"))
        .map_err(|e| format!("simulated world: {e}"))?;
    // The embedded durable store: every acknowledged step survives a crash. (Its errors read
    // "store: ...".)
    let store: Arc<dyn Store> = Arc::new(
        SledStore::open(SledConfig::new(args.store.join("db"))).map_err(|e| e.to_string())?,
    );
    // The boot action endpoints (drydock-api), where deployed nodes fetch their assets and
    // report: bound first, so that the nodes' templates name it as `action.report_url`.
    let listener = tokio::net::TcpListener::bind(args.bootaction_listen)
        .await
        .map_err(|e| format!("--bootaction-listen {}: {e}", args.bootaction_listen))?;
    let api_base = format!(
        "http://{}",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    let mut config = OrchestratorConfig::default();
    config.bootaction_report_url = format!("{api_base}/api/v1.0/bootactions/");
    config.concurrency = args.concurrency;
    config.poll_interval = Duration::from_millis(50);
    config.retry = RetryPolicy {
        max_attempts: 10,
        initial_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_secs(2),
        jitter: true,
    };
    let maas = maas_driver(args)?;
    let node_driver = match &maas {
        Some(d) => d.clone(),
        None => Arc::new(world.node_driver()),
    };
    let orch = Orchestrator::builder()
        .store(store)
        .oob_driver(Arc::new(world.oob_driver()))
        .node_driver(node_driver)
        .config(config)
        .build()
        .map_err(|e| e.to_string())?;
    let app = drydock::api::bootaction_router(orch.clone(), drydock::api::ApiConfig::default());
    let _api = AbortOnDrop(tokio::spawn(async move {
        if let Err(e) = drydock::api::serve(listener, app, std::future::pending()).await {
            eprintln!("deploy_site: boot action API: {e}");
        }
    }));
    // Simulated nodes, once deployed, fetch their boot action assets and report over HTTP.
    world.report_bootactions_via(
        orch.bootactions(),
        Arc::new(drydock_api::sim::HttpNodeAgent::new(&api_base)),
    );
    let _agent = match maas_client(args)? {
        Some(_) if !args.fake_bootaction_reports => {
            if !args.json {
                println!(
                    "note: machines deployed through MAAS report their boot actions to {api_base}; \
                     unless they reach it, DeployNodes waits for them until its deadline; \
                     --fake-bootaction-reports reports them as succeeded (for demos)"
                );
            }
            None
        }
        Some(client) => {
            let nodes = site.baremetal_nodes.keys().cloned().collect();
            Some(AbortOnDrop(spawn_bootaction_agent(
                orch.bootactions(),
                client,
                nodes,
                args.maas_poll,
            )))
        }
        None => None,
    };
    if let Some(id) = &args.cancel {
        return cancel_task(&orch, id).await;
    }
    let design = orch.put_design(&sources).await.map_err(|e| e.to_string())?;
    end_superseded(&orch, &design, args).await?;
    if !args.json {
        println!(
            "site {}: {} nodes; state in {}; node driver: {}; boot action API on {api_base}",
            args.site.display(),
            site.baremetal_nodes.len(),
            args.store.display(),
            match &args.maas_url {
                Some(url) => format!("MAAS at {}", redact_url(url)),
                None => "simulated".to_owned(),
            }
        );
    }
    let mut last = None;
    let (mut executed, mut skipped) = (0, 0);
    for &action in &args.actions {
        let outcome = run_action(&orch, &design, action, args).await?;
        executed += outcome.executed;
        skipped += outcome.skipped;
        let ok = outcome.task.result.status == ResultStatus::Success;
        last = Some(outcome);
        if !ok {
            break;
        }
    }
    let Some(last) = last else { return Ok(true) };
    let t = &last.task;
    let ok = t.result.status == ResultStatus::Success;
    if args.json {
        let out = serde_json::json!({
            "task_id": t.id,
            "status": t.status,
            "result": t.result.status,
            "nodes": site.baremetal_nodes.len(),
            "successes": t.result.successes,
            "failures": t.result.failures,
            "steps_executed": executed,
            "steps_skipped": skipped,
            // Counted by the simulated node driver only.
            "driver_calls_repeated": maas.is_none().then(|| repeated_calls(&world)),
        });
        println!("{out}");
    } else {
        let repeated = match maas {
            Some(_) => String::new(),
            None => format!("; repeated driver calls: {}", repeated_calls(&world)),
        };
        println!(
            "{}: {} of {} nodes deployed{repeated}",
            if ok { "done" } else { "FAILED" },
            t.result.successes.len(),
            site.baremetal_nodes.len(),
        );
    }
    Ok(ok)
}
