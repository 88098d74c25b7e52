//! The orchestrator's settings, with the reference's defaults (`drydock.md` §3.5).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::store::Step;

/// Serde helper: durations as (fractional) seconds.
mod secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let v = f64::deserialize(d)?;
        Duration::try_from_secs_f64(v).map_err(serde::de::Error::custom)
    }
}

/// How transient driver errors are retried.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (at least 1).
    pub max_attempts: u32,
    /// Wait before the second attempt; doubles each attempt.
    #[serde(with = "secs")]
    pub initial_backoff: Duration,
    /// Longest wait between attempts.
    #[serde(with = "secs")]
    pub max_backoff: Duration,
    /// Whether waits are randomised (between half and all of the computed wait).
    pub jitter: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            initial_backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(60),
            jitter: true,
        }
    }
}

impl RetryPolicy {
    /// The wait after attempt `attempt` (1-based), before jitter.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }
}

/// Step timeouts. Every step has one, and it is enforced: a step still running when it expires
/// is abandoned and counts as a `timed out` failure (retried like a transient one).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Timeouts {
    /// Steps not listed below (the reference's `drydock_timeout`, 5 minutes).
    #[serde(with = "secs")]
    pub default: Duration,
    /// Waiting for a PXE-booted node to enlist (`identify_node`, 10 minutes).
    #[serde(with = "secs")]
    pub identify_node: Duration,
    /// Commissioning (`configure_hardware`, 30 minutes).
    #[serde(with = "secs")]
    pub configure_hardware: Duration,
    /// Deploying (`deploy_node`, 45 minutes).
    #[serde(with = "secs")]
    pub deploy_node: Duration,
    /// Releasing (`destroy_node`, 30 minutes).
    #[serde(with = "secs")]
    pub destroy_node: Duration,
    /// Waiting for a deployed node's signalling boot actions to report a final status
    /// (`bootaction_final_status`, 15 minutes).
    #[serde(with = "secs")]
    pub bootaction_final_status: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            default: Duration::from_secs(5 * 60),
            identify_node: Duration::from_secs(10 * 60),
            configure_hardware: Duration::from_secs(30 * 60),
            deploy_node: Duration::from_secs(45 * 60),
            destroy_node: Duration::from_secs(30 * 60),
            bootaction_final_status: Duration::from_secs(15 * 60),
        }
    }
}

impl Timeouts {
    /// The timeout of `step`.
    pub fn for_step(&self, step: Step) -> Duration {
        match step {
            Step::WaitIdentified => self.identify_node,
            Step::ConfigureHardware => self.configure_hardware,
            Step::Deploy => self.deploy_node,
            Step::Destroy => self.destroy_node,
            Step::BootactionReport => self.bootaction_final_status,
            _ => self.default,
        }
    }

    /// Every timeout set to `d` (handy in tests).
    pub fn all(d: Duration) -> Self {
        Timeouts {
            default: d,
            identify_node: d,
            configure_hardware: d,
            deploy_node: d,
            destroy_node: d,
            bootaction_final_status: d,
        }
    }
}

/// What a task does when a node it needs is leased to another task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeaseConflict {
    /// Fail the task at once, naming the other task.
    Fail,
    /// Wait (polling every `poll_interval`) until the node is free.
    Wait,
}

/// What cancellation does to steps already running.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelPolicy {
    /// Let them finish (and journal them); start nothing new.
    FinishInFlight,
    /// Abandon them at once.
    AbortInFlight,
}

/// The orchestrator's settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct OrchestratorConfig {
    /// Node pipelines run at once per task (0: no limit).
    pub concurrency: usize,
    /// Retries of transient failures.
    pub retry: RetryPolicy,
    /// Step timeouts.
    pub timeouts: Timeouts,
    /// Interval of polling waits (enlistment, leases).
    #[serde(with = "secs")]
    pub poll_interval: Duration,
    /// Lease conflicts.
    pub lease_conflict: LeaseConflict,
    /// Cancellation.
    pub cancel: CancelPolicy,
    /// Where nodes report boot action statuses (template value `action.report_url`; the
    /// reference's `bootactions.report_url`).
    pub bootaction_report_url: String,
    /// Events each task's channel holds for a subscriber that has not read them yet; a
    /// subscriber further behind is told how many it missed ([`crate::orchestrator::Event::Lagged`]).
    pub event_capacity: usize,
}

impl Default for OrchestratorConfig {
    fn default() -> Self {
        OrchestratorConfig {
            concurrency: 64,
            retry: RetryPolicy::default(),
            timeouts: Timeouts::default(),
            poll_interval: Duration::from_secs(10),
            lease_conflict: LeaseConflict::Fail,
            cancel: CancelPolicy::FinishInFlight,
            bootaction_report_url: crate::bootaction::DEFAULT_REPORT_URL.to_owned(),
            event_capacity: 4096,
        }
    }
}
