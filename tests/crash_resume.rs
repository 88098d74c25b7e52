//! Crash test of the whole stack: a child process deploys the demo site with the simulated
//! drivers on a real sled directory; the test kills it with SIGKILL at seeded random moments
//! (at least 20 kill points), restarts it on the same directory each time, and checks that
//!
//! * the deployment completes with every node deployed;
//! * no step journaled as succeeded (acknowledged by the child) is ever started again;
//! * the only steps started again after a kill are those in flight at the kill;
//! * every task and journal entry acknowledged before a kill is still there at the end.
//!
//! The child is this test binary run again with `DRYDOCK_CRASH_DIR` set (the ignored test
//! `crash_child`); it prints `@@TASK`, `@@START`, `@@ACK` and `@@DONE` lines that the parent
//! reads. `DRYDOCK_CRASH_SEED` replays a seed; `DRYDOCK_CRASH_TRACE` prints each round.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use drydock::core::design::{Source, ingest_paths, read_sources};
use drydock::core::orchestrator::{Event, Orchestrator, OrchestratorConfig, RetryPolicy};
use drydock::core::sim::{SimConfig, SimWorld};
use drydock::core::store::{Step, StepOutcome, TaskQuery};
use drydock::core::task::{Action, ResultStatus, TaskStatus};
use drydock::sled::{SledConfig, SledStore};
use futures::StreamExt;

const DIR_ENV: &str = "DRYDOCK_CRASH_DIR";
const ACTIONS: [Action; 2] = [Action::PrepareNodes, Action::DeployNodes];

fn site_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/sites/demo-site"
    ))
}

fn sources() -> Vec<Source> {
    read_sources(&[site_dir()]).expect("the demo site reads")
}

async fn orchestrator(dir: &Path) -> (Orchestrator, SimWorld) {
    let store =
        SledStore::open(SledConfig::new(dir.join("db"))).expect("the store opens after a kill");
    let sim = SimConfig {
        latency: Duration::from_millis(15),
        ..SimConfig::default()
    };
    let world = SimWorld::persistent(sim, dir.join("sim")).unwrap();
    let mut config = OrchestratorConfig::default();
    config.poll_interval = Duration::from_millis(20);
    // One node pipeline at a time, so that the run offers many kill points (the orchestrator's
    // concurrency itself is covered by drydock-core's tests).
    config.concurrency = 1;
    config.retry = RetryPolicy {
        max_attempts: 5,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(100),
        jitter: true,
    };
    let orch = Orchestrator::builder()
        .store(Arc::new(store))
        .oob_driver(Arc::new(world.oob_driver()))
        .node_driver(Arc::new(world.node_driver()))
        .config(config)
        .build()
        .unwrap();
    world.report_bootactions(orch.bootactions());
    (orch, world)
}

fn key(node: &Option<String>, step: Step) -> String {
    format!("{}:{step:?}", node.as_deref().unwrap_or("-"))
}

/// The child: run (or resume) PrepareNodes then DeployNodes, reporting progress on stdout.
#[tokio::test]
#[ignore = "the child process of crash_and_resume_at_random_moments, which runs it"]
async fn crash_child() {
    let dir =
        PathBuf::from(std::env::var(DIR_ENV).expect("run by crash_and_resume_at_random_moments"));
    let (orch, _world) = orchestrator(&dir).await;
    let design = orch.put_design(&sources()).await.unwrap();
    for action in ACTIONS {
        let tasks = orch
            .store()
            .list_tasks(&TaskQuery::default())
            .await
            .unwrap();
        let task = match tasks.iter().find(|t| t.action == action) {
            Some(t) if t.status.is_final() => continue,
            Some(t) => t.clone(),
            None => {
                let t = orch
                    .create_task(action, &design, None, "crash-test")
                    .await
                    .unwrap();
                println!("@@TASK {} {action}", t.id);
                t
            }
        };
        let mut events = orch.subscribe(task.id);
        let run = orch.spawn(task.id);
        while let Some(e) = events.next().await {
            match e {
                Event::StepStarted { node, step, .. } => println!("@@START {}", key(&node, step)),
                // Emitted after the journal entry is durable: an acknowledgement.
                Event::StepFinished {
                    node,
                    step,
                    outcome: StepOutcome::Succeeded,
                    ..
                } => println!("@@ACK {}", key(&node, step)),
                Event::Finished { .. } => break,
                _ => {}
            }
        }
        let done = run.await.unwrap().unwrap();
        assert_eq!(
            done.task.result.status,
            ResultStatus::Success,
            "{:?}",
            done.task.result.messages
        );
    }
    println!("@@DONE");
}

struct Lcg(u64);
impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % below
    }
}

#[tokio::test]
async fn crash_and_resume_at_random_moments() {
    let seed: u64 = std::env::var("DRYDOCK_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20261124);
    eprintln!("crash test seed {seed} (set DRYDOCK_CRASH_SEED to replay)");
    let mut rng = Lcg(seed);
    let tmp = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut acked: HashSet<String> = HashSet::new();
    let mut tasks_acked: BTreeSet<String> = BTreeSet::new();
    let mut in_flight_at_kills: HashMap<String, usize> = HashMap::new();
    let mut restarted: HashMap<String, usize> = HashMap::new();
    let (mut kills, mut finished) = (0, false);
    let log = tmp.path().join("child.log");
    for round in 0..200 {
        let last_log = || std::fs::read_to_string(&log).unwrap_or_default();
        assert!(
            round < 199,
            "the deployment never finished; the last child said:\n{}",
            last_log()
        );
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "crash_child",
                "--ignored",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env(DIR_ENV, tmp.path())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        // Kill after 1 or 2 acknowledgements while fewer than 24 kills happened; then let it finish.
        let kill_after = if kills < 24 {
            Some(1 + rng.next(2) as usize)
        } else {
            None
        };
        let mut started: HashSet<String> = HashSet::new();
        let mut acks_this_round = 0;
        let mut killed = false;
        let reader = BufReader::new(child.stdout.take().unwrap());
        for line in reader.lines() {
            let line = line.unwrap();
            // libtest may print `test crash_child ... ` before the child's first line.
            let Some((_, line)) = line.split_once("@@") else {
                continue;
            };
            if let Some(step) = line.strip_prefix("START ") {
                assert!(
                    !acked.contains(step),
                    "round {round}: {step} was acknowledged before and started again"
                );
                if in_flight_at_kills.contains_key(step) {
                    *restarted.entry(step.to_owned()).or_default() += 1;
                }
                started.insert(step.to_owned());
            } else if let Some(step) = line.strip_prefix("ACK ") {
                acked.insert(step.to_owned());
                started.remove(step);
                acks_this_round += 1;
                if kill_after == Some(acks_this_round) && !killed {
                    child.kill().unwrap(); // SIGKILL
                    killed = true;
                    kills += 1;
                    // Go on reading what the child wrote before it died.
                }
            } else if let Some(task) = line.strip_prefix("TASK ") {
                tasks_acked.insert(task.split(' ').next().unwrap().to_owned());
            } else if line == "DONE" {
                finished = true;
            }
        }
        let status = child.wait().unwrap();
        if killed {
            // Started and not acknowledged when the child died: in flight at the kill.
            for s in &started {
                *in_flight_at_kills.entry(s.clone()).or_default() += 1;
            }
        }
        if std::env::var_os("DRYDOCK_CRASH_TRACE").is_some() {
            eprintln!(
                "round {round}: {status}, {acks_this_round} acks, kill_after {kill_after:?}, finished {finished}"
            );
        }
        if finished {
            assert!(
                status.success(),
                "the last run failed: {status}\n{}",
                last_log()
            );
            break;
        }
    }
    assert!(finished);
    assert!(kills >= 20, "only {kills} kill points");
    // Steps started again were in flight at a kill, and no more often than the kills that hit them.
    for (step, n) in &restarted {
        assert!(
            *n <= in_flight_at_kills[step],
            "{step} restarted {n} times, in flight at {} kills",
            in_flight_at_kills[step]
        );
    }
    // Nothing acknowledged is missing; everything is deployed.
    let (orch, world) = orchestrator(tmp.path()).await;
    let tasks = orch
        .store()
        .list_tasks(&TaskQuery::default())
        .await
        .unwrap();
    let ids: BTreeSet<String> = tasks.iter().map(|t| t.id.to_string()).collect();
    assert!(
        tasks_acked.is_subset(&ids),
        "acknowledged tasks missing: {tasks_acked:?} vs {ids:?}"
    );
    let mut journaled = HashSet::new();
    for t in &tasks {
        assert_eq!(
            t.status,
            TaskStatus::Complete,
            "{} {:?}",
            t.action,
            t.result.messages
        );
        assert_eq!(
            t.result.status,
            ResultStatus::Success,
            "{} {:#?}",
            t.action,
            t.result
                .messages
                .iter()
                .filter(|m| m.level != drydock::core::task::MessageLevel::Info)
                .collect::<Vec<_>>()
        );
        for e in orch.store().journal(t.id).await.unwrap() {
            if e.outcome == StepOutcome::Succeeded {
                journaled.insert(key(&e.node, e.step));
            }
        }
    }
    let missing: Vec<&String> = acked.iter().filter(|a| !journaled.contains(*a)).collect();
    assert!(
        missing.is_empty(),
        "acknowledged journal entries missing: {missing:?}"
    );
    let nodes = ingest_paths(&[site_dir()]).unwrap().baremetal_nodes;
    for name in nodes.keys() {
        let m = world.machine(name).expect("a machine per node");
        assert_eq!(m.deploys, 1, "{name} deployed {} times", m.deploys);
        assert_eq!(
            m.commissions, 1,
            "{name} commissioned {} times",
            m.commissions
        );
    }
    eprintln!(
        "{kills} kills, {} steps acknowledged, {} restarted after a kill",
        acked.len(),
        restarted.len()
    );
}
