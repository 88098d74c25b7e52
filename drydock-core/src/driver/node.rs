//! Node (provisioner) drivers: commission, configure and deploy nodes.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use super::{Capabilities, DriverError};
use crate::design::{CompiledDesign, CompiledNode};

/// The images and kernels a provisioner offers: image → kernels.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlatformCatalog {
    /// Kernels by image.
    pub images: BTreeMap<String, Vec<String>>,
}

/// A site-wide job: the compiled design.
#[derive(Clone, Copy, Debug)]
pub struct SiteJob<'a> {
    /// The design.
    pub design: &'a CompiledDesign,
}

/// A job on one node: the node's compiled design and the design it belongs to (for its
/// networks, links and racks).
#[derive(Clone, Copy, Debug)]
pub struct NodeJob<'a> {
    /// The node.
    pub node: &'a CompiledNode,
    /// The whole design.
    pub design: &'a CompiledDesign,
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
    /// Deploys the node and waits until it is deployed.
    async fn deploy(&self, job: NodeJob<'_>) -> Result<(), DriverError>;
    /// Releases and removes the node.
    async fn destroy(&self, job: NodeJob<'_>) -> Result<(), DriverError>;
}
