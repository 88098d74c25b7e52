//! MAAS' machine transition table and the fake's simulated lifecycle durations.

use crate::MachineStatus;
use MachineStatus as S;

/// Statuses MAAS lets `release` start from (`RELEASABLE_STATUSES`).
pub const RELEASABLE: &[MachineStatus] = &[
    S::Allocated,
    S::Reserved,
    S::Broken,
    S::Deploying,
    S::Deployed,
    S::FailedDeployment,
    S::FailedDiskErasing,
    S::ReleasingFailed,
];

/// The statuses `from` may move to (`NODE_TRANSITIONS`; same-state moves are always allowed).
///
/// Rows for New, Commissioning, Failed commissioning, Ready, Allocated, Deploying, Deployed,
/// Failed deployment, Releasing, Disk erasing, Testing, Failed testing and Broken follow the
/// reference (`maas-api.md` §4.2); the remaining rows are inferred and marked.
pub fn targets(from: MachineStatus) -> &'static [MachineStatus] {
    const RESET: &[MachineStatus] = &[
        S::Broken,
        S::New,
        S::Ready,
        S::Reserved,
        S::Allocated,
        S::Deployed,
        S::FailedTesting,
        S::Commissioning,
        S::FailedCommissioning,
        S::Missing,
        S::Retired,
        S::EnteringRescueMode,
        S::Testing,
    ];
    match from {
        S::New => &[
            S::Commissioning,
            S::Testing,
            S::Missing,
            S::Ready,
            S::Retired,
            S::Broken,
            S::EnteringRescueMode,
        ],
        S::Commissioning => &[
            S::FailedCommissioning,
            S::Ready,
            S::Retired,
            S::Missing,
            S::New,
            S::Broken,
            S::Testing,
        ],
        S::FailedCommissioning => &[
            S::Commissioning,
            S::Missing,
            S::Retired,
            S::Broken,
            S::EnteringRescueMode,
            S::Testing,
        ],
        S::Ready => &[
            S::EnteringRescueMode,
            S::Commissioning,
            S::Allocated,
            S::Reserved,
            S::Retired,
            S::Missing,
            S::Broken,
            S::Testing,
        ],
        S::Allocated => &[
            S::Ready,
            S::Retired,
            S::Missing,
            S::Broken,
            S::Deploying,
            S::DiskErasing,
            S::Releasing,
            S::EnteringRescueMode,
            S::Testing,
        ],
        S::Deploying => &[
            S::Allocated,
            S::Missing,
            S::Broken,
            S::FailedDeployment,
            S::Deployed,
            S::Ready,
            S::DiskErasing,
            S::Releasing,
        ],
        S::Deployed | S::FailedDeployment => &[
            S::Allocated,
            S::Missing,
            S::Broken,
            S::Ready,
            S::DiskErasing,
            S::Releasing,
            S::EnteringRescueMode,
            S::Testing,
        ],
        S::Releasing => &[
            S::New,
            S::Allocated,
            S::Reserved,
            S::Deployed,
            S::Ready,
            S::Broken,
            S::Missing,
            S::FailedDeployment,
            S::FailedDiskErasing,
            S::ReleasingFailed,
        ],
        S::DiskErasing => &[
            S::Broken,
            S::DiskErasing,
            S::FailedDiskErasing,
            S::Ready,
            S::Releasing,
        ],
        S::Testing => RESET,
        S::FailedTesting => &[
            S::Commissioning,
            S::Broken,
            S::Missing,
            S::EnteringRescueMode,
            S::Testing,
            S::Ready,
            S::Deployed,
        ],
        S::Broken => &[
            S::Commissioning,
            S::Ready,
            S::DiskErasing,
            S::Releasing,
            S::EnteringRescueMode,
            S::Testing,
            S::Deployed,
        ],
        // Inferred rows (not in the reference excerpt).
        S::ReleasingFailed | S::FailedDiskErasing => &[
            S::Broken,
            S::Releasing,
            S::DiskErasing,
            S::Ready,
            S::Missing,
        ],
        S::Missing => &[S::New, S::Ready, S::Broken, S::Commissioning],
        S::Reserved => &[S::Ready, S::Allocated, S::Broken, S::Missing, S::Retired],
        S::Retired => &[S::New, S::Ready, S::Broken, S::Missing],
        S::EnteringRescueMode => &[S::RescueMode, S::FailedEnteringRescueMode, S::Broken],
        S::RescueMode => &[S::ExitingRescueMode, S::Broken],
        S::ExitingRescueMode => &[S::Ready, S::Deployed, S::Broken, S::FailedExitingRescueMode],
        S::FailedEnteringRescueMode | S::FailedExitingRescueMode => {
            &[S::EnteringRescueMode, S::ExitingRescueMode, S::Broken]
        }
        S::Other(_) => &[],
    }
}

/// Whether MAAS allows `from -> to`.
///
/// ```
/// use drydock_driver_maas::{MachineStatus as S, fake::lifecycle::allowed};
/// assert!(allowed(S::Ready, S::Allocated));
/// assert!(!allowed(S::New, S::Deploying));
/// assert!(allowed(S::Deployed, S::Deployed));
/// ```
pub fn allowed(from: MachineStatus, to: MachineStatus) -> bool {
    from == to || targets(from).contains(&to)
}

/// MAAS' 409 text for a forbidden move.
pub fn invalid_transition(from: MachineStatus, to: MachineStatus) -> String {
    format!("Invalid transition: {} -> {}.", from.label(), to.label())
}

/// How many clock ticks each simulated phase takes (see [`super::FakeMaas::tick`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Durations {
    /// Commissioning scripts.
    pub commissioning: u32,
    /// Testing after commissioning.
    pub testing: u32,
    /// Deployment (curtin + first boot).
    pub deploying: u32,
    /// Releasing while the machine is powered on.
    pub releasing: u32,
    /// Disk erasing.
    pub disk_erasing: u32,
    /// Ticks after which a phase still running fails as timed out (MAAS' `node_timeout`).
    pub timeout: u32,
}

impl Default for Durations {
    fn default() -> Self {
        Self {
            commissioning: 3,
            testing: 1,
            deploying: 5,
            releasing: 1,
            disk_erasing: 2,
            timeout: 30,
        }
    }
}

/// What a scripted phase ends in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Outcome {
    /// Succeeds.
    #[default]
    Succeed,
    /// Fails (Failed commissioning / Failed testing / Failed deployment / Failed disk erasing).
    Fail,
    /// Never finishes by itself; MAAS' timeout moves it to the failed state.
    Hang,
}

/// Per-machine scripted outcomes, consumed when the phase ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Script {
    /// Outcome of commissioning.
    pub commissioning: Outcome,
    /// Outcome of testing.
    pub testing: Outcome,
    /// Outcome of deployment.
    pub deploying: Outcome,
}
