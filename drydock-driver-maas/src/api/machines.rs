//! `machines/`: lookup, lifecycle operations, power parameters.

use std::collections::BTreeMap;

use super::opt_params;
use crate::models::{CommissioningResult, Machine, Version};
use crate::{MaasClient, Params, Result};

/// Filters of `GET machines/` (each list is sent as repeated keys; empty means no filter).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MachineQuery {
    /// Host names.
    pub hostname: Vec<String>,
    /// MAC addresses.
    pub mac_address: Vec<String>,
    /// System ids.
    pub id: Vec<String>,
}

impl MachineQuery {
    fn params(&self) -> Params {
        Params::new()
            .with_list("hostname", &self.hostname)
            .with_list("mac_address", &self.mac_address)
            .with_list("id", &self.id)
    }
}

/// Fields of `PUT machines/{system_id}/`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MachineUpdate {
    /// New host name.
    pub hostname: Option<String>,
    /// Domain name.
    pub domain: Option<String>,
    /// Power driver.
    pub power_type: Option<String>,
    /// Power parameters, sent as `power_parameters_<key>`.
    pub power_parameters: BTreeMap<String, String>,
}

/// Options of `op=commission` (ints `0`/`1` on the wire).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommissionOptions {
    /// Keep SSH enabled in the ephemeral environment.
    pub enable_ssh: bool,
    /// Do not configure the BMC (MAAS ≥ 2.7).
    pub skip_bmc_config: bool,
    /// Keep the current network configuration.
    pub skip_networking: bool,
    /// Keep the current storage configuration.
    pub skip_storage: bool,
}

/// Options of `machines/?op=allocate`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllocateOptions {
    /// Allocate exactly this machine.
    pub system_id: Option<String>,
    /// Allocate by host name.
    pub name: Option<String>,
    /// Required tags.
    pub tags: Vec<String>,
    /// Zone.
    pub zone: Option<String>,
    /// Comment.
    pub comment: Option<String>,
}

/// Options of `op=deploy`.
///
/// `Debug` shows the size of `user_data`, not its contents: it can hold secrets (a node's boot
/// action key).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct DeployOptions {
    /// Base64-encoded cloud-init user data.
    pub user_data: Option<String>,
    /// Release (`jammy`, `ubuntu/jammy`).
    pub distro_series: Option<String>,
    /// Kernel (`ga-22.04`, `hwe-22.04`).
    pub hwe_kernel: Option<String>,
    /// Comment.
    pub comment: Option<String>,
}

impl std::fmt::Debug for DeployOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let user_data = self
            .user_data
            .as_ref()
            .map(|u| format!("<{} bytes, redacted>", u.len()));
        f.debug_struct("DeployOptions")
            .field("user_data", &user_data)
            .field("distro_series", &self.distro_series)
            .field("hwe_kernel", &self.hwe_kernel)
            .field("comment", &self.comment)
            .finish()
    }
}

/// Options of `op=release`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReleaseOptions {
    /// Erase disks.
    pub erase: bool,
    /// Use secure erase.
    pub secure_erase: bool,
    /// Quick erase (first and last MB).
    pub quick_erase: bool,
    /// Force release of a machine in a non-releasable state.
    pub force: bool,
    /// Comment.
    pub comment: Option<String>,
}

/// Options of `op=set_storage_layout`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StorageLayoutOptions {
    /// `flat`, `lvm`, `bcache`, `blank`, …
    pub storage_layout: String,
    /// Block device id of the root disk.
    pub root_device: Option<i64>,
    /// Root size.
    pub root_size: Option<String>,
    /// Boot partition size.
    pub boot_size: Option<String>,
    /// Volume group name (lvm).
    pub vg_name: Option<String>,
    /// Logical volume name (lvm).
    pub lv_name: Option<String>,
    /// Logical volume size (lvm).
    pub lv_size: Option<String>,
}

/// View of `machines/`.
#[derive(Debug, Clone, Copy)]
pub struct Machines<'a> {
    pub(crate) client: &'a MaasClient,
}

fn path(system_id: &str) -> String {
    format!("machines/{system_id}/")
}

fn bit(b: bool) -> &'static str {
    if b { "1" } else { "0" }
}

impl Machines<'_> {
    /// `GET machines/` with filters.
    pub async fn list(&self, query: &MachineQuery) -> Result<Vec<Machine>> {
        self.client.get("machines/", None, &query.params()).await
    }

    /// `GET machines/{system_id}/`.
    pub async fn get(&self, system_id: &str) -> Result<Machine> {
        self.client
            .get(&path(system_id), None, &Params::new())
            .await
    }

    /// `PUT machines/{system_id}/`.
    pub async fn update(&self, system_id: &str, update: &MachineUpdate) -> Result<Machine> {
        let mut p = opt_params(
            Params::new(),
            &[
                ("hostname", update.hostname.clone()),
                ("domain", update.domain.clone()),
                ("power_type", update.power_type.clone()),
            ],
        );
        for (k, v) in &update.power_parameters {
            p.push(format!("power_parameters_{k}"), v);
        }
        self.client.put(&path(system_id), &p).await
    }

    /// `DELETE machines/{system_id}/`.
    pub async fn delete(&self, system_id: &str) -> Result<()> {
        self.client.delete(&path(system_id), &Params::new()).await
    }

    /// `GET machines/{system_id}/?op=power_parameters` (secrets in clear; admin only).
    pub async fn power_parameters(
        &self,
        system_id: &str,
    ) -> Result<BTreeMap<String, serde_json::Value>> {
        let p = Params::new();
        self.client
            .get(&path(system_id), Some("power_parameters"), &p)
            .await
    }

    /// `GET machines/?op=power_parameters` for `ids` (all machines when empty).
    pub async fn all_power_parameters(
        &self,
        ids: &[String],
    ) -> Result<BTreeMap<String, BTreeMap<String, serde_json::Value>>> {
        let p = Params::new().with_list("id", ids);
        self.client
            .get("machines/", Some("power_parameters"), &p)
            .await
    }

    /// `POST machines/{system_id}/?op=commission`: the answer shows `Commissioning`.
    pub async fn commission(&self, system_id: &str, opts: &CommissionOptions) -> Result<Machine> {
        let p = Params::new()
            .with("enable_ssh", bit(opts.enable_ssh))
            .with("skip_bmc_config", bit(opts.skip_bmc_config))
            .with("skip_networking", bit(opts.skip_networking))
            .with("skip_storage", bit(opts.skip_storage));
        self.client
            .post(&path(system_id), Some("commission"), &p)
            .await
    }

    /// `POST machines/?op=allocate`: Ready ⇒ Allocated. Not idempotent: after an ambiguous
    /// failure, re-read the machine instead of retrying.
    pub async fn allocate(&self, opts: &AllocateOptions) -> Result<Machine> {
        let p = opt_params(
            Params::new(),
            &[
                ("system_id", opts.system_id.clone()),
                ("name", opts.name.clone()),
                ("zone", opts.zone.clone()),
                ("comment", opts.comment.clone()),
            ],
        )
        .with_list("tags", &opts.tags);
        self.client.post("machines/", Some("allocate"), &p).await
    }

    /// `POST machines/{system_id}/?op=deploy`: the answer shows `Deploying`.
    pub async fn deploy(&self, system_id: &str, opts: &DeployOptions) -> Result<Machine> {
        let p = opt_params(
            Params::new(),
            &[
                ("user_data", opts.user_data.clone()),
                ("distro_series", opts.distro_series.clone()),
                ("hwe_kernel", opts.hwe_kernel.clone()),
                ("comment", opts.comment.clone()),
            ],
        );
        self.client.post(&path(system_id), Some("deploy"), &p).await
    }

    /// `POST machines/{system_id}/?op=release`.
    pub async fn release(&self, system_id: &str, opts: &ReleaseOptions) -> Result<Machine> {
        let mut p = Params::new()
            .with_bool("erase", opts.erase)
            .with_bool("secure_erase", opts.secure_erase)
            .with_bool("quick_erase", opts.quick_erase);
        if opts.force {
            p.push("force", "true");
        }
        let p = p.with_opt("comment", opts.comment.as_deref());
        self.client
            .post(&path(system_id), Some("release"), &p)
            .await
    }

    /// `POST machines/{system_id}/?op=restore_networking_configuration` (Ready or Failed
    /// testing only).
    pub async fn restore_networking_configuration(&self, system_id: &str) -> Result<Machine> {
        let p = Params::new();
        let op = Some("restore_networking_configuration");
        self.client.post(&path(system_id), op, &p).await
    }

    /// `POST machines/{system_id}/?op=set_storage_layout` (Ready only).
    pub async fn set_storage_layout(
        &self,
        system_id: &str,
        opts: &StorageLayoutOptions,
    ) -> Result<Machine> {
        let p = opt_params(
            Params::new().with("storage_layout", &opts.storage_layout),
            &[
                ("root_device", opts.root_device.map(|d| d.to_string())),
                ("root_size", opts.root_size.clone()),
                ("boot_size", opts.boot_size.clone()),
                ("vg_name", opts.vg_name.clone()),
                ("lv_name", opts.lv_name.clone()),
                ("lv_size", opts.lv_size.clone()),
            ],
        );
        self.client
            .post(&path(system_id), Some("set_storage_layout"), &p)
            .await
    }

    /// `POST machines/{system_id}/?op=set_workload_annotations` (`key=value`; empty value
    /// deletes). The machine must be allocated to the caller.
    pub async fn set_workload_annotations(
        &self,
        system_id: &str,
        annotations: &BTreeMap<String, String>,
    ) -> Result<()> {
        let p: Params = annotations.iter().map(|(k, v)| (k.clone(), v)).collect();
        let op = Some("set_workload_annotations");
        self.client.post_no_content(&path(system_id), op, &p).await
    }

    /// `GET machines/{system_id}/?op=details`: the raw BSON document.
    pub async fn details(&self, system_id: &str) -> Result<Vec<u8>> {
        let resp = self
            .client
            .request(
                reqwest::Method::GET,
                &path(system_id),
                Some("details"),
                &Params::new(),
            )
            .await?;
        Ok(resp.body)
    }
}

impl MaasClient {
    /// View of `machines/`.
    pub fn machines(&self) -> Machines<'_> {
        Machines { client: self }
    }

    /// `GET version/` (anonymous).
    pub async fn version(&self) -> Result<Version> {
        self.get("version/", None, &Params::new()).await
    }

    /// `GET account/?op=list_authorisation_tokens`: proves the key is accepted; returns how
    /// many tokens the user has (the tokens themselves are secrets and are not returned).
    pub async fn check_authentication(&self) -> Result<usize> {
        let tokens: Vec<serde_json::Value> = self
            .get(
                "account/",
                Some("list_authorisation_tokens"),
                &Params::new(),
            )
            .await?;
        Ok(tokens.len())
    }

    /// `GET commissioning-results/?system_id=…&result_type=…` (filters in the query string).
    pub async fn commissioning_results(
        &self,
        system_id: &str,
        result_type: Option<i64>,
    ) -> Result<Vec<CommissioningResult>> {
        let p = Params::new()
            .with("system_id", system_id)
            .with_opt("result_type", result_type);
        self.get("commissioning-results/", None, &p).await
    }
}
