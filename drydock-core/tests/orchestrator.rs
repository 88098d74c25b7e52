//! The orchestrator over the simulated drivers and MemoryStore: sequences, roll-up, faults,
//! timeouts, cancellation, concurrency, leases and resume.

use std::sync::Arc;
use std::time::Duration;

use drydock_core::design::{NodeFilterSet, Source};
use drydock_core::driver::Operation;
use drydock_core::orchestrator::{CancelPolicy, Event, Timeouts};
use drydock_core::sim::{MachineStatus, SimConfig, SimWorld};
use drydock_core::store::{MemoryStore, Step, StepOutcome, Store};
use drydock_core::task::{Action, ResultStatus, TaskStatus};
use futures::StreamExt;

mod common;

use common::*;

#[tokio::test(start_paused = true)]
async fn prepare_and_deploy_a_site_from_scratch() {
    let f = fixture(3, SimConfig::default(), config()).await;
    let site = f.run(Action::PrepareSite, None).await;
    assert_eq!(site.task.result.status, ResultStatus::Success);
    assert_eq!(f.world.site_step_count(Operation::CreateNetworkTemplate), 1);
    assert_eq!(
        f.store.design_lock(&f.design).await.unwrap(),
        Some(site.task.id),
        "PrepareSite locks the design"
    );

    // Unknown nodes: PXE boot, power cycle, wait for enlistment, commission.
    let prep = f.run(Action::PrepareNodes, None).await;
    assert_eq!(prep.task.status, TaskStatus::Complete);
    assert_eq!(
        prep.task.result.status,
        ResultStatus::Success,
        "{:?}",
        prep.task.result.messages
    );
    assert_eq!(prep.task.result.successes, ["n00", "n01", "n02"]);
    for n in ["n00", "n01", "n02"] {
        assert_eq!(f.world.machine(n).unwrap().status, MachineStatus::Ready);
        assert_eq!(calls(&f.world, Operation::SetBootDevice, n), 1);
        assert_eq!(calls(&f.world, Operation::SetPower, n), 1);
        assert_eq!(
            f.store.build_data(n).await.unwrap().len(),
            1,
            "interrogation stored build data"
        );
    }
    let journal = f.store.journal(prep.task.id).await.unwrap();
    let steps: Vec<Step> = journal
        .iter()
        .filter(|e| e.node.as_deref() == Some("n01"))
        .map(|e| e.step)
        .collect();
    assert_eq!(
        steps,
        [
            Step::SetPxeBoot,
            Step::PowerCycle,
            Step::WaitIdentified,
            Step::ConfigureHardware,
            Step::InterrogateNode
        ]
    );

    // Known nodes skip the OOB steps.
    let again = f.run(Action::PrepareNodes, None).await;
    assert_eq!(again.task.result.status, ResultStatus::Success);
    assert_eq!(
        calls(&f.world, Operation::SetPower, "n00"),
        1,
        "no second power cycle for a known node"
    );
    assert_eq!(
        f.world.machine("n00").unwrap().commissions,
        1,
        "commissioning is not repeated"
    );

    let deploy = f.run(Action::DeployNodes, None).await;
    assert_eq!(deploy.task.result.status, ResultStatus::Success);
    assert_eq!(deploy.steps_executed, 12);
    for n in ["n00", "n01", "n02"] {
        assert_eq!(f.world.machine(n).unwrap().status, MachineStatus::Deployed);
    }
    let destroy = f
        .run(
            Action::DestroyNodes,
            Some(NodeFilterSet::for_nodes(["n01"])),
        )
        .await;
    assert_eq!(destroy.task.result.successes, ["n01"]);
    assert_eq!(
        f.world.machine("n01").unwrap().status,
        MachineStatus::Unknown
    );
    assert_eq!(
        f.world.machine("n00").unwrap().status,
        MachineStatus::Deployed
    );
}

#[tokio::test(start_paused = true)]
async fn verify_and_validate_actions() {
    let f = fixture(2, SimConfig::default(), config()).await;
    assert_eq!(
        f.run(Action::VerifySite, None).await.task.result.status,
        ResultStatus::Success
    );
    let verify = f.run(Action::VerifyNodes, None).await;
    assert_eq!(verify.task.result.successes, ["n00", "n01"]);
    assert_eq!(calls(&f.world, Operation::InterrogateOob, "n00"), 1);
    let validate = f.run(Action::ValidateDesign, None).await;
    assert_eq!(
        validate.task.result.status,
        ResultStatus::Success,
        "{:#?}",
        validate.task.result.messages
    );
    assert!(
        !validate.task.result.messages.is_empty(),
        "validation findings become task messages"
    );

    // A design that compiles but breaks a rule fails ValidateDesign with the findings.
    let invalid = site(2).replace("size: 30g", "size: 10g");
    let invalid = f
        .orch
        .put_design(&[Source::new("invalid.yaml", invalid)])
        .await
        .unwrap();
    let task = f
        .orch
        .create_task(Action::ValidateDesign, &invalid, None, "test")
        .await
        .unwrap();
    let done = f.orch.run(task.id).await.unwrap();
    assert_eq!(done.task.result.status, ResultStatus::Failure);
    assert!(
        done.task
            .result
            .messages
            .iter()
            .any(|m| m.message.contains("Root volume must be > 20GB")),
        "{:#?}",
        done.task.result.messages
    );

    // A design that does not compile fails the task with the diagnostics as messages.
    let bad = f
        .orch
        .put_design(&[Source::new(
            "bad.yaml",
            "schema: drydock/Network/v1\nmetadata: {name: x}\ndata: {}\n",
        )])
        .await
        .unwrap();
    let task = f
        .orch
        .create_task(Action::DeployNodes, &bad, None, "test")
        .await
        .unwrap();
    let done = f.orch.run(task.id).await.unwrap();
    assert_eq!(done.task.result.status, ResultStatus::Failure);
    assert!(
        done.task
            .result
            .messages
            .iter()
            .any(|m| m.message.contains("'cidr' is required"))
    );
}

#[tokio::test(start_paused = true)]
async fn permanent_faults_stay_with_their_nodes() {
    let f = fixture(4, preenlisted(), config()).await;
    f.run(Action::PrepareNodes, None).await;
    f.world
        .fail_permanently("n02", Operation::ApplyStorage, "disk on fire");
    let deploy = f.run(Action::DeployNodes, None).await;
    assert_eq!(deploy.task.result.status, ResultStatus::PartialSuccess);
    assert_eq!(deploy.task.result.successes, ["n00", "n01", "n03"]);
    assert_eq!(deploy.task.result.failures, ["n02"]);
    assert_eq!(
        calls(&f.world, Operation::ApplyStorage, "n02"),
        1,
        "permanent errors are not retried"
    );
    assert_eq!(
        calls(&f.world, Operation::ApplyPlatform, "n02"),
        0,
        "a failed node leaves the later steps"
    );
    assert!(
        deploy
            .task
            .result
            .messages
            .iter()
            .any(|m| m.context == "n02" && m.message.contains("disk on fire"))
    );
    let json = deploy.task.to_reference_json();
    assert_eq!(json["result"]["status"], "partial_success");
    assert_eq!(json["result"]["failures"][0], "n02");
}

#[tokio::test(start_paused = true)]
async fn transient_faults_are_retried_to_success() {
    let mut cfg = config();
    cfg.retry.max_attempts = 30;
    let f = fixture(
        6,
        SimConfig {
            preenlisted: true,
            transient_rate: 0.3,
            seed: 7,
            ..SimConfig::default()
        },
        cfg,
    )
    .await;
    let prep = f.run(Action::PrepareNodes, None).await;
    assert_eq!(
        prep.task.result.status,
        ResultStatus::Success,
        "{:?}",
        prep.task.result.messages
    );
    let deploy = f.run(Action::DeployNodes, None).await;
    assert_eq!(
        deploy.task.result.status,
        ResultStatus::Success,
        "{:?}",
        deploy.task.result.messages
    );
    let failed_calls = f.world.calls().iter().filter(|c| !c.ok).count();
    assert!(
        failed_calls > 5,
        "the fault injection should have bitten ({failed_calls} failures)"
    );
    let journal = f.store.journal(deploy.task.id).await.unwrap();
    assert!(journal.iter().all(|e| e.outcome == StepOutcome::Succeeded));
    for n in 0..6 {
        assert_eq!(f.world.machine(&format!("n{n:02}")).unwrap().deploys, 1);
    }
}

#[tokio::test(start_paused = true)]
async fn a_hung_step_times_out_and_only_its_node_fails() {
    let mut cfg = config();
    cfg.timeouts = Timeouts::all(Duration::from_secs(30));
    let f = fixture(3, preenlisted(), cfg).await;
    f.run(Action::PrepareNodes, None).await;
    f.world.hang("n01", Operation::Deploy);
    let started = tokio::time::Instant::now();
    let deploy = f.run(Action::DeployNodes, None).await;
    assert_eq!(deploy.task.result.failures, ["n01"]);
    assert_eq!(deploy.task.result.successes, ["n00", "n02"]);
    // The step's timeout bounds the whole step, retries included: one attempt used it all.
    let journal = f.store.journal(deploy.task.id).await.unwrap();
    let failed = journal
        .iter()
        .find(|e| e.node.as_deref() == Some("n01") && e.step == Step::Deploy)
        .unwrap();
    assert_eq!(failed.attempts, 1);
    assert!(
        matches!(&failed.outcome, StepOutcome::Failed { message, .. } if message.contains("did not finish within"))
    );
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(30) && took < Duration::from_secs(40),
        "{took:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn cancellation_ends_the_task_terminated() {
    let mut cfg = config();
    cfg.cancel = CancelPolicy::AbortInFlight;
    cfg.timeouts = Timeouts::all(Duration::from_secs(3600));
    let f = fixture(2, preenlisted(), cfg).await;
    f.run(Action::PrepareNodes, None).await;
    f.world.hang("n00", Operation::ApplyNetworking);
    f.world.hang("n01", Operation::ApplyNetworking);
    let task = f
        .orch
        .create_task(Action::DeployNodes, &f.design, None, "test")
        .await
        .unwrap();
    let mut events = f.orch.subscribe(task.id);
    let handle = f.orch.spawn(task.id);
    tokio::time::sleep(Duration::from_secs(60)).await;
    f.orch.cancel(task.id, "operator").await.unwrap();
    let done = handle.await.unwrap().unwrap();
    assert_eq!(done.task.status, TaskStatus::Terminated);
    assert_eq!(done.task.terminated_by.as_deref(), Some("operator"));
    assert_eq!(
        calls(&f.world, Operation::ApplyStorage, "n00"),
        0,
        "nothing starts after cancellation"
    );
    let mut last = None;
    while let Some(e) = events.next().await {
        last = Some(e);
    }
    assert!(
        matches!(
            last,
            Some(Event::Finished {
                status: TaskStatus::Terminated,
                ..
            })
        ),
        "{last:?}"
    );
    // Retrying the cancelled task takes it up again, once the hangs are gone.
    f.world.clear_faults();
    let again = f.orch.retry(task.id).await.unwrap();
    assert_eq!(again.task.status, TaskStatus::Complete);
    assert_eq!(again.task.result.status, ResultStatus::Success);
    assert_eq!(again.task.retry, 1);
    assert!(!again.task.terminate);
    assert_eq!(f.world.machine("n00").unwrap().deploys, 1);
}

#[tokio::test(start_paused = true)]
async fn concurrent_tasks_on_disjoint_nodes_and_a_conflict() {
    let sim = SimConfig {
        preenlisted: true,
        latency: Duration::from_millis(100),
        ..SimConfig::default()
    };
    let f = fixture(4, sim, config()).await;
    let even = NodeFilterSet {
        filter_set_type: drydock_core::design::SetType::Union,
        filter_set: vec![drydock_core::design::NodeFilter {
            node_tags: vec!["even".into()],
            ..drydock_core::design::NodeFilter::new(drydock_core::design::SetType::Union)
        }],
    };
    let odd = NodeFilterSet {
        filter_set: vec![drydock_core::design::NodeFilter {
            node_tags: vec!["odd".into()],
            ..even.filter_set[0].clone()
        }],
        ..even.clone()
    };
    let a = f
        .orch
        .create_task(Action::PrepareNodes, &f.design, Some(even.clone()), "a")
        .await
        .unwrap();
    let b = f
        .orch
        .create_task(Action::PrepareNodes, &f.design, Some(odd), "b")
        .await
        .unwrap();
    let c = f
        .orch
        .create_task(Action::PrepareNodes, &f.design, Some(even), "c")
        .await
        .unwrap();
    let (ha, hb) = (f.orch.spawn(a.id), f.orch.spawn(b.id));
    tokio::time::sleep(Duration::from_millis(50)).await;
    let conflict = f.orch.run(c.id).await.unwrap();
    let (ra, rb) = (ha.await.unwrap().unwrap(), hb.await.unwrap().unwrap());
    assert_eq!(ra.task.result.successes, ["n00", "n02"]);
    assert_eq!(rb.task.result.successes, ["n01", "n03"]);
    assert_eq!(conflict.task.result.status, ResultStatus::Failure);
    assert!(
        conflict.task.result.messages.iter().any(|m| m
            .message
            .contains(&format!("in use by prepare_nodes task {}", a.id))
            && m.message.contains("cancel it")),
        "{:?}",
        conflict.task.result.messages
    );
    assert_eq!(conflict.steps_executed, 0);
}

#[tokio::test(start_paused = true)]
async fn retry_reruns_only_the_failed_nodes_unfinished_steps() {
    let f = fixture(3, preenlisted(), config()).await;
    f.run(Action::PrepareNodes, None).await;
    f.world
        .fail_permanently("n01", Operation::ApplyPlatform, "bad image");
    let first = f.run(Action::DeployNodes, None).await;
    assert_eq!(first.task.result.failures, ["n01"]);
    f.world.clear_faults();
    let before = f.world.calls().len();
    let retried = f.orch.retry(first.task.id).await.unwrap();
    assert_eq!(
        retried.task.result.status,
        ResultStatus::Success,
        "{:?}",
        retried.task.result.messages
    );
    assert_eq!(retried.task.retry, 1);
    assert_eq!(retried.task.result.failures, Vec::<String>::new());
    let new_calls: Vec<(Operation, String)> = f.world.calls()[before..]
        .iter()
        .map(|c| (c.operation, c.node.clone().unwrap_or_default()))
        .collect();
    assert_eq!(
        new_calls,
        [
            (Operation::ApplyPlatform, "n01".to_owned()),
            (Operation::Deploy, "n01".to_owned())
        ]
    );
    assert_eq!(retried.steps_skipped, 10);
}

#[tokio::test(start_paused = true)]
async fn a_crashed_run_resumes_without_repeating_journaled_steps() {
    let sim = SimConfig {
        preenlisted: true,
        latency: Duration::from_secs(1),
        ..SimConfig::default()
    };
    let mut cfg = config();
    cfg.concurrency = 2;
    let f = fixture(6, sim, cfg.clone()).await;
    f.run(Action::PrepareNodes, None).await;
    let task = f
        .orch
        .create_task(Action::DeployNodes, &f.design, None, "test")
        .await
        .unwrap();
    // "Crash": abandon the run mid-way (the future is dropped, as when the process dies).
    let crashed = tokio::time::timeout(Duration::from_millis(5500), f.orch.run(task.id)).await;
    assert!(crashed.is_err(), "the run should still have been going");
    let journaled = f.store.journal(task.id).await.unwrap().len();
    assert!(
        journaled > 0 && journaled < 24,
        "{journaled} steps journaled before the crash"
    );
    let before = f.world.calls().len();
    // A new orchestrator on the same store and world picks the task up.
    let restarted = orchestrator(&f.world, f.store.clone(), cfg);
    let resumed = restarted.resume_all().await.unwrap();
    assert_eq!(resumed.len(), 1);
    let done = resumed
        .into_iter()
        .next()
        .unwrap()
        .1
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.task.result.status, ResultStatus::Success);
    assert_eq!(done.steps_skipped, journaled);
    let repeated = done.steps_executed + journaled - 24;
    assert!(
        repeated <= 2,
        "at most the steps in flight at the crash run again ({repeated})"
    );
    let after: Vec<_> = f.world.calls()[before..].to_vec();
    for e in f
        .store
        .journal(task.id)
        .await
        .unwrap()
        .iter()
        .take(journaled)
    {
        let op = match e.step {
            Step::ApplyNetworking => Operation::ApplyNetworking,
            Step::ApplyStorage => Operation::ApplyStorage,
            Step::ApplyPlatform => Operation::ApplyPlatform,
            _ => Operation::Deploy,
        };
        assert!(
            !after.iter().any(|c| c.operation == op && c.node == e.node),
            "{e:?} was executed again"
        );
    }
    for n in 0..6 {
        assert_eq!(f.world.machine(&format!("n{n:02}")).unwrap().deploys, 1);
    }
}

#[tokio::test(start_paused = true)]
async fn leases_left_by_a_finished_task_are_taken_over() {
    let f = fixture(2, preenlisted(), config()).await;
    let first = f.run(Action::PrepareNodes, None).await;
    // As if the process died after finishing the task but before releasing its leases.
    f.store.acquire_node("n00", first.task.id).await.unwrap();
    let deploy = f.run(Action::DeployNodes, None).await;
    assert_eq!(
        deploy.task.result.status,
        ResultStatus::Success,
        "{:?}",
        deploy.task.result.messages
    );
    // A lease held by a task that is still running is respected.
    f.world.hang("n01", Operation::InterrogateOob);
    let running = f
        .orch
        .create_task(Action::VerifyNodes, &f.design, None, "other")
        .await
        .unwrap();
    let handle = f.orch.spawn(running.id);
    tokio::time::sleep(Duration::from_millis(10)).await;
    let refused = f.run(Action::VerifyNodes, None).await;
    assert_eq!(refused.task.result.status, ResultStatus::Failure);
    handle.abort();
}

#[tokio::test(start_paused = true)]
async fn a_task_runs_once_at_a_time() {
    let sim = SimConfig {
        preenlisted: true,
        latency: Duration::from_millis(100),
        ..SimConfig::default()
    };
    let f = fixture(2, sim, config()).await;
    let task = f
        .orch
        .create_task(Action::PrepareNodes, &f.design, None, "test")
        .await
        .unwrap();
    let first = f.orch.spawn(task.id);
    tokio::time::sleep(Duration::from_millis(10)).await;
    let second = f.orch.run(task.id).await;
    assert!(
        matches!(second, Err(drydock_core::orchestrator::OrchestratorError::AlreadyRunning(id)) if id == task.id),
        "{second:?}"
    );
    let done = first.await.unwrap().unwrap();
    assert_eq!(done.task.result.status, ResultStatus::Success);
    assert_eq!(f.world.machine("n00").unwrap().commissions, 1);
}

#[tokio::test]
async fn node_actions_refuse_an_invalid_design_without_calling_a_driver() {
    let world = SimWorld::new(preenlisted());
    let orch = orchestrator(&world, Arc::new(MemoryStore::new()), config());
    // A 10 GB root volume: the boot storage rule wants more than 20 GB.
    let text = site(2).replace("size: 30g", "size: 10g");
    let design = orch
        .put_design(&[Source::new("site.yaml", text)])
        .await
        .unwrap();
    assert!(!orch.validate(&design).await.unwrap().is_valid());
    for action in [
        Action::PrepareNodes,
        Action::DeployNodes,
        Action::DestroyNodes,
    ] {
        let task = orch
            .create_task(action, &design, None, "test")
            .await
            .unwrap();
        let done = orch.run(task.id).await.unwrap();
        assert_eq!(done.task.status, TaskStatus::Complete, "{action}");
        assert_eq!(done.task.result.status, ResultStatus::Failure, "{action}");
        assert_eq!(
            done.task.result.reason,
            "Unable to render effective site design."
        );
        let errors: Vec<&str> = done
            .task
            .result
            .messages
            .iter()
            .filter(|m| m.is_error())
            .map(|m| m.message.as_str())
            .collect();
        assert_eq!(errors.len(), 2, "one per node: {errors:?}");
        assert!(
            errors.iter().all(|e| e.contains("Root volume")),
            "{errors:?}"
        );
        assert_eq!(done.steps_executed, 0);
    }
    assert!(world.calls().is_empty(), "{:?}", world.calls());
    // Read-only actions still run: VerifyNodes asks the BMCs.
    let task = orch
        .create_task(Action::VerifyNodes, &design, None, "test")
        .await
        .unwrap();
    let done = orch.run(task.id).await.unwrap();
    assert_eq!(done.task.result.status, ResultStatus::Success);
    assert_eq!(calls(&world, Operation::InterrogateOob, "n00"), 1);
}

#[tokio::test]
async fn timeouts_too_large_for_the_clock_mean_no_deadline() {
    let mut cfg = config();
    cfg.timeouts = Timeouts::all(Duration::MAX);
    let f = fixture(2, preenlisted(), cfg).await;
    for action in [Action::PrepareNodes, Action::DeployNodes] {
        let done = f.run(action, None).await;
        assert_eq!(done.task.result.status, ResultStatus::Success, "{action}");
    }
    assert_eq!(f.world.machine("n01").unwrap().deploys, 1);
}
