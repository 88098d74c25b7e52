//! Power: `ComputerSystem.Reset` with a reset type the service offers, then `PowerState`
//! polled until it settles.

use std::time::Duration;

use drydock_core::driver::{
    DriverError, DriverErrorKind, OobTarget, Operation, PowerAction, PowerState, deadline_after,
};
use tokio::time::Instant;

use crate::client::BmcClient;
use crate::driver::{RedfishDriver, err, nap, to_driver};
use crate::error::{Error, Result};
use crate::model::{self, RfPower, System};

/// The reset types tried for each step, in order of preference.
const ON: &[&str] = &["On", "ForceOn", "PushPowerButton"];
const OFF: &[&str] = &["ForceOff", "PushPowerButton", "GracefulShutdown"];
const SOFT_OFF: &[&str] = &["GracefulShutdown", "PushPowerButton"];
const CYCLE: &[&str] = &["PowerCycle", "ForceRestart"];
const RESET: &[&str] = &["ForceRestart", "PowerCycle"];

/// The first of `prefs` that `allowed` lists (or the first of `prefs` when the service lists
/// nothing).
pub(crate) fn choose<'a>(allowed: Option<&[String]>, prefs: &[&'a str]) -> Option<&'a str> {
    match allowed {
        None => prefs.first().copied(),
        Some(allowed) => prefs
            .iter()
            .copied()
            .find(|p| allowed.iter().any(|a| a == p)),
    }
}

/// The power state of a system as the core sees it: a system powering on is still off, one
/// powering off still on, a paused one on.
pub(crate) fn current(system: &System) -> Result<PowerState> {
    match system.power {
        Some(RfPower::On | RfPower::PoweringOff | RfPower::Paused) => Ok(PowerState::On),
        Some(RfPower::Off | RfPower::PoweringOn) => Ok(PowerState::Off),
        None => Err(Error::Protocol(format!(
            "the system reports no usable PowerState ({})",
            system.power_text.as_deref().unwrap_or("absent")
        ))),
    }
}

/// What to do about a power action, given the power state read first.
enum Plan {
    /// Already there (or going there): wait for the state.
    Wait(RfPower),
    /// Reset with one of `prefs`, then wait for the state (looking for off first when
    /// `off_phase`).
    Reset {
        prefs: &'static [&'static str],
        expect: RfPower,
        off_phase: bool,
    },
}

fn plan(action: PowerAction, state: RfPower) -> Plan {
    use RfPower::{Off, On, Paused, PoweringOff, PoweringOn};
    let reset = |prefs, expect, off_phase| Plan::Reset {
        prefs,
        expect,
        off_phase,
    };
    match (action, state) {
        (PowerAction::On, On | PoweringOn) => Plan::Wait(On),
        (PowerAction::Off | PowerAction::SoftOff, Off | PoweringOff) => Plan::Wait(Off),
        (PowerAction::On | PowerAction::Cycle | PowerAction::Reset, Off | PoweringOff) => {
            reset(ON, On, false)
        }
        (PowerAction::Cycle | PowerAction::Reset, PoweringOn) => Plan::Wait(On),
        (PowerAction::On, Paused) => reset(&["Resume", "On"], On, false),
        (PowerAction::Cycle, On | Paused) => reset(CYCLE, On, true),
        (PowerAction::Reset, On | Paused) => reset(RESET, On, true),
        (PowerAction::Off, On | Paused | PoweringOn) => reset(OFF, Off, false),
        (PowerAction::SoftOff, On | Paused | PoweringOn) => reset(SOFT_OFF, Off, false),
    }
}

/// The reset types the system allows: inline, else from its `ActionInfo`, else unknown.
async fn allowed(client: &BmcClient, system: &System) -> Result<Option<Vec<String>>> {
    if system.reset_allowed.is_some() {
        return Ok(system.reset_allowed.clone());
    }
    let Some(info) = &system.reset_action_info else {
        return Ok(None);
    };
    Ok(model::action_info_allowed(
        &client.get(info).await?.body,
        "ResetType",
    ))
}

/// Posts the reset `kind` to the system's reset action; `true` when the service ran it as a
/// task, followed to its end (the reset is then complete).
async fn reset(client: &BmcClient, system: &System, kind: &str) -> Result<bool> {
    let target = system.reset_target.as_deref().ok_or_else(|| {
        Error::Unsupported("the system has no #ComputerSystem.Reset action".into())
    })?;
    tracing::debug!(bmc = %client.settings.base, kind, "ComputerSystem.Reset");
    client
        .post(target, &serde_json::json!({ "ResetType": kind }))
        .await
        .map(|r| r.tasked)
}

/// Changes `target`'s power as [`RedfishDriver`] documents.
pub(crate) async fn set_power(
    driver: &RedfishDriver,
    target: &OobTarget,
    action: PowerAction,
) -> Result<(), DriverError> {
    let op = Operation::SetPower;
    let (client, path, system, _) = driver.system(target, op).await?;
    let state = system
        .power
        .ok_or_else(|| to_driver(current(&system).unwrap_err(), op, target, ""))?;
    let config = driver.config();
    let deadline = deadline_after(Duration::from_millis(config.power_deadline_ms));
    let poller = Poller {
        client: &client,
        path: &path,
        target,
        interval: Duration::from_millis(config.power_poll_interval_ms.max(1)),
    };
    let (prefs, expect, off_phase) = match plan(action, state) {
        Plan::Wait(s) => return poller.wait(s, deadline, config.power_deadline_ms).await,
        Plan::Reset {
            prefs,
            expect,
            off_phase,
        } => (prefs, expect, off_phase),
    };
    let allowed = allowed(&client, &system)
        .await
        .map_err(|e| to_driver(e, op, target, "reading the allowed reset types"))?;
    match choose(allowed.as_deref(), prefs) {
        Some(kind) => {
            let done = reset(&client, &system, kind)
                .await
                .map_err(|e| to_driver(e, op, target, &format!("reset {kind}")))?;
            // A restart run as a task is over when the task is: its off phase is past.
            if off_phase && !done {
                let window = deadline_after(Duration::from_millis(config.cycle_off_window_ms));
                if let Err(last) = poller.poll(RfPower::Off, window.min(deadline)).await? {
                    tracing::debug!(node = %target.node, %last, "off phase of the restart not seen");
                }
            }
            poller
                .wait(expect, deadline, config.power_deadline_ms)
                .await
        }
        // No cycle or restart offered: off, then on.
        None if off_phase => {
            let off = choose(allowed.as_deref(), OFF);
            let on = choose(allowed.as_deref(), ON);
            let (Some(off), Some(on)) = (off, on) else {
                return Err(unoffered(op, target, prefs, allowed.as_deref()));
            };
            reset(&client, &system, off)
                .await
                .map_err(|e| to_driver(e, op, target, &format!("reset {off}")))?;
            poller
                .wait(RfPower::Off, deadline, config.power_deadline_ms)
                .await?;
            reset(&client, &system, on)
                .await
                .map_err(|e| to_driver(e, op, target, &format!("reset {on}")))?;
            poller
                .wait(expect, deadline, config.power_deadline_ms)
                .await
        }
        None => Err(unoffered(op, target, prefs, allowed.as_deref())),
    }
}

fn unoffered(
    op: Operation,
    target: &OobTarget,
    prefs: &[&str],
    allowed: Option<&[String]>,
) -> DriverError {
    err(
        DriverErrorKind::Unsupported,
        op,
        target,
        format!(
            "none of the reset types {} is offered (the BMC allows {})",
            prefs.join(", "),
            allowed.unwrap_or_default().join(", ")
        ),
    )
}

struct Poller<'a> {
    client: &'a BmcClient,
    path: &'a str,
    target: &'a OobTarget,
    interval: Duration,
}

impl Poller<'_> {
    /// Reads `PowerState` until it is `want` (`Ok(Ok(()))`) or `until` (`Ok(Err(last))`);
    /// retryable errors are tolerated until then.
    async fn poll(&self, want: RfPower, until: Instant) -> Result<Result<(), String>, DriverError> {
        loop {
            let last = match self.client.get(self.path).await {
                Ok(reply) => {
                    let s = System::parse(&reply.body);
                    if s.power == Some(want) {
                        return Ok(Ok(()));
                    }
                    format!(
                        "the BMC reports {}",
                        s.power_text.as_deref().unwrap_or("no PowerState")
                    )
                }
                Err(e) if e.kind().is_retryable() => e.to_string(),
                Err(e) => {
                    return Err(to_driver(
                        e,
                        Operation::SetPower,
                        self.target,
                        "reading the power state",
                    ));
                }
            };
            if Instant::now() >= until {
                return Ok(Err(last));
            }
            nap(self.interval, until).await;
        }
    }

    /// [`Poller::poll`], [`DriverErrorKind::TimedOut`] at `deadline`.
    async fn wait(&self, want: RfPower, deadline: Instant, ms: u64) -> Result<(), DriverError> {
        self.poll(want, deadline).await?.map_err(|last| {
            err(
                DriverErrorKind::TimedOut,
                Operation::SetPower,
                self.target,
                format!("power did not become {want:?} within {ms} ms ({last})"),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reset_types_follow_the_allowed_values() {
        let allowed: Vec<String> = ["ForceOff", "ForceRestart", "On"]
            .map(String::from)
            .to_vec();
        assert_eq!(choose(Some(&allowed), CYCLE), Some("ForceRestart"));
        assert_eq!(choose(Some(&allowed), OFF), Some("ForceOff"));
        assert_eq!(choose(Some(&allowed), SOFT_OFF), None);
        assert_eq!(choose(None, CYCLE), Some("PowerCycle"));
        assert_eq!(choose(Some(&[]), ON), None);
    }

    #[test]
    fn transitional_states_count_as_where_the_node_is() {
        let s = |p| System {
            power: Some(p),
            ..System::default()
        };
        assert_eq!(current(&s(RfPower::PoweringOn)).unwrap(), PowerState::Off);
        assert_eq!(current(&s(RfPower::PoweringOff)).unwrap(), PowerState::On);
        assert!(current(&System::default()).is_err());
        assert!(matches!(
            plan(PowerAction::Off, RfPower::PoweringOff),
            Plan::Wait(RfPower::Off)
        ));
        assert!(matches!(
            plan(PowerAction::Cycle, RfPower::Off),
            Plan::Reset {
                off_phase: false,
                ..
            }
        ));
    }
}
