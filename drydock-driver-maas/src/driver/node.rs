//! Node lifecycle: identify, commission, interrogate, deploy, destroy.
//!
//! * **Identify.** IPMI and Redfish nodes are found by their BMC address (the node's address on
//!   its OOB network) in MAAS' power parameters (`power_address`, compared by host: a port,
//!   scheme or path around it is ignored; a port in both must match). Other nodes are found by
//!   their boot MAC, else by host name. A found machine gets the node's host name and domain
//!   (and, with [`MaasDriverConfig::use_node_oob_params`](super::MaasDriverConfig), the node's
//!   power type and parameters; libvirt nodes always get `virsh` with the libvirt URI), each
//!   written only when different.
//! * **Commission** (`configure_hardware`): New, Broken, Failed commissioning and Failed testing
//!   machines are commissioned; then (and for machines already Commissioning or Testing) the
//!   driver waits for Ready. Ready, Allocated, Deploying and Deployed machines need nothing.
//! * **Interrogate**: the machine's `lshw` XML from `op=details` (`maas:lshw`,
//!   `application/xml`, when MAAS has one) and MAAS' commissioning and testing results, one
//!   [`BuildData`] per script (`maas:commissioning:<script>`), output decoded.
//! * **Deploy**: a Ready machine is allocated, the node's `owner_data` set as workload
//!   annotations, and deployment started with the node's image (`distro_series`), kernel
//!   (`hwe_kernel`) and, when boot actions target the node, cloud-init `user_data` with their
//!   packages and the node's boot action identity (see [`super::userdata`]; no `__baid__` tag);
//!   then (and for a machine already Deploying) the driver waits for Deployed.
//!   Deployed is a success without a write. A machine in Failed deployment is a `Permanent`
//!   error with MAAS' reason (networking releases it before a new attempt).
//! * **Destroy**: the machine is released (erasing its disks when configured) and the driver
//!   waits for the release to finish; only then is it deleted (unlike Drydock, a release that
//!   fails or times out leaves the machine in place and reports the error). A node MAAS does not
//!   know is already destroyed.

use drydock_core::design::OobType;
use drydock_core::driver::{
    BuildData, DriverError, DriverErrorKind, Identification, NodeJob, Operation,
};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use drydock_core::bootaction::{actions_for_node, node_package_list};
use drydock_core::store::StoreErrorKind;
use zeroize::{Zeroize, Zeroizing};

use super::userdata::{BootActionIdentity, cloud_config};
use super::{Cx, MaasDriver, MaasResultExt, Target};
use crate::details::{LshwDevice, details_devices, parse_details};
use crate::models::CommissioningResult;
use crate::{
    AllocateOptions, CommissionOptions, DeployOptions, MachineQuery, MachineStatus as S,
    MachineUpdate, ReleaseOptions,
};
use crate::{MaasError, Machine};

/// The host part of a `power_address` (`10.0.0.1`, `10.0.0.1:623`, `https://[fd00::1]:443/x`)
/// and its port.
pub(crate) fn split_power_address(addr: &str) -> (String, Option<u16>) {
    let rest = addr.split_once("://").map_or(addr, |(_, r)| r);
    let rest = rest.split('/').next().unwrap_or(rest);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    if let Some(v6) = rest.strip_prefix('[') {
        let (host, tail) = v6.split_once(']').unwrap_or((v6, ""));
        let port = tail.strip_prefix(':').and_then(|p| p.parse().ok());
        return (host.to_owned(), port);
    }
    match rest.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => (h.to_owned(), p.parse().ok()),
        _ => (rest.to_owned(), None),
    }
}

/// A power type and its parameters.
type PowerSettings = (String, std::collections::BTreeMap<String, String>);

/// Statuses MAAS lets `release` start from (`RELEASABLE_STATUSES`).
const RELEASABLE: &[S] = &[
    S::Allocated,
    S::Reserved,
    S::Broken,
    S::Deploying,
    S::Deployed,
    S::FailedDeployment,
    S::FailedDiskErasing,
    S::ReleasingFailed,
];

fn decode(r: &CommissioningResult) -> String {
    r.output()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_else(|| r.data.clone())
}

impl MaasDriver {
    /// Settles a state-changing machine call: a failure is accepted only when its outcome is
    /// unknown (MAAS may have applied it, e.g. a 504) and the machine, read back, is in one of
    /// the `took_effect` states. This is the driver's one rule for ambiguous writes: it never
    /// repeats such a call blindly.
    async fn settle<T>(
        &self,
        cx: &Cx,
        sid: &str,
        doing: &str,
        result: Result<T, MaasError>,
        took_effect: &[S],
    ) -> Result<(), DriverError> {
        let Err(e) = result else { return Ok(()) };
        let now = self
            .client
            .machines()
            .get(sid)
            .await
            .cx(cx, "reading the machine")?;
        if e.outcome_unknown() && took_effect.contains(&now.status) {
            Ok(())
        } else {
            Err(cx.maas(doing, e))
        }
    }

    /// Finds the node's machine (cached system id, checked with a read).
    pub(crate) async fn find_machine(
        &self,
        cx: &Cx,
        job: NodeJob<'_>,
    ) -> Result<Option<Machine>, DriverError> {
        let node = job.node;
        if let Some(sid) = self.remembered(&node.name) {
            match self.client.machines().get(&sid).await {
                Ok(m) => return Ok(Some(m)),
                Err(MaasError::NotFound { .. }) => self.forget(&node.name),
                Err(e) => return Err(cx.maas("reading the machine", e)),
            }
        }
        let found = match &node.oob.kind {
            Some(OobType::Ipmi | OobType::Redfish) => {
                let addr = node.oob_address().ok_or_else(|| {
                    cx.permanent(format!(
                        "node {} has no address on its OOB network {:?}",
                        node.name, node.oob.network
                    ))
                })?;
                let all = self
                    .client
                    .machines()
                    .all_power_parameters(&[])
                    .await
                    .cx(cx, "reading power parameters")?;
                let sid = all.into_iter().find_map(|(sid, params)| {
                    let pa = params.get("power_address")?.as_str()?;
                    let (host, port) = split_power_address(pa);
                    let same_host = host.parse::<std::net::IpAddr>().is_ok_and(|h| h == addr)
                        || host == addr.to_string();
                    let same_port = match (port, node.oob.port) {
                        (Some(a), Some(b)) => a == b,
                        _ => true,
                    };
                    (same_host && same_port).then_some(sid)
                });
                match sid {
                    None => None,
                    Some(sid) => Some(
                        self.client
                            .machines()
                            .get(&sid)
                            .await
                            .cx(cx, "reading the machine")?,
                    ),
                }
            }
            _ => {
                let query = match &node.boot_mac {
                    Some(mac) => MachineQuery {
                        mac_address: vec![mac.to_ascii_lowercase()],
                        ..MachineQuery::default()
                    },
                    None => MachineQuery {
                        hostname: vec![node.name.clone()],
                        ..MachineQuery::default()
                    },
                };
                self.client
                    .machines()
                    .list(&query)
                    .await
                    .cx(cx, "looking the machine up")?
                    .into_iter()
                    .next()
            }
        };
        if let Some(m) = &found {
            self.remember(&node.name, &m.system_id);
        }
        Ok(found)
    }

    pub(crate) async fn do_identify(
        &self,
        job: NodeJob<'_>,
    ) -> Result<Identification, DriverError> {
        let node = job.node;
        let cx = Cx::node(Operation::IdentifyNode, &node.name);
        let Some(m) = self.find_machine(&cx, job).await? else {
            return Ok(Identification::Unknown);
        };
        let mut update = MachineUpdate::default();
        if m.hostname != node.name {
            update.hostname = Some(node.name.clone());
        }
        if m.domain.as_ref().is_some_and(|d| d.name != node.domain) {
            let domains = self
                .client
                .domains()
                .list()
                .await
                .cx(&cx, "listing domains")?;
            if !domains.iter().any(|d| d.name == node.domain) {
                self.client
                    .domains()
                    .create(&node.domain, false)
                    .await
                    .cx(&cx, &format!("creating domain {}", node.domain))?;
            }
            update.domain = Some(node.domain.clone());
        }
        let wanted_power = self.wanted_power(&cx, job)?;
        if let Some((ptype, params)) = wanted_power {
            let have = self
                .client
                .machines()
                .power_parameters(&m.system_id)
                .await
                .cx(&cx, "reading power parameters")?;
            let differs = m.power_type != ptype
                || params
                    .iter()
                    .any(|(k, v)| have.get(k).and_then(|x| x.as_str()) != Some(v.as_str()));
            if differs {
                update.power_type = Some(ptype);
                update.power_parameters = params;
            }
        }
        if update != MachineUpdate::default() {
            self.client
                .machines()
                .update(&m.system_id, &update)
                .await
                .cx(&cx, "updating the machine's identity")?;
        }
        Ok(Identification::Known {
            provisioner_id: m.system_id,
        })
    }

    /// Power type and parameters the node's design asks MAAS to use, if any.
    fn wanted_power(
        &self,
        cx: &Cx,
        job: NodeJob<'_>,
    ) -> Result<Option<PowerSettings>, DriverError> {
        let node = job.node;
        let mut params = std::collections::BTreeMap::new();
        match &node.oob.kind {
            Some(OobType::Libvirt) => {
                let uri = node.oob.libvirt_uri.clone().ok_or_else(|| {
                    cx.permanent(format!("libvirt node {} has no libvirt_uri", node.name))
                })?;
                params.insert("power_address".to_owned(), uri);
                params.insert("power_id".to_owned(), node.name.clone());
                Ok(Some(("virsh".to_owned(), params)))
            }
            Some(kind @ (OobType::Ipmi | OobType::Redfish)) if self.config.use_node_oob_params => {
                let Some(addr) = node.oob_address() else {
                    return Ok(None);
                };
                let addr = match node.oob.port {
                    Some(p) if *kind == OobType::Ipmi => format!("{addr}:{p}"),
                    _ => addr.to_string(),
                };
                params.insert("power_address".to_owned(), addr);
                if let Some(a) = &node.oob.account {
                    params.insert("power_user".to_owned(), a.clone());
                }
                if let Some(c) = &node.oob.credential {
                    params.insert("power_pass".to_owned(), c.expose().to_owned());
                }
                let t = if *kind == OobType::Ipmi {
                    "ipmi"
                } else {
                    "redfish"
                };
                Ok(Some((t.to_owned(), params)))
            }
            _ => Ok(None),
        }
    }

    pub(crate) async fn do_commission(&self, job: NodeJob<'_>) -> Result<(), DriverError> {
        let cx = Cx::node(Operation::ConfigureHardware, &job.node.name);
        let m = self.machine_of(&cx, job).await?;
        let sid = m.system_id.clone();
        match m.status {
            S::Ready | S::Allocated | S::Deploying | S::Deployed => return Ok(()),
            S::Commissioning | S::Testing => {}
            S::New | S::Broken | S::FailedCommissioning | S::FailedTesting => {
                let opts = CommissionOptions {
                    skip_bmc_config: self.config.skip_bmc_config,
                    ..CommissionOptions::default()
                };
                let result = self.client.machines().commission(&sid, &opts).await;
                let started = [S::Commissioning, S::Testing, S::Ready];
                self.settle(&cx, &sid, "starting commissioning", result, &started)
                    .await?;
            }
            other => {
                return Err(cx.permanent(format!(
                    "cannot commission machine {sid} in status {}",
                    other.label()
                )));
            }
        }
        self.wait_for(
            &cx,
            &sid,
            Target::Is(S::Ready),
            self.config.commission_deadline,
        )
        .await
        .map(drop)
    }

    /// The raw `op=details` document of a machine.
    async fn details(&self, cx: &Cx, sid: &str) -> Result<Vec<u8>, DriverError> {
        self.client
            .machines()
            .details(sid)
            .await
            .cx(cx, "reading the commissioning details")
    }

    /// The devices of the machine's commissioning data (see [`details_devices`]).
    pub(crate) async fn machine_devices(
        &self,
        cx: &Cx,
        sid: &str,
    ) -> Result<Vec<LshwDevice>, DriverError> {
        let raw = self.details(cx, sid).await?;
        details_devices(&raw).map_err(|e| {
            cx.permanent(format!(
                "the commissioning details of machine {sid} are unreadable: {e}"
            ))
        })
    }

    pub(crate) async fn do_interrogate(
        &self,
        job: NodeJob<'_>,
    ) -> Result<Vec<BuildData>, DriverError> {
        let cx = Cx::node(Operation::InterrogateNode, &job.node.name);
        let m = self.machine_of(&cx, job).await?;
        let raw = self.details(&cx, &m.system_id).await?;
        let fields = parse_details(&raw).map_err(|e| {
            cx.permanent(format!(
                "the commissioning details of machine {} are unreadable: {e}",
                m.system_id
            ))
        })?;
        let mut out: Vec<BuildData> = fields
            .get("lshw")
            .filter(|x| !x.is_empty())
            .map(|x| BuildData {
                generator: "maas:lshw".to_owned(),
                format: "application/xml".to_owned(),
                data: String::from_utf8_lossy(x).into_owned(),
            })
            .into_iter()
            .collect();
        let results = self
            .client
            .commissioning_results(&m.system_id, None)
            .await
            .cx(&cx, "reading commissioning results")?;
        out.extend(
            results
                .iter()
                .filter(|r| matches!(r.result_type, 0 | 2))
                .map(|r| BuildData {
                    generator: format!(
                        "maas:{}:{}",
                        if r.result_type == 2 {
                            "testing"
                        } else {
                            "commissioning"
                        },
                        r.name
                    ),
                    format: "text/plain".to_owned(),
                    data: decode(r),
                }),
        );
        Ok(out)
    }

    pub(crate) async fn do_deploy(&self, job: NodeJob<'_>) -> Result<(), DriverError> {
        let node = job.node;
        let cx = Cx::node(Operation::Deploy, &node.name);
        let m = self.machine_of(&cx, job).await?;
        let sid = m.system_id.clone();
        match m.status {
            S::Deployed => return Ok(()),
            S::Deploying => {}
            S::Ready | S::Allocated => {
                if m.status == S::Ready {
                    let opts = AllocateOptions {
                        system_id: Some(sid.clone()),
                        ..AllocateOptions::default()
                    };
                    let result = self.client.machines().allocate(&opts).await;
                    self.settle(&cx, &sid, "allocating the machine", result, &[S::Allocated])
                        .await?;
                }
                let annotations: std::collections::BTreeMap<String, String> = node
                    .owner_data
                    .iter()
                    .filter(|(k, v)| m.workload_annotations.get(*k) != Some(*v))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                if !annotations.is_empty() {
                    self.client
                        .machines()
                        .set_workload_annotations(&sid, &annotations)
                        .await
                        .cx(&cx, "setting workload annotations")?;
                }
                let user_data = self.user_data(&cx, job).await?;
                let mut opts = DeployOptions {
                    user_data: user_data.as_ref().map(|u| u.to_string()),
                    distro_series: node.platform.image.clone(),
                    hwe_kernel: node.platform.kernel.clone(),
                    comment: Some("Deployed by Drydock".to_owned()),
                };
                let result = self.client.machines().deploy(&sid, &opts).await;
                if let Some(u) = opts.user_data.as_mut() {
                    u.zeroize();
                }
                let started = [S::Deploying, S::Deployed];
                self.settle(&cx, &sid, "starting deployment", result, &started)
                    .await?;
            }
            S::FailedDeployment => {
                return Err(cx.permanent(format!(
                    "deployment failed earlier; {}",
                    self.failure_reason(&m).await
                )));
            }
            other => {
                return Err(cx.permanent(format!(
                    "cannot deploy machine {sid} in status {}",
                    other.label()
                )));
            }
        }
        self.wait_for(
            &cx,
            &sid,
            Target::Is(S::Deployed),
            self.config.deploy_deadline,
        )
        .await
        .map(drop)
    }

    /// The base64 cloud-init user data of the node's deployment (see [`super::userdata`]):
    /// its packages and its boot action identity, from the records the job carries (the
    /// orchestrator makes them before Deploy) or else, with [`MaasDriver::with_bootactions`],
    /// from those of the node's latest deployment task.
    async fn user_data(
        &self,
        cx: &Cx,
        job: NodeJob<'_>,
    ) -> Result<Option<Zeroizing<String>>, DriverError> {
        let node = job.node;
        if actions_for_node(job.design, &node.name).is_empty() {
            return Ok(None);
        }
        let report_url = job
            .bootactions
            .map_or(self.config.bootaction_report_url.as_str(), |b| b.report_url);
        let mut records = match (job.bootactions, &self.bootactions) {
            (Some(given), _) => given.records.to_vec(),
            (None, None) => Vec::new(),
            (None, Some(actions)) => actions.records_for_node(&node.name).await.map_err(|e| {
                let kind = if e.kind == StoreErrorKind::Unavailable {
                    DriverErrorKind::Transient
                } else {
                    DriverErrorKind::Permanent
                };
                cx.error(kind, format!("reading the node's boot action records: {e}"))
            })?,
        };
        if let Some(latest) = records.last().map(|r| r.task) {
            records.retain(|r| r.task == latest);
        } else if job.bootactions.is_some() || self.bootactions.is_some() {
            tracing::warn!(node = %node.name, "no boot action records: the deployment ships no boot action key");
        }
        let design_ref = records.first().map_or("", |r| r.design.0.as_str());
        let packages = node_package_list(
            job.design,
            node,
            design_ref,
            report_url,
            self.resolver.as_deref(),
        )
        .map_err(|e| cx.permanent(format!("package lists: {e}")))?;
        let identity = BootActionIdentity::from_records(&records, report_url);
        Ok(cloud_config(&packages, identity.as_ref())
            .map(|doc| Zeroizing::new(STANDARD.encode(doc.as_bytes()))))
    }

    pub(crate) async fn do_destroy(&self, job: NodeJob<'_>) -> Result<(), DriverError> {
        let node = job.node;
        let cx = Cx::node(Operation::Destroy, &node.name);
        let Some(m) = self.find_machine(&cx, job).await? else {
            return Ok(());
        };
        let sid = m.system_id.clone();
        const RELEASED: &[S] = &[S::Ready, S::New];
        match m.status {
            s if RELEASABLE.contains(&s) => {
                let opts = ReleaseOptions {
                    erase: self.config.erase_on_destroy,
                    quick_erase: self.config.erase_on_destroy,
                    comment: Some("Destroyed by Drydock".to_owned()),
                    ..ReleaseOptions::default()
                };
                let result = self.client.machines().release(&sid, &opts).await;
                let started = [S::Releasing, S::DiskErasing, S::Ready, S::New];
                self.settle(&cx, &sid, "releasing the machine", result, &started)
                    .await?;
                self.wait_for(
                    &cx,
                    &sid,
                    Target::AnyOf(RELEASED),
                    self.config.destroy_deadline,
                )
                .await?;
            }
            S::Releasing | S::DiskErasing => {
                self.wait_for(
                    &cx,
                    &sid,
                    Target::AnyOf(RELEASED),
                    self.config.destroy_deadline,
                )
                .await?;
            }
            _ => {}
        }
        match self.client.machines().delete(&sid).await {
            Ok(()) | Err(MaasError::NotFound { .. }) => {}
            Err(e) => return Err(cx.maas("deleting the machine", e)),
        }
        self.forget(&node.name);
        let tag = super::config::kernel_tag(&node.name);
        match self.client.tags().delete(&tag).await {
            Ok(()) | Err(MaasError::NotFound { .. }) => Ok(()),
            Err(e) if e.is_retryable() => Err(cx.maas("deleting the kernel parameter tag", e)),
            Err(e) => Err(cx.error(
                DriverErrorKind::Permanent,
                format!("deleting tag {tag}: {e}"),
            )),
        }
    }
}
