//! Crash tests of the whole stack: a child process deploys the demo site with the simulated
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
    orchestrator_on(store, dir, Duration::from_millis(15))
}

/// The orchestrator over `store` and the simulated world persisted in `dir/sim`, whose calls
/// take `latency`.
fn orchestrator_on(store: SledStore, dir: &Path, latency: Duration) -> (Orchestrator, SimWorld) {
    let sim = SimConfig {
        latency,
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

/// What one run of the child said before it ended or was killed.
struct ChildRun {
    /// Steps started, in order.
    starts: Vec<String>,
    /// Steps acknowledged (journaled as succeeded), in order.
    acks: Vec<String>,
    /// Tasks created (acknowledged).
    tasks: Vec<String>,
    killed: bool,
    finished: bool,
    status: std::process::ExitStatus,
}

impl ChildRun {
    /// Started and not acknowledged: in flight when the child ended.
    fn in_flight(&self) -> impl Iterator<Item = &String> {
        let acked: HashSet<&String> = self.acks.iter().collect();
        self.starts.iter().filter(move |s| !acked.contains(s))
    }
}

/// Runs the child on `dir` (its stderr to `log`), killing it with SIGKILL after `kill_after`
/// acknowledgements when given.
fn run_child(dir: &Path, log: &Path, kill_after: Option<usize>) -> ChildRun {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "crash_child",
            "--ignored",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(DIR_ENV, dir)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    let (mut starts, mut acks, mut tasks) = (Vec::new(), Vec::new(), Vec::new());
    let (mut killed, mut finished) = (false, false);
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        // libtest may print `test crash_child ... ` before the child's first line.
        let Some((_, line)) = line.split_once("@@") else {
            continue;
        };
        if let Some(step) = line.strip_prefix("START ") {
            starts.push(step.to_owned());
        } else if let Some(step) = line.strip_prefix("ACK ") {
            acks.push(step.to_owned());
            if kill_after == Some(acks.len()) && !killed {
                child.kill().unwrap(); // SIGKILL
                killed = true;
                // Go on reading what the child wrote before it died.
            }
        } else if let Some(task) = line.strip_prefix("TASK ") {
            tasks.push(task.split(' ').next().unwrap().to_owned());
        } else if line == "DONE" {
            finished = true;
        }
    }
    let status = child.wait().unwrap();
    ChildRun {
        starts,
        acks,
        tasks,
        killed,
        finished,
        status,
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
    let mut acked: HashSet<String> = HashSet::new();
    let mut tasks_acked: BTreeSet<String> = BTreeSet::new();
    let mut in_flight_at_kills: HashMap<String, usize> = HashMap::new();
    let mut restarted: HashMap<String, usize> = HashMap::new();
    let (mut kills, mut finished) = (0, false);
    let log = tmp.path().join("child.log");
    for round in 0..200 {
        assert!(
            round < 199,
            "the deployment never finished; the last child said:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        // Kill after 1 or 2 acknowledgements while fewer than 24 kills happened; then let it finish.
        let kill_after = (kills < 24).then(|| 1 + rng.next(2) as usize);
        let run = run_child(tmp.path(), &log, kill_after);
        for step in &run.starts {
            assert!(
                !acked.contains(step),
                "round {round}: {step} was acknowledged before and started again"
            );
            if in_flight_at_kills.contains_key(step) {
                *restarted.entry(step.clone()).or_default() += 1;
            }
        }
        acked.extend(run.acks.iter().cloned());
        tasks_acked.extend(run.tasks.iter().cloned());
        if run.killed {
            kills += 1;
            for s in run.in_flight() {
                *in_flight_at_kills.entry(s.clone()).or_default() += 1;
            }
        }
        if std::env::var_os("DRYDOCK_CRASH_TRACE").is_some() {
            eprintln!(
                "round {round}: {}, {} acks, kill_after {kill_after:?}, finished {}",
                run.status,
                run.acks.len(),
                run.finished
            );
        }
        if run.finished {
            assert!(
                run.status.success(),
                "the last run failed: {}\n{}",
                run.status,
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            finished = true;
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

#[path = "../drydock-store-sled/tests/support/damage.rs"]
mod harm;

/// What one damaged copy of a killed store did.
#[derive(Default, Debug)]
struct DamageTally {
    /// Opened with everything acknowledged, and the resumed tasks finished without starting
    /// an acknowledged step again.
    resumed: usize,
    /// Opened, and a task could not be read or resumed: an error naming it, nothing re-run.
    errors_named: usize,
    /// Refused to open with a report of what is gone.
    refused_loss: usize,
    /// Refused to open for another reason (an error, not a panic).
    refused_other: usize,
    /// Opened with something acknowledged missing, or re-ran an acknowledged step.
    silent: Vec<String>,
}

/// Kill a deployment, damage the killed store, open it, and resume through the orchestrator.
///
/// Each round kills the child (the same orchestrator over sled and the simulated site as the
/// crash test above) after a seeded number of acknowledged steps in PrepareNodes or
/// DeployNodes; each copy of the killed directory is damaged in one seeded way (flipped bits,
/// a zeroed block, truncation, a deleted file, a damaged acknowledgement mark). Opening must
/// either refuse, or give a store holding every acknowledged task and journal entry; such a
/// store is then resumed by a new orchestrator, which must finish or fail with errors naming
/// the task, and must never start a step acknowledged before the kill.
#[tokio::test]
async fn a_damaged_store_refuses_or_resumes_without_redoing_acknowledged_steps() {
    use drydock::sled::DataLoss;
    use rand::{Rng, SeedableRng};
    const ROUNDS: usize = 5;
    const DAMAGES: usize = 10;
    let seed: u64 = std::env::var("DRYDOCK_DAMAGE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20261204);
    eprintln!("kill-damage-resume seed {seed} (set DRYDOCK_DAMAGE_SEED to replay)");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let scratch = tempfile::tempdir().unwrap();
    let mut tally = DamageTally::default();
    for round in 0..ROUNDS {
        let killed = scratch.path().join(format!("killed-{round}"));
        std::fs::create_dir_all(&killed).unwrap();
        let log = scratch.path().join(format!("child-{round}.log"));
        let kill_after = rng.random_range(3..60);
        let run = run_child(&killed, &log, Some(kill_after));
        assert!(
            run.killed,
            "round {round}: the child ended before {kill_after} acknowledgements: {}\n{}",
            run.status,
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        let acked: HashSet<String> = run.acks.iter().cloned().collect();
        for case in 0..DAMAGES {
            let dir = scratch.path().join(format!("case-{round}-{case}"));
            harm::copy_dir(&killed, &dir);
            let what = harm::damage(&dir.join("db"), &mut rng, case % harm::KINDS);
            let label =
                format!("round {round} (killed after {kill_after} acks) case {case} ({what})");
            let store = match SledStore::open(SledConfig::new(dir.join("db"))) {
                Ok(store) => store,
                Err(e) if DataLoss::of(&e).is_some() => {
                    assert!(
                        e.to_string().contains("db"),
                        "{label}: the refusal names the store: {e}"
                    );
                    tally.refused_loss += 1;
                    continue;
                }
                Err(_) => {
                    tally.refused_other += 1;
                    continue;
                }
            };
            match resume_damaged(store, &dir, &run.tasks, &acked).await {
                Resumed::Finished => tally.resumed += 1,
                Resumed::ErrorNamingTask => tally.errors_named += 1,
                Resumed::Silent(why) => tally.silent.push(format!("{label}: {why}")),
            }
        }
    }
    eprintln!("kill-damage-resume: {tally:?}");
    assert!(
        tally.silent.is_empty(),
        "damaged stores lost acknowledged work silently:\n{}",
        tally.silent.join("\n")
    );
    let cases = tally.resumed + tally.errors_named + tally.refused_loss + tally.refused_other;
    assert_eq!(cases, ROUNDS * DAMAGES);
    assert!(
        tally.resumed > 0 && tally.refused_loss + tally.refused_other > 0,
        "the damage should both leave some stores usable and make some refuse: {tally:?}"
    );
}

enum Resumed {
    Finished,
    ErrorNamingTask,
    Silent(String),
}

/// Checks that `store` holds every acknowledged task and step, then resumes its unfinished
/// tasks with a fast simulated world, watching for acknowledged steps started again.
async fn resume_damaged(
    store: SledStore,
    dir: &Path,
    tasks: &[String],
    acked: &HashSet<String>,
) -> Resumed {
    let (orch, _world) = orchestrator_on(store, dir, Duration::ZERO);
    let listed = match orch.store().list_tasks(&TaskQuery::default()).await {
        Ok(listed) => listed,
        Err(e) if e.task.is_some() => return Resumed::ErrorNamingTask,
        Err(e) => return Resumed::Silent(format!("listing the tasks failed naming none: {e}")),
    };
    let ids: HashSet<String> = listed.iter().map(|t| t.id.to_string()).collect();
    if let Some(gone) = tasks.iter().find(|t| !ids.contains(*t)) {
        return Resumed::Silent(format!("task {gone} is gone"));
    }
    let mut journaled = HashSet::new();
    for t in &listed {
        match orch.store().journal(t.id).await {
            Ok(entries) => journaled.extend(
                entries
                    .iter()
                    .filter(|e| e.outcome == StepOutcome::Succeeded)
                    .map(|e| key(&e.node, e.step)),
            ),
            Err(e) if e.task == Some(t.id) => return Resumed::ErrorNamingTask,
            Err(e) => return Resumed::Silent(format!("journal of {}: {e}", t.id)),
        }
    }
    if let Some(lost) = acked.iter().find(|a| !journaled.contains(*a)) {
        return Resumed::Silent(format!("acknowledged step {lost} is not journaled"));
    }
    // Resume in the order the child ran them.
    let mut open: Vec<_> = listed
        .into_iter()
        .filter(|t| !t.status.is_final())
        .collect();
    open.sort_by_key(|t| ACTIONS.iter().position(|a| *a == t.action));
    for task in open {
        let mut events = orch.subscribe(task.id);
        let run = orch.spawn(task.id);
        let mut redone = None;
        while let Some(e) = events.next().await {
            match e {
                Event::StepStarted { node, step, .. } if acked.contains(&key(&node, step)) => {
                    redone = Some(key(&node, step));
                }
                Event::Finished { .. } => break,
                _ => {}
            }
        }
        let outcome = tokio::time::timeout(Duration::from_secs(60), run)
            .await
            .expect("a resumed task ends within a minute")
            .expect("the run does not panic");
        if let Some(step) = redone {
            return Resumed::Silent(format!("acknowledged step {step} started again"));
        }
        match outcome {
            Ok(summary) if summary.task.result.status == ResultStatus::Success => {}
            Ok(summary) => {
                return Resumed::Silent(format!(
                    "{} resumed to {:?}: {:?}",
                    task.action, summary.task.result.status, summary.task.result.messages
                ));
            }
            Err(e) if e.to_string().contains(&task.id.to_string()) => {
                return Resumed::ErrorNamingTask;
            }
            Err(e) => return Resumed::Silent(format!("{} failed to resume: {e}", task.action)),
        }
    }
    Resumed::Finished
}
