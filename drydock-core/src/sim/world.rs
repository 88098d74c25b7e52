//! The simulated world and the two drivers over it.

use std::collections::{BTreeMap, HashMap, HashSet};

use rustc_hash::FxHashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::bootaction::{BootActions, ReportStatus};
use crate::design::OobType;
use crate::driver::{
    BootDevice, BootPersistence, BuildData, Capabilities, DeployBootActions, DriverError,
    DriverErrorKind, Identification, NodeDriver, NodeJob, OobDriver, OobFacts, OobTarget,
    Operation, PlatformCatalog, PowerAction, PowerState, SiteJob,
};

/// Settings of a simulated world.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct SimConfig {
    /// Latency of every driver call.
    pub latency: Duration,
    /// Probability that a call fails with a transient error (0.0 to 1.0).
    pub transient_rate: f64,
    /// Seed of the fault generator.
    pub seed: u64,
    /// Whether machines are known to the provisioner from the start.
    pub preenlisted: bool,
    /// Whether machines start commissioned (`Ready`; implies enlisted).
    pub commissioned: bool,
    /// What deployed nodes report for their boot actions (see
    /// [`SimWorld::report_bootactions`]); [`SimWorld::set_bootaction_outcome`] overrides it
    /// per node.
    pub bootaction_outcome: SimBootAction,
}

/// What a simulated node does with its signalling boot actions once deployed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SimBootAction {
    /// Reports `running`, then `success`.
    #[default]
    Success,
    /// Reports `running`, then `failure` with an error detail.
    Failure,
    /// Reports nothing (the deployment waits until its deadline).
    Silent,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            latency: Duration::ZERO,
            transient_rate: 0.0,
            seed: 1,
            preenlisted: false,
            commissioned: false,
            bootaction_outcome: SimBootAction::Success,
        }
    }
}

/// A machine's state in the provisioner.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MachineStatus {
    /// Not known to the provisioner.
    Unknown,
    /// Enlisted, not commissioned.
    New,
    /// Commissioned.
    Ready,
    /// Deployed.
    Deployed,
}

/// One simulated machine.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MachineState {
    /// Power.
    pub power: PowerState,
    /// Next boot device.
    pub boot_device: BootDevice,
    /// Provisioner status.
    pub status: MachineStatus,
    /// Networking configured.
    pub networking: bool,
    /// Storage configured.
    pub storage: bool,
    /// Platform configured.
    pub platform: bool,
    /// How many times the machine was actually deployed (repeats would be a bug).
    pub deploys: u32,
    /// How many times it was actually commissioned.
    pub commissions: u32,
}

/// A driver call, as logged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Call {
    /// The operation.
    pub operation: Operation,
    /// The node, for per-node calls.
    pub node: Option<String>,
    /// Whether it succeeded.
    pub ok: bool,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct World {
    /// Hashed: every call looks its machine up (a B-tree of 10,000 names took ~20 string
    /// comparisons a look-up). Saved in name order.
    #[serde(serialize_with = "sorted")]
    machines: FxHashMap<Arc<str>, MachineState>,
    site_steps: BTreeMap<String, u32>,
    calls: Vec<LoggedCall>,
}

/// A [`Call`] as the log keeps it: the node's name is shared with its machine, so logging a
/// call allocates nothing (saved as a `Call`).
#[derive(Debug, Serialize, Deserialize)]
struct LoggedCall {
    operation: Operation,
    node: Option<Arc<str>>,
    ok: bool,
}

impl From<&LoggedCall> for Call {
    fn from(c: &LoggedCall) -> Self {
        Call {
            operation: c.operation,
            node: c.node.as_deref().map(str::to_owned),
            ok: c.ok,
        }
    }
}

#[derive(Debug, Default)]
struct Faults {
    permanent: HashMap<(String, Operation), String>,
    hangs: HashSet<(String, Operation)>,
    panics: HashSet<(String, Operation)>,
}

#[derive(Debug)]
struct Inner {
    config: SimConfig,
    world: Mutex<World>,
    faults: Mutex<Faults>,
    rng: Mutex<u64>,
    /// The append-only log of a persistent world.
    file: Option<Mutex<std::fs::File>>,
    bootactions: Mutex<Option<(BootActions, Arc<dyn SimNodeAgent>)>>,
    bootaction_outcomes: Mutex<HashMap<String, SimBootAction>>,
}

/// A simulated world: create one, then hand its drivers to the orchestrator.
#[derive(Clone, Debug)]
pub struct SimWorld {
    inner: Arc<Inner>,
}

mod bootactions;

pub use bootactions::SimNodeAgent;

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl SimWorld {
    /// A world in memory.
    pub fn new(config: SimConfig) -> Self {
        Self::with(config, World::default(), None)
    }

    /// A world kept in `dir/sim-world.jsonl`: replayed if present, and every call appends one
    /// line (the call and the state it left its machine in), so that keeping it costs the same
    /// for the ten-thousandth call as for the first. A line cut short by a crash is ignored.
    pub fn persistent(config: SimConfig, dir: impl Into<PathBuf>) -> std::io::Result<Self> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)?;
        let path = dir.join("sim-world.jsonl");
        let world = match std::fs::read(&path) {
            Ok(bytes) => replay(&bytes, &path)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => World::default(),
            Err(e) => return Err(e),
        };
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)?;
        Ok(Self::with(config, world, Some(Mutex::new(file))))
    }

    fn with(config: SimConfig, world: World, file: Option<Mutex<std::fs::File>>) -> Self {
        let rng = Mutex::new(config.seed);
        SimWorld {
            inner: Arc::new(Inner {
                config,
                world: Mutex::new(world),
                faults: Mutex::default(),
                rng,
                file,
                bootactions: Mutex::default(),
                bootaction_outcomes: Mutex::default(),
            }),
        }
    }

    /// The OOB driver over this world.
    pub fn oob_driver(&self) -> SimOobDriver {
        SimOobDriver {
            world: self.clone(),
        }
    }

    /// The node driver over this world.
    pub fn node_driver(&self) -> SimNodeDriver {
        SimNodeDriver {
            world: self.clone(),
        }
    }

    /// Makes `operation` on `node` fail permanently with `message`.
    pub fn fail_permanently(&self, node: &str, operation: Operation, message: &str) {
        lock(&self.inner.faults)
            .permanent
            .insert((node.to_owned(), operation), message.to_owned());
    }

    /// Makes `operation` on `node` never return.
    pub fn hang(&self, node: &str, operation: Operation) {
        lock(&self.inner.faults)
            .hangs
            .insert((node.to_owned(), operation));
    }

    /// Makes `operation` on `node` panic (a driver bug), once.
    pub fn panic_once(&self, node: &str, operation: Operation) {
        lock(&self.inner.faults)
            .panics
            .insert((node.to_owned(), operation));
    }

    /// Removes every injected permanent failure, hang and panic.
    pub fn clear_faults(&self) {
        *lock(&self.inner.faults) = Faults::default();
    }

    /// The call log, in order.
    pub fn calls(&self) -> Vec<Call> {
        lock(&self.inner.world)
            .calls
            .iter()
            .map(Call::from)
            .collect()
    }

    /// Calls of `operation`, per node, that succeeded.
    pub fn successful_calls(&self, operation: Operation) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for c in lock(&self.inner.world)
            .calls
            .iter()
            .filter(|c| c.ok && c.operation == operation)
        {
            *out.entry(c.node.as_deref().unwrap_or_default().to_owned())
                .or_insert(0) += 1;
        }
        out
    }

    /// A machine's state.
    pub fn machine(&self, node: &str) -> Option<MachineState> {
        lock(&self.inner.world).machines.get(node).cloned()
    }

    /// How many times a site-wide operation changed something.
    pub fn site_step_count(&self, operation: Operation) -> u32 {
        lock(&self.inner.world)
            .site_steps
            .get(operation.as_str())
            .copied()
            .unwrap_or(0)
    }

    fn new_machine(&self) -> MachineState {
        MachineState {
            power: PowerState::Off,
            boot_device: BootDevice::Disk,
            status: if self.inner.config.commissioned {
                MachineStatus::Ready
            } else if self.inner.config.preenlisted {
                MachineStatus::New
            } else {
                MachineStatus::Unknown
            },
            networking: false,
            storage: false,
            platform: false,
            deploys: 0,
            commissions: 0,
        }
    }

    /// Whether `operation` on `node` hangs, and the permanent failure set for it.
    fn faults(&self, node: &str, operation: Operation) -> (bool, Option<String>) {
        let mut faults = lock(&self.inner.faults);
        if faults.hangs.is_empty() && faults.permanent.is_empty() && faults.panics.is_empty() {
            return (false, None);
        }
        let key = (node.to_owned(), operation);
        if faults.panics.remove(&key) {
            drop(faults);
            panic!("simulated driver bug: {operation} on {node}");
        }
        (
            faults.hangs.contains(&key),
            faults.permanent.get(&key).cloned(),
        )
    }

    /// Runs one simulated call: latency, faults, then `act` on the world (saved afterwards).
    async fn call<T>(
        &self,
        driver: &'static str,
        operation: Operation,
        node: Option<&str>,
        act: impl FnOnce(&mut World, &SimWorld) -> Result<T, DriverError>,
    ) -> Result<T, DriverError> {
        if !self.inner.config.latency.is_zero() {
            super::clock::latency(self.inner.config.latency).await;
        }
        // Only a world with faults set pays for the look-ups.
        let (hangs, injected) = match node {
            Some(n) => self.faults(n, operation),
            None => (false, None),
        };
        if hangs {
            std::future::pending::<()>().await;
        }
        let fail = |kind, msg: String| {
            let e = DriverError::new(kind, driver, operation, msg);
            match node {
                Some(n) => e.for_node(n),
                None => e,
            }
        };
        let transient = self.inner.config.transient_rate > 0.0 && {
            let r = splitmix(&mut lock(&self.inner.rng));
            (r >> 11) as f64 / (1u64 << 53) as f64 <= self.inner.config.transient_rate
        };
        let mut world = lock(&self.inner.world);
        // The machine's own name, shared by the log.
        let mut name = node.and_then(|n| world.machines.get_key_value(n).map(|(k, _)| k.clone()));
        let result = if let Some(msg) = injected {
            Err(fail(DriverErrorKind::Permanent, msg))
        } else if transient {
            Err(fail(
                DriverErrorKind::Transient,
                "simulated transient failure".to_owned(),
            ))
        } else {
            if let Some(n) = node
                && name.is_none()
            {
                let n: Arc<str> = Arc::from(n);
                world.machines.insert(n.clone(), self.new_machine());
                name = Some(n);
            }
            act(&mut world, self)
        };
        // A failed first call to a node has no machine: its name is allocated for the log.
        let node = name.or_else(|| node.map(Arc::from));
        let call = LoggedCall {
            operation,
            node,
            ok: result.is_ok(),
        };
        if let Some(file) = &self.inner.file {
            // Written while the world is locked, so the log's order is the calls' order.
            append(file, &world, &call).map_err(|e| {
                fail(
                    DriverErrorKind::Transient,
                    format!("cannot save the simulated world: {e}"),
                )
            })?;
        }
        world.calls.push(call);
        result
    }
}

/// Serializes a map in key order, so that a saved world reads the same whatever the hashing.
fn sorted<S: serde::Serializer>(
    map: &FxHashMap<Arc<str>, MachineState>,
    s: S,
) -> Result<S::Ok, S::Error> {
    map.iter().collect::<BTreeMap<_, _>>().serialize(s)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// One line of a persistent world's log: a call and what it left behind.
#[derive(Serialize, Deserialize)]
struct LogLine<'a> {
    operation: Operation,
    #[serde(borrow)]
    node: Option<std::borrow::Cow<'a, str>>,
    ok: bool,
    /// The node's machine after the call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    machine: Option<MachineState>,
    /// The site-wide counts after a site-wide call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    site_steps: Option<BTreeMap<String, u32>>,
}

/// Appends the line of `call` (made on `world`, which it already changed) in one write.
fn append(file: &Mutex<std::fs::File>, world: &World, call: &LoggedCall) -> std::io::Result<()> {
    use std::io::Write;
    let line = LogLine {
        operation: call.operation,
        node: call.node.as_deref().map(std::borrow::Cow::Borrowed),
        ok: call.ok,
        machine: call
            .node
            .as_deref()
            .and_then(|n| world.machines.get(n))
            .cloned(),
        site_steps: call.node.is_none().then(|| world.site_steps.clone()),
    };
    let mut bytes = serde_json::to_vec(&line).map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    lock(file).write_all(&bytes)
}

/// The world a log describes. Only the last line may be cut short (a crash in mid-write).
fn replay(bytes: &[u8], path: &std::path::Path) -> std::io::Result<World> {
    let mut world = World::default();
    let lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    for (i, raw) in lines.iter().enumerate() {
        if raw.is_empty() {
            continue;
        }
        let line: LogLine<'_> = match serde_json::from_slice(raw) {
            Ok(l) => l,
            Err(_) if i + 1 == lines.len() => break,
            Err(e) => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{}:{}: {e}", path.display(), i + 1),
                ));
            }
        };
        let node: Option<Arc<str>> = line.node.as_deref().map(|n| {
            world
                .machines
                .get_key_value(n)
                .map(|(k, _)| k.clone())
                .unwrap_or_else(|| Arc::from(n))
        });
        if let (Some(n), Some(m)) = (&node, line.machine) {
            world.machines.insert(n.clone(), m);
        }
        if let Some(steps) = line.site_steps {
            world.site_steps = steps;
        }
        world.calls.push(LoggedCall {
            operation: line.operation,
            node,
            ok: line.ok,
        });
    }
    Ok(world)
}

fn machine<'w>(w: &'w mut World, node: &str) -> &'w mut MachineState {
    w.machines.get_mut(node).expect("created by SimWorld::call")
}

/// The simulated BMC fleet.
#[derive(Clone, Debug)]
pub struct SimOobDriver {
    world: SimWorld,
}

#[async_trait]
impl OobDriver for SimOobDriver {
    fn name(&self) -> &'static str {
        "sim"
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::oob(
            vec![
                OobType::Ipmi,
                OobType::Redfish,
                OobType::Libvirt,
                OobType::Manual,
            ],
            vec![BootDevice::Pxe, BootDevice::Disk, BootDevice::Bios],
            true,
        )
    }
    async fn validate_services(&self) -> Result<(), DriverError> {
        self.world
            .call("sim", Operation::ValidateOobServices, None, |_, _| Ok(()))
            .await
    }
    async fn configure_pxe(&self, target: &OobTarget) -> Result<(), DriverError> {
        self.world
            .call("sim", Operation::ConfigPxe, Some(&target.node), |w, _| {
                machine(w, &target.node).boot_device = BootDevice::Pxe;
                Ok(())
            })
            .await
    }
    async fn set_boot_device(
        &self,
        target: &OobTarget,
        device: BootDevice,
        _: BootPersistence,
    ) -> Result<(), DriverError> {
        self.world
            .call(
                "sim",
                Operation::SetBootDevice,
                Some(&target.node),
                |w, _| {
                    machine(w, &target.node).boot_device = device;
                    Ok(())
                },
            )
            .await
    }
    async fn set_power(&self, target: &OobTarget, action: PowerAction) -> Result<(), DriverError> {
        self.world
            .call("sim", Operation::SetPower, Some(&target.node), |w, _| {
                let m = machine(w, &target.node);
                let boots = match action {
                    PowerAction::On => m.power == PowerState::Off,
                    PowerAction::Cycle | PowerAction::Reset => true,
                    PowerAction::Off | PowerAction::SoftOff => false,
                };
                m.power = if matches!(action, PowerAction::Off | PowerAction::SoftOff) {
                    PowerState::Off
                } else {
                    PowerState::On
                };
                if boots && m.boot_device == BootDevice::Pxe && m.status == MachineStatus::Unknown {
                    m.status = MachineStatus::New; // PXE booted into the provisioner: enlisted
                }
                Ok(())
            })
            .await
    }
    async fn power_state(&self, target: &OobTarget) -> Result<PowerState, DriverError> {
        self.world
            .call("sim", Operation::PowerState, Some(&target.node), |w, _| {
                Ok(machine(w, &target.node).power)
            })
            .await
    }
    async fn interrogate(&self, target: &OobTarget) -> Result<OobFacts, DriverError> {
        self.world
            .call(
                "sim",
                Operation::InterrogateOob,
                Some(&target.node),
                |w, _| {
                    let m = machine(w, &target.node);
                    let mut facts = BTreeMap::new();
                    facts.insert("manufacturer".to_owned(), "drydock-sim".to_owned());
                    facts.insert(
                        "boot_device".to_owned(),
                        format!("{:?}", m.boot_device).to_lowercase(),
                    );
                    Ok(OobFacts {
                        power: Some(m.power),
                        facts,
                        ..OobFacts::default()
                    })
                },
            )
            .await
    }
}

/// The simulated provisioner.
#[derive(Clone, Debug)]
pub struct SimNodeDriver {
    world: SimWorld,
}

fn site_step(w: &mut World, op: Operation) -> Result<(), DriverError> {
    *w.site_steps.entry(op.as_str().to_owned()).or_insert(0) += 1;
    Ok(())
}

fn require(
    m: &MachineState,
    node: &str,
    op: Operation,
    allowed: &[MachineStatus],
) -> Result<(), DriverError> {
    if allowed.contains(&m.status) {
        Ok(())
    } else {
        let msg = format!("machine is {:?}; {op} needs one of {allowed:?}", m.status);
        Err(DriverError::new(DriverErrorKind::Permanent, "sim", op, msg).for_node(node))
    }
}

#[async_trait]
impl NodeDriver for SimNodeDriver {
    fn name(&self) -> &'static str {
        "sim"
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::node(true, true)
    }
    async fn validate_services(&self) -> Result<(), DriverError> {
        self.world
            .call("sim", Operation::ValidateNodeServices, None, |_, _| Ok(()))
            .await
    }
    async fn available_platforms(&self) -> Result<PlatformCatalog, DriverError> {
        self.world
            .call("sim", Operation::AvailablePlatforms, None, |_, _| {
                let mut images = BTreeMap::new();
                images.insert(
                    "jammy".to_owned(),
                    vec!["ga-22.04".to_owned(), "hwe-22.04".to_owned()],
                );
                images.insert(
                    "xenial".to_owned(),
                    vec!["ga-16.04".to_owned(), "hwe-16.04".to_owned()],
                );
                Ok(PlatformCatalog { images })
            })
            .await
    }
    async fn create_network_template(&self, _: SiteJob<'_>) -> Result<(), DriverError> {
        self.world
            .call("sim", Operation::CreateNetworkTemplate, None, |w, _| {
                site_step(w, Operation::CreateNetworkTemplate)
            })
            .await
    }
    async fn configure_user_credentials(&self, _: SiteJob<'_>) -> Result<(), DriverError> {
        self.world
            .call("sim", Operation::ConfigureUserCredentials, None, |w, _| {
                site_step(w, Operation::ConfigureUserCredentials)
            })
            .await
    }
    async fn configure_provisioner(&self, _: SiteJob<'_>) -> Result<(), DriverError> {
        self.world
            .call("sim", Operation::ConfigureProvisioner, None, |w, _| {
                site_step(w, Operation::ConfigureProvisioner)
            })
            .await
    }
    async fn identify_node(&self, job: NodeJob<'_>) -> Result<Identification, DriverError> {
        let node = &job.node.name;
        self.world
            .call("sim", Operation::IdentifyNode, Some(node), |w, _| {
                Ok(match machine(w, node).status {
                    MachineStatus::Unknown => Identification::Unknown,
                    _ => Identification::Known {
                        provisioner_id: format!("sim-{node}"),
                    },
                })
            })
            .await
    }
    async fn configure_hardware(&self, job: NodeJob<'_>) -> Result<(), DriverError> {
        let node = &job.node.name;
        self.world
            .call("sim", Operation::ConfigureHardware, Some(node), |w, _| {
                let m = machine(w, node);
                require(
                    m,
                    node,
                    Operation::ConfigureHardware,
                    &[
                        MachineStatus::New,
                        MachineStatus::Ready,
                        MachineStatus::Deployed,
                    ],
                )?;
                if m.status == MachineStatus::New {
                    m.status = MachineStatus::Ready;
                    m.commissions += 1;
                }
                Ok(())
            })
            .await
    }
    async fn interrogate_node(&self, job: NodeJob<'_>) -> Result<Vec<BuildData>, DriverError> {
        let node = &job.node.name;
        self.world
            .call("sim", Operation::InterrogateNode, Some(node), |w, _| {
                let m = machine(w, node);
                require(
                    m,
                    node,
                    Operation::InterrogateNode,
                    &[MachineStatus::Ready, MachineStatus::Deployed],
                )?;
                Ok(vec![BuildData {
                    generator: "sim:lshw".into(),
                    format: "text/plain".into(),
                    data: format!("{node}: 2 CPUs, 24 GiB"),
                }])
            })
            .await
    }
    async fn apply_networking(&self, job: NodeJob<'_>) -> Result<(), DriverError> {
        self.configure(job, Operation::ApplyNetworking, |m| m.networking = true)
            .await
    }
    async fn apply_storage(&self, job: NodeJob<'_>) -> Result<(), DriverError> {
        self.configure(job, Operation::ApplyStorage, |m| m.storage = true)
            .await
    }
    async fn apply_platform(&self, job: NodeJob<'_>) -> Result<(), DriverError> {
        self.configure(job, Operation::ApplyPlatform, |m| m.platform = true)
            .await
    }
    async fn deploy(&self, job: NodeJob<'_>) -> Result<(), DriverError> {
        let node = &job.node.name;
        self.world
            .call("sim", Operation::Deploy, Some(node), |w, _| {
                let m = machine(w, node);
                require(
                    m,
                    node,
                    Operation::Deploy,
                    &[MachineStatus::Ready, MachineStatus::Deployed],
                )?;
                if m.status == MachineStatus::Ready {
                    if !(m.networking && m.storage && m.platform) {
                        let msg =
                            "networking, storage and platform must be configured before deploying"
                                .to_owned();
                        return Err(DriverError::new(
                            DriverErrorKind::Permanent,
                            "sim",
                            Operation::Deploy,
                            msg,
                        )
                        .for_node(node));
                    }
                    m.status = MachineStatus::Deployed;
                    m.deploys += 1;
                    m.power = PowerState::On;
                }
                Ok(())
            })
            .await?;
        self.world.run_bootactions(node, job.bootactions).await;
        Ok(())
    }
    async fn destroy(&self, job: NodeJob<'_>) -> Result<(), DriverError> {
        let node = &job.node.name;
        self.world
            .call("sim", Operation::Destroy, Some(node), |w, world| {
                let fresh = MachineState {
                    status: MachineStatus::Unknown,
                    ..world.new_machine()
                };
                *machine(w, node) = fresh;
                Ok(())
            })
            .await
    }
}

impl SimNodeDriver {
    async fn configure(
        &self,
        job: NodeJob<'_>,
        op: Operation,
        set: impl FnOnce(&mut MachineState),
    ) -> Result<(), DriverError> {
        let node = &job.node.name;
        self.world
            .call("sim", op, Some(node), |w, _| {
                let m = machine(w, node);
                require(
                    m,
                    node,
                    op,
                    &[MachineStatus::Ready, MachineStatus::Deployed],
                )?;
                if m.status == MachineStatus::Ready {
                    set(m);
                }
                Ok(())
            })
            .await
    }
}
