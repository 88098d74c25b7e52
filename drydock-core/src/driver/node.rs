//! Node (provisioner) drivers: commission, configure and deploy nodes.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{Capabilities, DriverError};
use crate::bootaction::BootActionRecord;
use crate::design::{CompiledDesign, CompiledNode};

pub use crate::validation::PlatformCatalog;

/// A site-wide job: the compiled design.
#[derive(Clone, Copy, Debug)]
pub struct SiteJob<'a> {
    /// The design.
    pub design: &'a CompiledDesign,
}

/// A job on one node: the node's compiled design and the design it belongs to (for its
/// networks, links and racks), and, for Deploy, what the node needs to report its boot actions.
///
/// ```
/// # use drydock_core::design::{compile, ingest_sources, Source};
/// # use drydock_core::driver::NodeJob;
/// let text = "schema: drydock/Network/v1\nmetadata: {name: oob}\ndata: {cidr: 10.0.0.0/8}\n\
///     ---\nschema: drydock/BaremetalNode/v1\nmetadata: {name: n01}\n\
///     data: {addressing: [{network: oob, address: 10.0.0.1}]}\n";
/// let design = compile(ingest_sources(&[Source::new("site.yaml", text)]).unwrap()).unwrap();
/// let job = NodeJob::new(design.node("n01").unwrap(), &design);
/// assert_eq!(job.node.name, "n01");
/// assert!(job.bootactions.is_none());
/// ```
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct NodeJob<'a> {
    /// The node.
    pub node: &'a CompiledNode,
    /// The whole design.
    pub design: &'a CompiledDesign,
    /// With Deploy, when boot actions target the node: the node's records for this deployment
    /// (action ids, and the identity key the node proves itself with) and where it reports.
    /// A provisioner ships them to the node; `None` for other operations.
    pub bootactions: Option<DeployBootActions<'a>>,
}

impl<'a> NodeJob<'a> {
    /// A job on `node` of `design`.
    pub fn new(node: &'a CompiledNode, design: &'a CompiledDesign) -> Self {
        NodeJob {
            node,
            design,
            bootactions: None,
        }
    }

    /// The job carrying the node's boot action records for its deployment.
    pub fn with_bootactions(mut self, bootactions: DeployBootActions<'a>) -> Self {
        self.bootactions = Some(bootactions);
        self
    }
}

/// A deployment's boot actions, as the node needs them: made by the orchestrator before the
/// Deploy step. `Debug` does not show the key.
#[derive(Clone, Copy, Debug)]
pub struct DeployBootActions<'a> {
    /// The node's records for this deployment (one per boot action, sharing one key).
    pub records: &'a [BootActionRecord],
    /// Where the node reports its boot actions (the orchestrator's
    /// `bootaction_report_url`).
    pub report_url: &'a str,
}

/// Whether the provisioner knows a node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Identification {
    /// Known, under this provisioner id.
    Known {
        /// The provisioner's id of the node.
        provisioner_id: String,
    },
    /// Not (yet) known: it must be PXE booted to enlist.
    Unknown,
}

/// Facts a driver collected about a node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildData {
    /// Which driver/tool produced it (`maas:commissioning:lshw`).
    pub generator: String,
    /// Format of `data` (`text/plain`, `application/json`).
    pub format: String,
    /// The facts.
    pub data: String,
}

/// A node driver: the provisioner that commissions and deploys nodes (MAAS).
///
/// Every per-node method must be idempotent: a node already in the target state is a success
/// without changing anything, so a resumed task is safe. Waits (commissioning, deployment) are
/// bounded by the orchestrator's step timeouts, which cancel the returned future.
#[async_trait]
pub trait NodeDriver: Send + Sync + std::fmt::Debug {
    /// The driver's name (`maas`).
    fn name(&self) -> &'static str;
    /// What the driver can do.
    fn capabilities(&self) -> Capabilities;
    /// Checks that the provisioner is reachable, authenticated and healthy.
    async fn validate_services(&self) -> Result<(), DriverError>;
    /// Lists the images and kernels the provisioner offers.
    async fn available_platforms(&self) -> Result<PlatformCatalog, DriverError>;
    /// Creates the design's networks (fabrics, VLANs, subnets, ranges, routes) in the provisioner.
    async fn create_network_template(&self, job: SiteJob<'_>) -> Result<(), DriverError>;
    /// Installs the site's authorized SSH keys.
    async fn configure_user_credentials(&self, job: SiteJob<'_>) -> Result<(), DriverError>;
    /// Configures the site's package repositories.
    async fn configure_provisioner(&self, job: SiteJob<'_>) -> Result<(), DriverError>;
    /// Finds the node in the provisioner.
    async fn identify_node(&self, job: NodeJob<'_>) -> Result<Identification, DriverError>;
    /// Commissions the node and waits until it is ready.
    async fn configure_hardware(&self, job: NodeJob<'_>) -> Result<(), DriverError>;
    /// Reads what the provisioner learned of the node.
    async fn interrogate_node(&self, job: NodeJob<'_>) -> Result<Vec<BuildData>, DriverError>;
    /// Configures the node's interfaces, bonds, VLANs and addresses.
    async fn apply_networking(&self, job: NodeJob<'_>) -> Result<(), DriverError>;
    /// Configures the node's partitions, volume groups, volumes and filesystems.
    async fn apply_storage(&self, job: NodeJob<'_>) -> Result<(), DriverError>;
    /// Sets the node's image, kernel, kernel parameters and tags.
    async fn apply_platform(&self, job: NodeJob<'_>) -> Result<(), DriverError>;
    /// Deploys the node and waits until it is deployed. When boot actions target the node,
    /// `job.bootactions` holds its records and key for this deployment: ship them to the node
    /// over a channel only the node can read (never in logs, errors or shared labels).
    async fn deploy(&self, job: NodeJob<'_>) -> Result<(), DriverError>;
    /// Releases and removes the node.
    async fn destroy(&self, job: NodeJob<'_>) -> Result<(), DriverError>;
}
